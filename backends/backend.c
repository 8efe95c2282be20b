/* backend.c — the backend frontend: creation by name, memory accounting and the memory cap,
 * and fault injection (TUNESCALE_FAULT). */
#include "backends/backend.h"

#include "util/progress.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fault injection -------------------------------------------------------------------
 * TUNESCALE_FAULT=op:N makes the N-th device call (an op or a transfer) of this process fail
 * the way a device error does: the op records a sticky error and is skipped, so the next sync
 * or transfer reports it. TUNESCALE_FAULT=alloc:N makes the N-th buffer allocation fail as
 * a device out-of-memory. With @FILE appended, only the first process to reach its N-th call
 * fires (it creates FILE), so one run of a sweep fails and the others do not. */
static struct {
    int parsed;
    char kind;                 /* 0 none, 'o' op, 'a' alloc */
    unsigned long n, count;    /* fire at call n; calls so far */
    const char *spec, *marker; /* the variable's value; the @FILE part or NULL */
} fault;

static ts_status fault_parse(void) {
    if (fault.parsed) return TS_OK;
    fault.parsed = 1;
    const char *s = getenv("TUNESCALE_FAULT");
    if (!s || !*s) return TS_OK;
    fault.spec = s;
    const char *num = !strncmp(s, "op:", 3) ? s + 3 : !strncmp(s, "alloc:", 6) ? s + 6 : NULL;
    char *end = NULL;
    unsigned long n = num && isdigit((unsigned char)*num) ? strtoul(num, &end, 10) : 0;
    if (!n || (*end && *end != '@') || (*end == '@' && !end[1]))
        return ts_set_error_status(TS_EUSAGE,
                                   "TUNESCALE_FAULT='%s' is not op:N or alloc:N (N >= 1, "
                                   "optionally @FILE)",
                                   s);
    fault.kind = s[0];
    fault.n = n;
    fault.marker = *end == '@' ? end + 1 : NULL;
    return TS_OK;
}

/* Counts one call of the armed kind; 1 when this call must fail. */
static int fault_fires(char kind) {
    if (fault.kind != kind || ++fault.count != fault.n) return 0;
    if (fault.marker) {
        int fd = open(fault.marker, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0) return 0; /* another process fired already (or the path is unusable) */
        close(fd);
    }
    return 1;
}

/* The backend's own table stays untouched: a copy whose entries count, then call the real one. */
typedef struct {
    ts_backend_iface iface; /* first member: be->iface points here */
    const ts_backend_iface *real;
} fault_iface;
#define REAL(be) (((const fault_iface *)(be)->iface)->real)
#define FAIL(be, op)                                                                               \
    ts_backend_fail(be, TS_ERR,                                                                    \
                    "%s failed: injected device fault at call %lu (TUNESCALE_FAULT=%s)", op,       \
                    fault.count, fault.spec)

typedef ts_tensor T_;
/* name, parameters after be, arguments after be: every op that returns nothing */
#define TS_FAULT_OPS(X)                                                                            \
    X(fill, (T_ x, float value, size_t n), (x, value, n))                                          \
    X(copy, (T_ dst, T_ src, size_t n), (dst, src, n))                                             \
    X(add, (T_ out, T_ a, T_ b, size_t n), (out, a, b, n))                                         \
    X(scale, (T_ x, float s, size_t n), (x, s, n))                                                 \
    X(gemm,                                                                                        \
      (int ta, int tb, int M, int N, int K, float alpha, T_ A, int lda, long sa, T_ B, int ldb,    \
       long sb, float beta, T_ C, int ldc, long sc, int batch),                                    \
      (ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch))                   \
    X(bias_add, (T_ out, T_ bias, int rows, int cols), (out, bias, rows, cols))                    \
    X(bias_backward, (T_ db, T_ dout, int rows, int cols), (db, dout, rows, cols))                 \
    X(embedding_forward, (T_ out, T_ table, T_ ids, int n, int C, int V, int acc),                 \
      (out, table, ids, n, C, V, acc))                                                             \
    X(embedding_backward, (T_ dt, T_ dout, T_ ids, int n, int C, int V), (dt, dout, ids, n, C, V)) \
    X(layernorm_forward, (T_ out, T_ mean, T_ rstd, T_ inp, T_ w, T_ b, int N, int C, float eps),  \
      (out, mean, rstd, inp, w, b, N, C, eps))                                                     \
    X(layernorm_backward,                                                                          \
      (T_ dinp, T_ dw, T_ db, T_ dout, T_ inp, T_ w, T_ mean, T_ rstd, int N, int C),              \
      (dinp, dw, db, dout, inp, w, mean, rstd, N, C))                                              \
    X(gelu_forward, (T_ out, T_ inp, size_t n), (out, inp, n))                                     \
    X(gelu_backward, (T_ dinp, T_ inp, T_ dout, size_t n), (dinp, inp, dout, n))                   \
    X(dropout_forward, (T_ out, T_ inp, size_t n, float p, ts_dropout_key k), (out, inp, n, p, k)) \
    X(dropout_backward, (T_ dinp, T_ dout, size_t n, float p, ts_dropout_key k),                   \
      (dinp, dout, n, p, k))                                                                       \
    X(qkv_split_forward, (T_ q, T_ k, T_ v, T_ qkv, int B, int T, int NH, int HS),                 \
      (q, k, v, qkv, B, T, NH, HS))                                                                \
    X(qkv_split_backward, (T_ dqkv, T_ dq, T_ dk, T_ dv, int B, int T, int NH, int HS),            \
      (dqkv, dq, dk, dv, B, T, NH, HS))                                                            \
    X(heads_merge_forward, (T_ out, T_ inp, int B, int T, int NH, int HS),                         \
      (out, inp, B, T, NH, HS))                                                                    \
    X(heads_merge_backward, (T_ dinp, T_ dout, int B, int T, int NH, int HS),                      \
      (dinp, dout, B, T, NH, HS))                                                                  \
    X(softmax_causal_forward, (T_ att, T_ pre, int BH, int T, float s), (att, pre, BH, T, s))      \
    X(softmax_causal_backward, (T_ dpre, T_ datt, T_ att, int BH, int T, float s),                 \
      (dpre, datt, att, BH, T, s))                                                                 \
    X(attention_forward,                                                                           \
      (T_ o, T_ lse, T_ q, T_ k, T_ v, int BH, int T, int HS, float s, float p,                    \
       ts_dropout_key kk),                                                                         \
      (o, lse, q, k, v, BH, T, HS, s, p, kk))                                                      \
    X(attention_backward,                                                                          \
      (T_ dq, T_ dk, T_ dv, T_ dl, T_ dout, T_ o, T_ q, T_ k, T_ v, T_ lse, int BH, int T, int HS, \
       float s, float p, ts_dropout_key kk),                                                       \
      (dq, dk, dv, dl, dout, o, q, k, v, lse, BH, T, HS, s, p, kk))                                \
    X(lstm_cell_forward, (T_ h, T_ c, T_ act, T_ pre, T_ cp, int B, int H, int ld),                \
      (h, c, act, pre, cp, B, H, ld))                                                              \
    X(lstm_cell_backward,                                                                          \
      (T_ dpre, T_ dcp, T_ dh, T_ dc, T_ act, T_ c, T_ cp, int B, int H, int ld),                  \
      (dpre, dcp, dh, dc, act, c, cp, B, H, ld))                                                   \
    X(crossentropy_forward, (T_ l, T_ p, T_ lg, T_ tg, int N, int V, int ig),                      \
      (l, p, lg, tg, N, V, ig))                                                                    \
    X(crossentropy_backward, (T_ dl, T_ p, T_ tg, int N, int V, int ig, float s),                  \
      (dl, p, tg, N, V, ig, s))                                                                    \
    X(sum, (T_ out, T_ x, size_t n), (out, x, n))                                                  \
    X(sum_squares, (T_ out, T_ x, size_t n), (out, x, n))                                          \
    X(adamw,                                                                                       \
      (T_ p, T_ g, T_ m, T_ v, size_t n, double lr, double b1, double b2, double eps, double wd,   \
       int t, float gs),                                                                           \
      (p, g, m, v, n, lr, b1, b2, eps, wd, t, gs))                                                 \
    X(peak_fma, (T_ out, size_t items, int iters), (out, items, iters))                            \
    X(peak_copy, (T_ dst, T_ src, size_t n), (dst, src, n))

#define UNPACK(...) __VA_ARGS__
#define FAULT_WRAP(name, params, args)                                                             \
    static void fault_##name(ts_backend *be, UNPACK params) {                                      \
        if (fault_fires('o'))                                                                      \
            FAIL(be, #name);                                                                       \
        else                                                                                       \
            REAL(be)->name(be, UNPACK args);                                                       \
    }
TS_FAULT_OPS(FAULT_WRAP)

static ts_status fault_upload(ts_backend *be, ts_tensor dst, const void *src, size_t bytes) {
    if (!fault_fires('o')) return REAL(be)->upload(be, dst, src, bytes);
    FAIL(be, "upload");
    return ts_backend_replay_error(be);
}

static ts_status fault_download(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    if (!fault_fires('o')) return REAL(be)->download(be, dst, src, bytes);
    FAIL(be, "download");
    return ts_backend_replay_error(be);
}

static void fault_destroy(ts_backend *be) {
    fault_iface *f = (fault_iface *)be->iface;
    be->iface = f->real;
    be->iface->destroy(be);
    free(f);
}

static ts_status fault_arm(ts_backend *be) {
    fault_iface *f = malloc(sizeof *f);
    if (!f) return ts_set_error("out of host memory");
    f->real = be->iface;
    f->iface = *be->iface;
    f->iface.destroy = fault_destroy;
    f->iface.upload = fault_upload;
    f->iface.download = fault_download;
#define FAULT_SET(name, params, args)                                                              \
    if (f->real->name) f->iface.name = fault_##name;
    TS_FAULT_OPS(FAULT_SET)
    be->iface = &f->iface;
    return TS_OK;
}

ts_status ts_backend_create(const char *name, const ts_backend_options *o, ts_backend **out) {
    *out = NULL;
    if (fault_parse() != TS_OK) return TS_EUSAGE;
    ts_backend_options defaults = {0};
    if (!o) o = &defaults;
    ts_status st;
    if (!strcmp(name, "cpu")) {
        st = ts_cpu_backend_create(o, out);
    } else if (!strcmp(name, "opencl")) {
#ifdef TS_HAVE_OPENCL
        st = ts_opencl_backend_create(o, out);
#else
        return ts_set_error_status(TS_EUSAGE,
                                   "backend 'opencl' was not built (configure with the OpenCL "
                                   "loader and CLBlast installed); use --backend cpu");
#endif
    } else if (!strcmp(name, "vulkan")) {
#ifdef TS_HAVE_VULKAN
        st = ts_vulkan_backend_create(o, out);
#else
        return ts_set_error_status(TS_EUSAGE,
                                   "backend 'vulkan' was not built (configure with the Vulkan "
                                   "loader and glslc installed); use --backend cpu");
#endif
    } else {
        return ts_set_error_status(TS_EUSAGE, "unknown backend '%s' (cpu, opencl or vulkan)", name);
    }
    if (st != TS_OK) return st;
    (*out)->mem_limit = o->mem_limit;
    if (fault.kind == 'o' && (st = fault_arm(*out)) != TS_OK) {
        ts_backend_destroy(*out);
        *out = NULL;
    }
    return st;
}

void ts_backend_destroy(ts_backend *be) {
    if (be) be->iface->destroy(be);
}

ts_status ts_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out) {
    *out = NULL;
    if (fault_fires('a')) {
        be->oom_needed_bytes = be->bytes_in_use + bytes;
        return ts_set_error_status(TS_ENOMEM,
                                   "%s backend: out of device memory: allocation %lu (%zu bytes) "
                                   "failed (injected by TUNESCALE_FAULT=%s)",
                                   be->iface->name, fault.count, bytes, fault.spec);
    }
    if (be->mem_limit && be->bytes_in_use + bytes > be->mem_limit) {
        be->oom_needed_bytes = be->bytes_in_use + bytes;
        char ask[32], used[32], cap[32];
        ts_format_amount(ask, sizeof ask, (double)bytes, TS_UNIT_BYTES);
        ts_format_amount(used, sizeof used, (double)be->bytes_in_use, TS_UNIT_BYTES);
        ts_format_amount(cap, sizeof cap, (double)be->mem_limit, TS_UNIT_BYTES);
        return ts_set_error_status(TS_ENOMEM,
                                   "out of memory: allocating %s (%zu bytes) with %s in use "
                                   "exceeds --mem-limit %s (%zu bytes)",
                                   ask, bytes, used, cap, be->mem_limit);
    }
    ts_status st = be->iface->buffer_alloc(be, bytes, out);
    if (st == TS_ENOMEM) be->oom_needed_bytes = be->bytes_in_use + bytes;
    if (st != TS_OK) return st;
    be->bytes_in_use += bytes;
    if (be->bytes_in_use > be->peak_bytes) be->peak_bytes = be->bytes_in_use;
    return TS_OK;
}

void ts_buffer_free(ts_backend *be, ts_buffer *buf) {
    if (!buf) return;
    be->bytes_in_use -= be->iface->buffer_size(be, buf);
    be->iface->buffer_free(be, buf);
}

ts_status ts_backend_sync(ts_backend *be) {
    return be->iface->sync(be); /* the backend re-reports a recorded op error with its message */
}

int ts_parse_size(const char *s, size_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return 0;
    while (*end == ' ')
        end++;
    double mul = 1;
    char unit[8] = {0};
    for (int i = 0; i < 7 && end[i]; i++)
        unit[i] = (char)tolower((unsigned char)end[i]);
    if (end[0] && strlen(end) > 7) return 0;
    if (!unit[0] || !strcmp(unit, "b"))
        mul = 1;
    else if (!strcmp(unit, "k") || !strcmp(unit, "kib"))
        mul = 1024.0;
    else if (!strcmp(unit, "m") || !strcmp(unit, "mib"))
        mul = 1024.0 * 1024;
    else if (!strcmp(unit, "g") || !strcmp(unit, "gib"))
        mul = 1024.0 * 1024 * 1024;
    else if (!strcmp(unit, "t") || !strcmp(unit, "tib"))
        mul = 1024.0 * 1024 * 1024 * 1024;
    else if (!strcmp(unit, "kb"))
        mul = 1e3;
    else if (!strcmp(unit, "mb"))
        mul = 1e6;
    else if (!strcmp(unit, "gb"))
        mul = 1e9;
    else if (!strcmp(unit, "tb"))
        mul = 1e12;
    else
        return 0;
    *out = (size_t)llround(v * mul);
    return 1;
}

void ts_backend_vfail(ts_backend *be, ts_status st, const char *fmt, va_list ap) {
    if (be->error != TS_OK) return;
    vsnprintf(be->error_msg, sizeof be->error_msg, fmt, ap);
    be->error = ts_set_error_status(st, "%s backend: %s", be->iface->name, be->error_msg);
}

void ts_backend_fail(ts_backend *be, ts_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ts_backend_vfail(be, st, fmt, ap);
    va_end(ap);
}

ts_status ts_backend_replay_error(ts_backend *be) {
    return ts_set_error_status(be->error, "%s backend: %s", be->iface->name, be->error_msg);
}

int ts_check_heads(ts_backend *be, const char *op, int B, int T, int NH, int HS) {
    if (B >= 0 && T >= 0 && NH >= 0 && HS >= 0) return 1;
    ts_backend_fail(be, TS_ERR, "%s: negative shape (B=%d T=%d NH=%d HS=%d)", op, B, T, NH, HS);
    return 0;
}

int ts_check_lstm_ld(ts_backend *be, const char *op, int H, int ld_state) {
    if (ld_state >= H) return 1;
    ts_backend_fail(be, TS_ERR, "%s: ld_state %d is smaller than H %d", op, ld_state, H);
    return 0;
}

int ts_check_adamw_step(ts_backend *be, int t) {
    if (t >= 1) return 1;
    ts_backend_fail(be, TS_ERR, "adamw: step %d must be >= 1", t);
    return 0;
}
