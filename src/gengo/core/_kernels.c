/* The C side of gengo.core: counter-based draws (rand.py) and host-independent float math
 * (fmath.py), each in one pass over an array.
 *
 * Draws.
 * NumPy computes SplitMix64's finaliser as about a dozen whole-array passes (a cast, a multiply,
 * an add, three shift-and-xor pairs, two multiplies), each reading and writing every row's word;
 * here each row's word is computed in registers and stored once. The values are exactly those of
 * the NumPy expressions in rand.py, which stay the reference and the fallback:
 * tests/core/test_rand.py compares the two. Each takes the stream key, a buffer of int64 (or
 * uint64) row indices and a writable buffer of as many 8-byte items for the result.
 *
 * Float math. exp, log, log1p, expm1 and pow built from IEEE additions, multiplications and
 * divisions only, in a fixed order (compiled with -ffp-contract=off: no fused multiply-add), so
 * every host computes the same bits. NumPy's own exp/log/pow do not: they dispatch on the CPU
 * (AVX-512 hosts take SIMD/SVML versions, others the C library's), and the last bit of a price
 * or a duration then depended on the machine. fmath.py evaluates the same formulas with NumPy
 * operations when this module is absent; tests/core/test_fmath.py checks both agree bit for bit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Inlined into the loops over rows, so that rows overlap in the CPU (a call per row did not). */
#define INLINE inline __attribute__((always_inline))

static const uint64_t GOLDEN = 0x9E3779B97F4A7C15ULL;

static inline uint64_t mix(uint64_t key, uint64_t i) {
    uint64_t z = i * GOLDEN + key;
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z;
}

/* The top 53 bits, as a signed integer (one conversion instruction), times 2**-53. */
static inline double unit(uint64_t z) { return (double)(int64_t)(z >> 11) * (1.0 / 9007199254740992.0); }

/* Parses (key, idx, out, ...) and checks that idx and out hold the same number of 8-byte items. */
static int buffers(PyObject *args, const char *fmt, unsigned long long *key, Py_buffer *idx, Py_buffer *out,
                   void *a, void *b) {
    if (!PyArg_ParseTuple(args, fmt, key, idx, out, a, b)) return 0;
    if (idx->itemsize != 8 || out->itemsize != 8 || idx->len != out->len || !PyBuffer_IsContiguous(idx, 'C') ||
        !PyBuffer_IsContiguous(out, 'C')) {
        PyBuffer_Release(idx);
        PyBuffer_Release(out);
        PyErr_SetString(PyExc_ValueError, "_kernels: idx and out must be contiguous buffers of as many 8-byte items");
        return 0;
    }
    return 1;
}

static PyObject *done(Py_buffer *idx, Py_buffer *out) {
    PyBuffer_Release(idx);
    PyBuffer_Release(out);
    Py_RETURN_NONE;
}

/* bits and uniform: (key, idx, out), out[r] = EXPR of the row's word z. */
#define DRAW(NAME, T, EXPR)                                                   \
    static PyObject *NAME(PyObject *self, PyObject *args) {                   \
        unsigned long long key;                                               \
        Py_buffer idx, out;                                                   \
        if (!buffers(args, "Ky*w*", &key, &idx, &out, NULL, NULL)) return NULL; \
        const uint64_t *in = idx.buf;                                         \
        T *o = out.buf;                                                       \
        Py_ssize_t n = idx.len / 8;                                           \
        Py_BEGIN_ALLOW_THREADS for (Py_ssize_t r = 0; r < n; r++) {           \
            uint64_t z = mix(key, in[r]);                                     \
            o[r] = EXPR;                                                      \
        }                                                                     \
        Py_END_ALLOW_THREADS return done(&idx, &out);                         \
    }

DRAW(bits, uint64_t, z)
DRAW(uniform, double, unit(z))

/* floor(uniform * span), at most span - 1, plus low: rand.integers's NumPy expression. */
static PyObject *integers(PyObject *self, PyObject *args) {
    unsigned long long key;
    Py_buffer idx, out;
    long long low, span;
    if (!buffers(args, "Ky*w*LL", &key, &idx, &out, &low, &span)) return NULL;
    const uint64_t *in = idx.buf;
    int64_t *o = out.buf;
    Py_ssize_t n = idx.len / 8;
    const double s = (double)span;
    const int64_t top = span - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) {
        int64_t v = (int64_t)(unit(mix(key, in[r])) * s); /* >= 0: truncation is floor */
        o[r] = (v < top ? v : top) + low;
    }
    Py_END_ALLOW_THREADS
    return done(&idx, &out);
}

/* ---- float math ------------------------------------------------------------------------ */

static const double LN2_HI = 6.93147180369123816490e-01; /* ln 2 to 32 bits: k * LN2_HI is exact */
static const double LN2_LO = 1.90821492927058770002e-10; /* ln 2 - LN2_HI */
static const double INV_LN2 = 1.44269504088896338700e+00;
static const double SQRT_HALF = 0.70710678118654752440;
static const double EXP_MAX = 709.782712893384;   /* above: +inf */
static const double EXP_MIN = -745.1332191019412; /* below: 0 */
static const double ROUND = 6755399441055744.0; /* 1.5 * 2**52: adding and subtracting it rounds to even, as rint */
enum { LOG_TERMS = 12, EXP_TERMS = 14 };
static double LOG_C[LOG_TERMS]; /* 1 / (2k + 1): log(1+f) = 2 s (1 + s^2/3 + s^4/5 + ...), s = f/(2+f) */
static double EXP_C[EXP_TERMS]; /* 1 / k! */

static void init_fmath(void) {
    for (int k = 0; k < LOG_TERMS; k++) LOG_C[k] = 1.0 / (double)(2 * k + 1);
    EXP_C[0] = 1.0;
    for (int k = 1; k < EXP_TERMS; k++) EXP_C[k] = EXP_C[k - 1] / (double)k;
}

/* Polynomials by Estrin's scheme: the same roundings in C and in fmath.py's NumPy, and a
 * dependency chain of 4 to 5 multiply-adds instead of Horner's 11 to 13 (the loops over rows
 * then overlap in the CPU). */
static inline double log_poly(double z) {
    const double *c = LOG_C; /* 12 terms */
    double z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
    double a0 = c[0] + c[1] * z, a1 = c[2] + c[3] * z, a2 = c[4] + c[5] * z;
    double a3 = c[6] + c[7] * z, a4 = c[8] + c[9] * z, a5 = c[10] + c[11] * z;
    double b0 = a0 + a1 * z2, b1 = a2 + a3 * z2, b2 = a4 + a5 * z2;
    return (b0 + b1 * z4) + b2 * z8;
}

static inline double exp_poly(double r) {
    const double *c = EXP_C; /* 14 terms */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = c[0] + c[1] * r, a1 = c[2] + c[3] * r, a2 = c[4] + c[5] * r, a3 = c[6] + c[7] * r;
    double a4 = c[8] + c[9] * r, a5 = c[10] + c[11] * r, a6 = c[12] + c[13] * r;
    double b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2, b3 = a6;
    return (b0 + b1 * r4) + (b2 + b3 * r4) * r8;
}

static inline uint64_t bits_of(double x) {
    uint64_t b;
    memcpy(&b, &x, 8);
    return b;
}

static inline double of_bits(uint64_t b) {
    double x;
    memcpy(&x, &b, 8);
    return x;
}

/* Each function below is branch-free (special cases are selected, not branched to), so the
 * compiler turns the loops over rows into vector code (SSE2, and AVX2 where the CPU has it).
 * Vector lanes compute exactly what the scalar code does: the same IEEE operations in the
 * same order, each rounded alike. */
static INLINE double f_log(double x) {
    int sub = x < 2.2250738585072014e-308; /* subnormal (or zero, or negative): scaled by 2**54, exact */
    double xs = sub ? x * 18014398509481984.0 : x;
    uint64_t b = bits_of(xs);
    int e = (int)((b >> 52) & 0x7FF) - 1022 - (sub ? 54 : 0); /* x = m 2^e, m in [1/2, 1) */
    double m = of_bits((b & 0x000FFFFFFFFFFFFFULL) | 0x3FE0000000000000ULL);
    int low = m < SQRT_HALF;
    m = low ? m * 2.0 : m;
    e -= low;
    double f = m - 1.0, s = f / (2.0 + f), p = log_poly(s * s), de = (double)e;
    double y = de * LN2_HI + ((2.0 * s) * p + de * LN2_LO);
    y = x == INFINITY ? x : y;
    y = x == 0.0 ? -INFINITY : y;
    return (x != x || x < 0.0) ? NAN : y;
}

static INLINE double f_exp(double x) {
    double xc = x > EXP_MAX ? EXP_MAX : (x < EXP_MIN ? EXP_MIN : x);
    double t = xc * INV_LN2 + ROUND, k = t - ROUND; /* k = rint(x / ln 2), also as an integer: */
    int64_t n = (int64_t)(bits_of(t) - bits_of(ROUND));
    int64_t half = (int64_t)(bits_of(k * 0.5 + ROUND) - bits_of(ROUND)), rest = n - half;
    double r = (xc - k * LN2_HI) - k * LN2_LO, p = exp_poly(r);
    /* p 2^n as (p 2^half) 2^rest: both factors normal, the first product exact, so the one
     * rounding (into subnormals, or overflow) is ldexp's */
    double y = (p * of_bits((uint64_t)(half + 1023) << 52)) * of_bits((uint64_t)(rest + 1023) << 52);
    y = x > EXP_MAX ? INFINITY : y;
    y = x < EXP_MIN ? 0.0 : y;
    return x != x ? x : y;
}

static INLINE double f_log1p(double x) {
    double u = 1.0 + x, y = f_log(u) * (x / (u - 1.0)); /* the rounding of 1 + x cancels out */
    y = u == INFINITY ? u : y;
    return u == 1.0 ? x : y;
}

/* expm1 from x and u = exp(x): its loops run as two passes (exp, then this), each of which
 * the compiler vectorizes; one pass holding both it did not. */
static INLINE double expm1_of(double x, double u) {
    double um1 = u - 1.0, y = um1 * (x / f_log(u));
    y = (u == INFINITY || um1 == -1.0) ? um1 : y;
    y = u == 1.0 ? x : y;
    return (x > 1.0 || x < -1.0 || x != x) ? um1 : y; /* beyond 1: no cancellation to undo */
}


enum { POW_SQUARING = 1024 }; /* whole exponents up to this: repeated squaring, exact where representable */

/* rint(y) == y without a call to rint (not inlined without SSE4.1); |y| >= 2**51 is whole. */
static inline int whole(double y) {
    return fabs(y) >= 2251799813685248.0 || (y + ROUND) - ROUND == y;
}

static INLINE double f_pow(double x, double y) {
    if (y == 0.0 || x == 1.0) return 1.0;
    if (x != x || y != y) return NAN;
    int w = whole(y);
    if (x < 0.0 && !w) return NAN; /* a negative base has real powers for whole exponents only */
    double ax = fabs(x), r;
    if (w && fabs(y) <= POW_SQUARING) {
        double b = ax;
        long long k = (long long)fabs(y);
        r = 1.0;
        while (k) {
            if (k & 1) r = r * b;
            k >>= 1;
            b = b * b;
        }
        if (y < 0.0) r = 1.0 / r;
    } else if (ax == 0.0) {
        r = y > 0.0 ? 0.0 : INFINITY;
    } else {
        r = f_exp(y * f_log(ax));
    }
    return x < 0.0 && !whole(y * 0.5) ? -r : r; /* odd exponents keep the sign */
}

/* (in, out) buffers of as many float64 (or (x, y, out) for pow). */
static int float_buffers(Py_buffer *a, Py_buffer *b, Py_buffer *out, int two) {
    Py_buffer *all[] = {a, two ? b : NULL, out};
    for (int i = 0; i < 3; i++) {
        if (all[i] == NULL) continue;
        if (all[i]->itemsize != 8 || all[i]->len != a->len || !PyBuffer_IsContiguous(all[i], 'C')) {
            PyBuffer_Release(a);
            if (two) PyBuffer_Release(b);
            PyBuffer_Release(out);
            PyErr_SetString(PyExc_ValueError, "_kernels: contiguous float64 buffers of one length expected");
            return 0;
        }
    }
    return 1;
}

/* The loops, twice on x86-64: for the baseline (SSE2) and for AVX2, chosen once by the CPU
 * (GENGO_C_SIMD=0 keeps the baseline; both give the same bits, tests/core/test_fmath.py). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_CLONE 1
#define LOOPS(NAME, FN)                                                                                    \
    static void NAME##_base(const double *restrict x, double *restrict o, Py_ssize_t n) {                  \
        for (Py_ssize_t r = 0; r < n; r++) o[r] = FN(x[r]);                                                \
    }                                                                                                      \
    __attribute__((target("avx2"))) static void NAME##_avx2(const double *restrict x, double *restrict o, \
                                                            Py_ssize_t n) {                                \
        for (Py_ssize_t r = 0; r < n; r++) o[r] = FN(x[r]);                                                \
    }
#else
#define LOOPS(NAME, FN)                                                                   \
    static void NAME##_base(const double *restrict x, double *restrict o, Py_ssize_t n) { \
        for (Py_ssize_t r = 0; r < n; r++) o[r] = FN(x[r]);                               \
    }
#endif

/* pow's common case (a positive base, a fractional exponent) as a vector loop; the rest of the
 * rows are redone one by one by f_pow (whole exponents, zeros, negatives, NaN). */
static INLINE double pow_general(double x, double y) { return f_exp(y * f_log(x)); }
#define POW_LOOPS(NAME, TARGET)                                                                                \
    TARGET static void NAME(const double *restrict x, const double *restrict y, double *restrict o, Py_ssize_t n) { \
        for (Py_ssize_t r = 0; r < n; r++) o[r] = pow_general(x[r], y[r]);                                    \
    }

LOOPS(exp_loop, f_exp)
LOOPS(log_loop, f_log)
LOOPS(log1p_loop, f_log1p)
#define EXPM1_LOOP(NAME, TARGET)                                                          \
    TARGET static void NAME(const double *restrict x, double *restrict o, Py_ssize_t n) { \
        for (Py_ssize_t r = 0; r < n; r++) o[r] = f_exp(x[r]);                            \
        for (Py_ssize_t r = 0; r < n; r++) o[r] = expm1_of(x[r], o[r]);                   \
    }
EXPM1_LOOP(expm1_loop_base, )
#ifdef HAVE_AVX2_CLONE
EXPM1_LOOP(expm1_loop_avx2, __attribute__((target("avx2"))))
#endif
POW_LOOPS(pow_loop_base, )
#ifdef HAVE_AVX2_CLONE
POW_LOOPS(pow_loop_avx2, __attribute__((target("avx2"))))
#endif

typedef void (*unary_loop)(const double *restrict, double *restrict, Py_ssize_t);
static int use_avx2 = 0;

static void init_simd(void) {
#ifdef HAVE_AVX2_CLONE
    const char *env = getenv("GENGO_C_SIMD");
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") && !(env && env[0] == '0');
#endif
}

static PyObject *unary(PyObject *args, unary_loop base, unary_loop avx2) {
    Py_buffer in, out;
    if (!PyArg_ParseTuple(args, "y*w*", &in, &out)) return NULL;
    if (!float_buffers(&in, NULL, &out, 0)) return NULL;
    unary_loop loop = use_avx2 && avx2 ? avx2 : base;
    Py_BEGIN_ALLOW_THREADS
    loop(in.buf, out.buf, in.len / 8);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

#ifdef HAVE_AVX2_CLONE
#define AVX2(NAME) NAME##_avx2
#else
#define AVX2(NAME) NULL
#endif
static PyObject *exp_(PyObject *self, PyObject *args) { return unary(args, exp_loop_base, AVX2(exp_loop)); }
static PyObject *log_(PyObject *self, PyObject *args) { return unary(args, log_loop_base, AVX2(log_loop)); }
static PyObject *log1p_(PyObject *self, PyObject *args) { return unary(args, log1p_loop_base, AVX2(log1p_loop)); }
static PyObject *expm1_(PyObject *self, PyObject *args) { return unary(args, expm1_loop_base, AVX2(expm1_loop)); }

static PyObject *pow_(PyObject *self, PyObject *args) {
    Py_buffer xb, yb, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &xb, &yb, &out)) return NULL;
    if (!float_buffers(&xb, &yb, &out, 1)) return NULL;
    const double *x = xb.buf, *y = yb.buf;
    double *o = out.buf;
    Py_ssize_t n = xb.len / 8;
    Py_BEGIN_ALLOW_THREADS
#ifdef HAVE_AVX2_CLONE
    if (use_avx2)
        pow_loop_avx2(x, y, o, n);
    else
#endif
        pow_loop_base(x, y, o, n);
    for (Py_ssize_t r = 0; r < n; r++)
        if (!(x[r] > 0.0) || x[r] == INFINITY || x[r] == 1.0 || y[r] != y[r] || whole(y[r])) o[r] = f_pow(x[r], y[r]);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&xb);
    PyBuffer_Release(&yb);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

/* ---- decimals -------------------------------------------------------------------------- */

/* decimal_words(x, out, factor, limit): Decimal128 words (little-endian, two int64 per value) of
 * rint(x * factor), the NumPy expression arrays.decimal_from_floats falls back to, in one pass
 * instead of seven. Returns the first row whose rounded value is not strictly inside
 * (-limit, limit), NaN included, or -1; the words are then incomplete and the caller checks. */
static PyObject *decimal_words(PyObject *self, PyObject *args) {
    Py_buffer xb, out;
    double factor, limit;
    if (!PyArg_ParseTuple(args, "y*w*dd", &xb, &out, &factor, &limit)) return NULL;
    if (xb.itemsize != 8 || out.itemsize != 8 || out.len != 2 * xb.len || !PyBuffer_IsContiguous(&xb, 'C') ||
        !PyBuffer_IsContiguous(&out, 'C')) {
        PyBuffer_Release(&xb);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "_kernels: float64 values and twice as many int64 words expected");
        return NULL;
    }
    const double *x = xb.buf;
    int64_t *o = out.buf;
    Py_ssize_t n = xb.len / 8, bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) {
        double v = nearbyint(x[r] * factor); /* round half to even, as np.rint */
        if (!(v > -limit && v < limit)) {
            bad = r;
            break;
        }
        int64_t u = (int64_t)v;
        o[2 * r] = u;
        o[2 * r + 1] = u >> 63; /* sign extension */
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&xb);
    PyBuffer_Release(&out);
    return PyLong_FromSsize_t(bad);
}

/* decimal_units(units, out): Decimal128 words of int64 units (the value, then its sign
 * extension), arrays.decimal_from_units's two strided NumPy assignments in one pass. */
static PyObject *decimal_units(PyObject *self, PyObject *args) {
    Py_buffer ub, out;
    if (!PyArg_ParseTuple(args, "y*w*", &ub, &out)) return NULL;
    if (ub.itemsize != 8 || out.itemsize != 8 || out.len != 2 * ub.len || !PyBuffer_IsContiguous(&ub, 'C') ||
        !PyBuffer_IsContiguous(&out, 'C')) {
        PyBuffer_Release(&ub);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "_kernels: int64 units and twice as many int64 words expected");
        return NULL;
    }
    const int64_t *u = ub.buf;
    int64_t *o = out.buf;
    Py_ssize_t n = ub.len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) {
        o[2 * r] = u[r];
        o[2 * r + 1] = u[r] >> 63;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&ub);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

/* repeats(pick, position, out): out[r] = 1 if pick[r] equals the pick of one of the position[r]
 * rows just before it (its earlier siblings: a parent's rows are together, in position order),
 * else 0. distinct.distinct_picks's NumPy loop over lags compares every row at every lag up to
 * the largest position; this looks back only as far as each row's own position. */
static PyObject *repeats(PyObject *self, PyObject *args) {
    Py_buffer pb, qb, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &pb, &qb, &out)) return NULL;
    Py_ssize_t n = pb.len / 8;
    if (pb.itemsize != 8 || qb.itemsize != 8 || qb.len != pb.len || out.len != n || !PyBuffer_IsContiguous(&pb, 'C') ||
        !PyBuffer_IsContiguous(&qb, 'C') || !PyBuffer_IsContiguous(&out, 'C')) {
        PyBuffer_Release(&pb);
        PyBuffer_Release(&qb);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "_kernels: int64 picks and positions and as many bytes expected");
        return NULL;
    }
    const int64_t *pick = pb.buf, *pos = qb.buf;
    uint8_t *o = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) {
        int64_t back = pos[r] < r ? pos[r] : r;
        uint8_t d = 0;
        for (int64_t l = 1; l <= back; l++) d |= pick[r - l] == pick[r];
        o[r] = d;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&pb);
    PyBuffer_Release(&qb);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bits", bits, METH_VARARGS, "bits(key, idx, out): SplitMix64 of key + idx * golden into out (uint64)"},
    {"uniform", uniform, METH_VARARGS, "uniform(key, idx, out): the top 53 bits as a float64 in [0, 1)"},
    {"integers", integers, METH_VARARGS, "integers(key, idx, out, low, span): uniform ints in [low, low + span)"},
    {"exp", exp_, METH_VARARGS, "exp(x, out)"},
    {"log", log_, METH_VARARGS, "log(x, out)"},
    {"log1p", log1p_, METH_VARARGS, "log1p(x, out)"},
    {"expm1", expm1_, METH_VARARGS, "expm1(x, out)"},
    {"power", pow_, METH_VARARGS, "power(x, y, out)"},
    {"decimal_words", decimal_words, METH_VARARGS, "decimal_words(x, out, factor, limit): first bad row or -1"},
    {"decimal_units", decimal_units, METH_VARARGS, "decimal_units(units, out): Decimal128 words of int64 units"},
    {"repeats", repeats, METH_VARARGS, "repeats(pick, position, out): 1 where a pick repeats an earlier sibling's"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) {
    init_fmath();
    init_simd();
    return PyModule_Create(&module);
}
