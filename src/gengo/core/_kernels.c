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

static PyObject *bits(PyObject *self, PyObject *args) {
    unsigned long long key;
    Py_buffer idx, out;
    if (!buffers(args, "Ky*w*", &key, &idx, &out, NULL, NULL)) return NULL;
    const uint64_t *in = idx.buf;
    uint64_t *o = out.buf;
    Py_ssize_t n = idx.len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) o[r] = mix(key, in[r]);
    Py_END_ALLOW_THREADS
    return done(&idx, &out);
}

static PyObject *uniform(PyObject *self, PyObject *args) {
    unsigned long long key;
    Py_buffer idx, out;
    if (!buffers(args, "Ky*w*", &key, &idx, &out, NULL, NULL)) return NULL;
    const uint64_t *in = idx.buf;
    double *o = out.buf;
    Py_ssize_t n = idx.len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) o[r] = unit(mix(key, in[r]));
    Py_END_ALLOW_THREADS
    return done(&idx, &out);
}

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

static INLINE double f_log(double x) {
    if (x != x || x < 0.0) return NAN;
    if (x == 0.0) return -INFINITY;
    if (x == INFINITY) return x;
    int e;
    double m;
    uint64_t b = bits_of(x);
    if (b >> 52) { /* normal: frexp from the bits (x = m 2^e, m in [1/2, 1)) */
        e = (int)(b >> 52) - 1022;
        m = of_bits((b & 0x000FFFFFFFFFFFFFULL) | 0x3FE0000000000000ULL);
    } else {
        m = frexp(x, &e);
    }
    int low = m < SQRT_HALF; /* without a branch: random inputs would mispredict half the time */
    m = low ? m * 2.0 : m;
    e -= low;
    double f = m - 1.0, s = f / (2.0 + f), p = log_poly(s * s), de = (double)e;
    return de * LN2_HI + ((2.0 * s) * p + de * LN2_LO);
}

static INLINE double f_exp(double x) {
    if (x != x) return x;
    if (x > EXP_MAX) return INFINITY;
    if (x < EXP_MIN) return 0.0;
    const double round = 6755399441055744.0; /* 1.5 * 2**52: adding and subtracting it rounds to even, as rint */
    double k = (x * INV_LN2 + round) - round, r = (x - k * LN2_HI) - k * LN2_LO, p = exp_poly(r);
    int n = (int)k;
    if (n >= -1021 && n <= 1023) return p * of_bits((uint64_t)(n + 1023) << 52); /* exact, as ldexp */
    return ldexp(p, n);
}

static INLINE double f_log1p(double x) {
    double u = 1.0 + x;
    if (u == 1.0 || u == INFINITY) return u == 1.0 ? x : u;
    return f_log(u) * (x / (u - 1.0)); /* the rounding of 1 + x cancels out */
}

static INLINE double f_expm1(double x) {
    double u = f_exp(x);
    if (x > 1.0 || x < -1.0 || x != x) return u - 1.0; /* no cancellation to undo */
    if (u == 1.0) return x;
    if (u == INFINITY || u - 1.0 == -1.0) return u - 1.0;
    return (u - 1.0) * (x / f_log(u));
}

enum { POW_SQUARING = 1024 }; /* whole exponents up to this: repeated squaring, exact where representable */

/* rint(y) == y without a call to rint (not inlined without SSE4.1); |y| >= 2**51 is whole. */
static inline int whole(double y) {
    const double round = 6755399441055744.0;
    return fabs(y) >= 2251799813685248.0 || (y + round) - round == y;
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

#define UNARY(NAME, FN)                                                              \
    static PyObject *NAME(PyObject *self, PyObject *args) {                          \
        Py_buffer in, out;                                                           \
        if (!PyArg_ParseTuple(args, "y*w*", &in, &out)) return NULL;                 \
        if (!float_buffers(&in, NULL, &out, 0)) return NULL;                         \
        const double *x = in.buf;                                                    \
        double *o = out.buf;                                                         \
        Py_ssize_t n = in.len / 8;                                                   \
        Py_BEGIN_ALLOW_THREADS for (Py_ssize_t r = 0; r < n; r++) o[r] = FN(x[r]);   \
        Py_END_ALLOW_THREADS PyBuffer_Release(&in);                                  \
        PyBuffer_Release(&out);                                                      \
        Py_RETURN_NONE;                                                              \
    }

UNARY(exp_, f_exp)
UNARY(log_, f_log)
UNARY(log1p_, f_log1p)
UNARY(expm1_, f_expm1)

static PyObject *pow_(PyObject *self, PyObject *args) {
    Py_buffer xb, yb, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &xb, &yb, &out)) return NULL;
    if (!float_buffers(&xb, &yb, &out, 1)) return NULL;
    const double *x = xb.buf, *y = yb.buf;
    double *o = out.buf;
    Py_ssize_t n = xb.len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) o[r] = f_pow(x[r], y[r]);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&xb);
    PyBuffer_Release(&yb);
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
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) {
    init_fmath();
    return PyModule_Create(&module);
}
