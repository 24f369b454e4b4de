/* CSV and JSON Lines row writers for gengo.formats.textcodec (see its docstring).
 *
 * A chunk arrives described by textcodec.Packed: per column a kind, a parameter and its Arrow
 * buffers as they are (int64 values or Decimal128 words, validity bits, string offsets and
 * bytes; narrower integers and dates widened to int64 first). Every field is formatted straight into `out`, which
 * the caller sized for the worst case. The output must be byte for byte what polars writes:
 * tests/formats/test_textcodec.py compares the two on every model and on adversarial values.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { K_INT = 0, K_DECIMAL = 1, K_STRING = 2, K_TIMESTAMP = 3, K_DATE = 4, K_BOOL = 5, K_RAW = 6 };
/* K_RAW: text written as it is (numbers polars rendered), read like a string column */
enum { FIELD_MAX = 32 }; /* the longest non-string field and its separator: a quoted timestamp with microseconds */
enum { PREFETCH_ROWS = 64 };   /* rows ahead: eight cache lines of a column */
enum { PREFETCH_STREAMS = 8 }; /* columns from which loads are asked for ahead (below, the hardware follows them) */

static char DIGITS2[200];
static const char HEX[] = "0123456789abcdef";

static inline int ndigits(uint64_t x) {
    int n = 1;
    if (x >= 10000000000000000ULL) { n += 16; x /= 10000000000000000ULL; }
    if (x >= 100000000ULL) { n += 8; x /= 100000000ULL; }
    if (x >= 10000ULL) { n += 4; x /= 10000ULL; }
    if (x >= 100ULL) { n += 2; x /= 100ULL; }
    if (x >= 10ULL) n += 1;
    return n;
}

/* The digits of x right-aligned in `width` bytes at p (zero-padded); returns the end. */
static inline char *put_uint(char *p, uint64_t x, int width) {
    char *e = p + width, *q = e;
    while (x >= 100) {
        unsigned r = (unsigned)(x % 100) * 2;
        x /= 100;
        q -= 2;
        q[0] = DIGITS2[r];
        q[1] = DIGITS2[r + 1];
    }
    if (x >= 10) {
        q -= 2;
        q[0] = DIGITS2[2 * x];
        q[1] = DIGITS2[2 * x + 1];
    } else {
        *--q = (char)('0' + x);
    }
    while (q > p) *--q = '0';
    return e;
}

/* Integers and decimals from a table of every four-digit group: a value below 10**4 is one load
 * (its text and its length), below 10**8 two, with one division by a constant between them. All
 * four bytes are stored at once, shifted so the leading zeros fall off (every field has FIELD_MAX
 * bytes of room). Fewer instructions per value than splitting eight digits with a chain of
 * multiplications (a SWAR form), which is what a field's cost follows; the table (50 KB) stays in
 * cache. The shifts assume a little-endian CPU (checked below). */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "_textcodec assumes a little-endian CPU (polars writes the same bytes elsewhere)"
#endif
static uint32_t DIGITS4[10000]; /* "0000".."9999", first digit first in memory */
static uint8_t LEN4[10000];     /* digits of the group without leading zeros (0 has one) */

static inline char *put_group(char *p, uint32_t x) { /* x < 10**4, no leading zeros */
    int n = LEN4[x];
    uint32_t d = DIGITS4[x] >> (8 * (4 - n));
    memcpy(p, &d, 4);
    return p + n;
}

static inline char *put_short(char *p, uint32_t x) { /* x < 10**8, no leading zeros */
    if (x < 10000) return put_group(p, x);
    uint32_t hi = x / 10000;
    p = put_group(p, hi);
    memcpy(p, &DIGITS4[x - hi * 10000], 4);
    return p + 4;
}

static inline char *put_eight(char *p, uint32_t x) { /* x < 10**8, zero-padded to eight digits */
    uint32_t hi = x / 10000;
    memcpy(p, &DIGITS4[hi], 4);
    memcpy(p + 4, &DIGITS4[x - hi * 10000], 4);
    return p + 8;
}

static inline char *put_u64(char *p, uint64_t x) {
    if (x < 100000000ULL) return put_short(p, (uint32_t)x);
    if (x < 10000000000000000ULL) {
        uint64_t hi = x / 100000000ULL;
        p = put_short(p, (uint32_t)hi);
        return put_eight(p, (uint32_t)(x - hi * 100000000ULL));
    }
    uint64_t top = x / 10000000000000000ULL, rest = x - top * 10000000000000000ULL;
    uint64_t hi = rest / 100000000ULL;
    p = put_short(p, (uint32_t)top);
    p = put_eight(p, (uint32_t)hi);
    return put_eight(p, (uint32_t)(rest - hi * 100000000ULL));
}

static inline char *put_int(char *p, int64_t v) {
    uint64_t x = (uint64_t)v;
    if (v < 0) {
        *p++ = '-';
        x = (uint64_t)0 - x;
    }
    return put_u64(p, x);
}

/* v / 10**scale: fixed point with every fraction digit (CSV), or as the shortest float prints it
 * (JSON: trailing zeros dropped, at least one fraction digit). Cents (scale 2, most of gengo's
 * decimals) split with a constant divisor; other scales as digits moved to make room for the point. */
static inline char *put_decimal(char *p, int64_t v, int scale, int json) {
    uint64_t x = (uint64_t)v;
    if (v < 0) {
        *p++ = '-';
        x = (uint64_t)0 - x;
    }
    if (scale == 2) {
        uint64_t units = x / 100;
        unsigned cents = (unsigned)(x - units * 100) * 2;
        p = put_u64(p, units);
        p[0] = '.';
        p[1] = DIGITS2[cents];
        p[2] = DIGITS2[cents + 1];
        return p + (json && p[2] == '0' ? 2 : 3);
    }
    int nd = ndigits(x);
    char *e = put_uint(p, x, nd > scale ? nd : scale + 1);
    if (scale == 0) {
        if (json) { e[0] = '.'; e[1] = '0'; e += 2; }
        return e;
    }
    memmove(e - scale + 1, e - scale, (size_t)scale);
    e[-scale] = '.';
    e += 1;
    if (json)
        while (e[-1] == '0' && e[-2] != '.') e--;
    return e;
}

static inline char *put_date(char *p, int64_t days) {
    /* civil_from_days (H. Hinnant): proleptic Gregorian; the caller keeps years in 1..9999 */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y += 1;
    p = put_uint(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_uint(p, (uint64_t)m, 2);
    *p++ = '-';
    return put_uint(p, (uint64_t)d, 2);
}

static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The date part of a column's last value, kept for the next: timestamps of neighbouring rows
 * mostly fall on the same day (they grow with the key, or a batch is in event-time order), and
 * the calendar conversion is most of a timestamp's cost. */
typedef struct {
    int64_t days;
    char text[10];
} DayCache;

static inline char *put_day(char *p, int64_t days, DayCache *cache) {
    if (cache->days != days) {
        put_date(cache->text, days);
        cache->days = days;
    }
    memcpy(p, cache->text, 10);
    return p + 10;
}

static inline char *put_timestamp(char *p, int64_t seconds, DayCache *cache) {
    int64_t days = floor_div(seconds, 86400);
    int64_t s = seconds - days * 86400;
    p = put_day(p, days, cache);
    *p++ = 'T';
    p = put_uint(p, (uint64_t)(s / 3600), 2);
    *p++ = ':';
    p = put_uint(p, (uint64_t)(s / 60 % 60), 2);
    *p++ = ':';
    p = put_uint(p, (uint64_t)(s % 60), 2);
    *p++ = 'Z';
    return p;
}

/* Microseconds: as Arrow's strftime("%S") prints them, six fraction digits, floored. */
static inline char *put_timestamp_us(char *p, int64_t us, DayCache *cache) {
    int64_t seconds = floor_div(us, 1000000);
    p = put_timestamp(p, seconds, cache);
    p[-1] = '.';
    p = put_uint(p, (uint64_t)(us - seconds * 1000000), 6);
    *p++ = 'Z';
    return p;
}

static inline char *put_bool(char *p, int64_t b) {
    if (b) { memcpy(p, "true", 4); return p + 4; }
    memcpy(p, "false", 5);
    return p + 5;
}

static inline char *put_csv_string(char *p, const char *s, int64_t len) {
    int quote = len == 0;
    for (int64_t i = 0; i < len && !quote; i++) {
        char c = s[i];
        quote = c == ',' || c == '"' || c == '\n' || c == '\r';
    }
    if (!quote) {
        memcpy(p, s, (size_t)len);
        return p + len;
    }
    *p++ = '"';
    for (int64_t i = 0; i < len; i++) {
        char c = s[i];
        *p++ = c;
        if (c == '"') *p++ = '"';
    }
    *p++ = '"';
    return p;
}

static inline char *put_json_string(char *p, const unsigned char *s, int64_t len) {
    *p++ = '"';
    for (int64_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c >= 32 && c != '"' && c != '\\') {
            *p++ = (char)c;
        } else if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c == '\n') { *p++ = '\\'; *p++ = 'n'; }
        else if (c == '\r') { *p++ = '\\'; *p++ = 'r'; }
        else if (c == '\t') { *p++ = '\\'; *p++ = 't'; }
        else if (c == '\b') { *p++ = '\\'; *p++ = 'b'; }
        else if (c == '\f') { *p++ = '\\'; *p++ = 'f'; }
        else {
            memcpy(p, "\\u00", 4);
            p[4] = HEX[c >> 4];
            p[5] = HEX[c & 15];
            p += 6;
        }
    }
    *p++ = '"';
    return p;
}

/* One column as the loop reads it, straight from the Arrow buffers (no copy into a matrix):
 * int64 values every `stride` words (2 for Decimal128: the low word), validity bits from bit
 * `boff` of `bm` (NULL: no nulls), string offsets (int32 or int64) into `data`. */
typedef struct {
    const int64_t *v;
    Py_ssize_t stride;
    const uint8_t *bm;
    Py_ssize_t boff;
    const int32_t *off32;
    const int64_t *off64;
    const char *data;
} Col;

enum { BUFS = 4 }; /* per column: values, validity, offsets, string data */

typedef struct {
    Py_buffer kinds, params, keys, key_off, out;
    Py_buffer *bufs; /* ncols * BUFS, unused ones with obj == NULL */
    Col *cols;
    Py_ssize_t ncols, n, nstr;
} Chunk;

static void release(Chunk *c) {
    Py_buffer *all[] = {&c->kinds, &c->params, &c->keys, &c->key_off, &c->out};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (all[i]->obj) PyBuffer_Release(all[i]);
    if (c->bufs) {
        for (Py_ssize_t i = 0; i < c->ncols * BUFS; i++)
            if (c->bufs[i].obj) PyBuffer_Release(&c->bufs[i]);
        PyMem_Free(c->bufs);
    }
    PyMem_Free(c->cols);
}

static inline int64_t str_at(const Col *col, Py_ssize_t i) { return col->off64 ? col->off64[i] : col->off32[i]; }

static int bad_chunk(void) {
    PyErr_SetString(PyExc_ValueError, "textcodec: inconsistent chunk buffers");
    return -1;
}

/* A buffer of the column tuple, or none for None. */
static int get(PyObject *o, Py_buffer *b) {
    if (o == Py_None) return 0;
    return PyObject_GetBuffer(o, b, PyBUF_C_CONTIGUOUS);
}

/* Reads the column descriptors and checks every shape and offset once, so the loops index
 * without checks: a column tuple is (values, stride, validity, bit offset, offsets, data). */
static int load(Chunk *c, PyObject *cols, int json) {
    c->ncols = c->kinds.len / 8;
    if (c->params.len != c->kinds.len || !PyTuple_Check(cols) || PyTuple_GET_SIZE(cols) != c->ncols) return bad_chunk();
    if (json && c->key_off.len != 8 * (c->ncols + 1)) return bad_chunk();
    c->bufs = PyMem_Calloc((size_t)(c->ncols ? c->ncols : 1) * BUFS, sizeof(Py_buffer));
    c->cols = PyMem_Calloc((size_t)(c->ncols ? c->ncols : 1), sizeof(Col));
    if (!c->bufs || !c->cols) {
        PyErr_NoMemory();
        return -1;
    }
    const int64_t *kinds = c->kinds.buf, *params = c->params.buf;
    Py_ssize_t n = c->n;
    for (Py_ssize_t j = 0; j < c->ncols; j++) {
        PyObject *t = PyTuple_GET_ITEM(cols, j);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 6) return bad_chunk();
        Py_buffer *b = c->bufs + j * BUFS;
        Col *col = c->cols + j;
        Py_ssize_t stride = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 1)), boff = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 3));
        if (PyErr_Occurred()) return -1;
        if (get(PyTuple_GET_ITEM(t, 0), &b[0]) < 0 || get(PyTuple_GET_ITEM(t, 2), &b[1]) < 0 ||
            get(PyTuple_GET_ITEM(t, 4), &b[2]) < 0 || get(PyTuple_GET_ITEM(t, 5), &b[3]) < 0)
            return -1;
        int64_t kind = kinds[j];
        if (kind < 0 || kind > K_RAW || boff < 0) return bad_chunk();
        if (kind == K_DECIMAL && (params[j] < 0 || params[j] > 18)) return bad_chunk();
        if (b[1].obj) { /* validity bits */
            if (b[1].len * 8 < boff + n) return bad_chunk();
            col->bm = b[1].buf;
            col->boff = boff;
        }
        if (kind == K_STRING || kind == K_RAW) {
            if (!b[2].obj || !b[3].obj || (b[2].itemsize != 4 && b[2].itemsize != 8) || b[2].len != b[2].itemsize * (n + 1))
                return bad_chunk();
            if (b[2].itemsize == 8) col->off64 = b[2].buf; else col->off32 = b[2].buf;
            col->data = b[3].buf;
            for (Py_ssize_t i = 0; i <= n; i++) {
                int64_t o = str_at(col, i);
                if (o < 0 || o > b[3].len || (i && o < str_at(col, i - 1))) return bad_chunk();
            }
            c->nstr++;
        } else {
            if (!b[0].obj || b[0].itemsize != 8 || stride < 1 || (n && b[0].len < 8 * ((n - 1) * stride + 1)))
                return bad_chunk();
            col->v = b[0].buf;
            col->stride = stride;
        }
    }
    if (json) {
        const int64_t *ko = c->key_off.buf;
        for (Py_ssize_t j = 0; j <= c->ncols; j++)
            if (ko[j] < 0 || ko[j] > c->keys.len || (j && ko[j] < ko[j - 1])) return bad_chunk();
    }
    return 0;
}

static inline int is_valid(const Col *col, Py_ssize_t i) {
    Py_ssize_t b = col->boff + i;
    return (col->bm[b >> 3] >> (b & 7)) & 1;
}

/* The rows of a checked chunk into p; sets *overflow and stops where a row might not fit. Inlined
 * twice, for CSV and for JSON with `json` a constant: each loop compiled for its format alone
 * (with the prefetch added, one loop for both took 10-20% longer in JSON Lines, prefetch or not;
 * benchmarks/ab_codec.py). */
static inline __attribute__((always_inline)) char *
encode_rows(const Chunk *cp, char *p, char *limit, DayCache *days, const int json, int prefetch, int *overflow) {
    const Chunk c = *cp;
    const int64_t *kinds = c.kinds.buf, *params = c.params.buf;
    const Col *cols = c.cols;
    const char *keys = json ? c.keys.buf : NULL;
    const int64_t *key_off = json ? c.key_off.buf : NULL;
    Py_ssize_t n = c.n, ncols = c.ncols;
    /* Before each row: room for the longest it can be (FIELD_MAX per field, strings at their
       worst escaping), else an error instead of a write past the buffer. */
    int64_t fixed = (int64_t)ncols * FIELD_MAX + 2 + (json ? key_off[ncols] : 0);
    const int64_t factor = json ? 6 : 2;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t need = fixed;
        if (c.nstr)
            for (Py_ssize_t j = 0; j < ncols; j++)
                if (cols[j].data) need += factor * (str_at(&cols[j], i + 1) - str_at(&cols[j], i)) + 2;
        if (need > limit - p) {
            *overflow = 1;
            break;
        }
        /* A row reads one word from each of ncols places far apart, more streams than the
           hardware prefetcher follows (a wide fact table's loads then miss cache and stall).
           One cache line holds eight rows of an int64 column: ask for it ahead. */
        if (prefetch && (i & 7) == 0 && i + PREFETCH_ROWS < n) {
            for (Py_ssize_t j = 0; j < ncols; j++) {
                const Col *col = &cols[j];
                if (col->v) __builtin_prefetch(&col->v[(i + PREFETCH_ROWS) * col->stride]);
                else if (col->off64) __builtin_prefetch(&col->off64[i + PREFETCH_ROWS]);
                else __builtin_prefetch(&col->off32[i + PREFETCH_ROWS]);
                if (col->bm && (i & 511) == 0 && i + 1024 < n) __builtin_prefetch(&col->bm[(col->boff + i + 1024) >> 3]);
            }
        }
        for (Py_ssize_t j = 0; j < ncols; j++) {
            const Col *col = &cols[j];
            if (json) {
                int64_t a = key_off[j], b = key_off[j + 1];
                memcpy(p, keys + a, (size_t)(b - a));
                p += b - a;
            } else if (j) {
                *p++ = ',';
            }
            if (col->bm && !is_valid(col, i)) {
                if (json) { memcpy(p, "null", 4); p += 4; }
                continue;
            }
            switch (kinds[j]) {
            case K_INT: p = put_int(p, col->v[i * col->stride]); break;
            case K_DECIMAL: p = put_decimal(p, col->v[i * col->stride], (int)params[j], json); break;
            case K_STRING: {
                int64_t a = str_at(col, i), b = str_at(col, i + 1);
                p = json ? put_json_string(p, (const unsigned char *)col->data + a, b - a)
                         : put_csv_string(p, col->data + a, b - a);
                break;
            }
            case K_TIMESTAMP: {
                int64_t v = col->v[i * col->stride];
                if (json) *p++ = '"';
                p = params[j] ? put_timestamp_us(p, v, &days[j]) : put_timestamp(p, v, &days[j]);
                if (json) *p++ = '"';
                break;
            }
            case K_DATE:
                if (json) *p++ = '"';
                p = put_date(p, col->v[i * col->stride]);
                if (json) *p++ = '"';
                break;
            case K_RAW: {
                int64_t a = str_at(col, i), b = str_at(col, i + 1);
                memcpy(p, col->data + a, (size_t)(b - a));
                p += b - a;
                break;
            }
            default: p = put_bool(p, col->v[i * col->stride]); break;
            }
        }
        if (json) *p++ = '}';
        *p++ = '\n';
    }
    return p;
}

static PyObject *rows(PyObject *args, int json) {
    Chunk c;
    memset(&c, 0, sizeof c);
    Py_ssize_t start = 0;
    PyObject *cols;
    int ok = json ? PyArg_ParseTuple(args, "y*y*nO!y*y*w*", &c.kinds, &c.params, &c.n, &PyTuple_Type, &cols, &c.keys,
                                     &c.key_off, &c.out)
                  : PyArg_ParseTuple(args, "y*y*nO!w*n", &c.kinds, &c.params, &c.n, &PyTuple_Type, &cols, &c.out, &start);
    if (!ok) { release(&c); return NULL; }
    if (c.n < 0 || start < 0 || start > c.out.len || load(&c, cols, json) < 0) {
        if (!PyErr_Occurred()) bad_chunk();
        release(&c);
        return NULL;
    }
    char *out = c.out.buf, *p = out + start, *limit = out + c.out.len;
    Py_ssize_t ncols = c.ncols;
    int overflow = 0;
    DayCache *days = PyMem_Malloc(sizeof(DayCache) * (size_t)(ncols ? ncols : 1));
    if (days == NULL) { release(&c); return PyErr_NoMemory(); }
    for (Py_ssize_t j = 0; j < ncols; j++) days[j].days = INT64_MIN;
    Py_BEGIN_ALLOW_THREADS
    int prefetch = ncols >= PREFETCH_STREAMS;
    p = json ? encode_rows(&c, p, limit, days, 1, prefetch, &overflow)
             : encode_rows(&c, p, limit, days, 0, prefetch, &overflow);
    Py_END_ALLOW_THREADS
    PyMem_Free(days);
    Py_ssize_t end = p - out;
    release(&c);
    if (overflow) {
        PyErr_SetString(PyExc_RuntimeError, "textcodec: output bound exceeded");
        return NULL;
    }
    return PyLong_FromSsize_t(end);
}

static PyObject *csv_rows(PyObject *self, PyObject *args) { return rows(args, 0); }
static PyObject *json_rows(PyObject *self, PyObject *args) { return rows(args, 1); }

static PyMethodDef methods[] = {
    {"csv_rows", csv_rows, METH_VARARGS,
     "csv_rows(kinds, params, n, cols, out, start) -> end; cols: per column (values, stride, validity, bit offset, offsets, data)"},
    {"json_rows", json_rows, METH_VARARGS,
     "json_rows(kinds, params, n, cols, keys, key_off, out) -> end"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_textcodec", NULL, -1, methods};

PyMODINIT_FUNC PyInit__textcodec(void) {
    for (int i = 0; i < 100; i++) {
        DIGITS2[2 * i] = (char)('0' + i / 10);
        DIGITS2[2 * i + 1] = (char)('0' + i % 10);
    }
    for (int i = 0; i < 10000; i++) {
        char text[4] = {(char)('0' + i / 1000), (char)('0' + i / 100 % 10), (char)('0' + i / 10 % 10), (char)('0' + i % 10)};
        memcpy(&DIGITS4[i], text, 4);
        LEN4[i] = (uint8_t)(i >= 1000 ? 4 : i >= 100 ? 3 : i >= 10 ? 2 : 1);
    }
    return PyModule_Create(&module);
}
