/* backend.c — the backend frontend: creation by name, memory accounting and the memory cap,
 * and fault injection (TUNESCALE_FAULT). */
#include "backends/backend.h"
#include "backends/registry.h"

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

#define FAIL(be, op)                                                                               \
    ts_backend_fail(be, TS_ERR,                                                                    \
                    "%s failed: injected device fault at call %lu (TUNESCALE_FAULT=%s)", op,       \
                    fault.count, fault.spec)

/* ---- the checked table ------------------------------------------------------------------
 * One wrapper per op of ops.def: count the call for TUNESCALE_FAULT, skip it after the first
 * error, check sizes, the op's own rule and every view, then call the backend. Backends thus
 * see only valid calls and keep only the checks that are their device's limits. */
#define TS_OP(name, exempt, check, ...)                                                            \
    static void checked_##name(ts_backend *be, TS_OP_PARAMS(__VA_ARGS__)) {                        \
        const char *op = #name;                                                                    \
        if (fault.kind == 'o' && fault_fires('o')) FAIL(be, op);                                   \
        if (be->error != TS_OK) return;                                                            \
        if (TS_OP_SIZES_OK(__VA_ARGS__) && (check) && TS_OP_VIEWS_OK(__VA_ARGS__)) {               \
            be->ops++;                                                                             \
            be->dispatches += (unsigned long)be->dispatch_per_op;                                  \
            be->impl->name(be, TS_OP_ARGS(__VA_ARGS__));                                           \
        }                                                                                          \
    }
#include "backends/ops.def"
#undef TS_OP

/* Transfers: counted like ops, refused after the first error, and bounds-checked in bytes (a
 * transfer need not be a whole number of elements). */
static ts_status check_transfer(ts_backend *be, ts_tensor t, size_t bytes, const char *what) {
    if (fault_fires('o')) FAIL(be, what);
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    const char *name = be->impl->name;
    if (!t.buf) return ts_set_error("%s backend: %s into or from a null buffer", name, what);
    size_t size = be->impl->buffer_size(be, t.buf);
    if (t.off > size / 4 || bytes > size - t.off * 4)
        return ts_set_error("%s backend: %s of %zu bytes at byte offset %zu runs past the end of a "
                            "%zu-byte buffer",
                            name, what, bytes, t.off * 4, size);
    return TS_OK;
}

static ts_status checked_upload(ts_backend *be, ts_tensor dst, const void *src, size_t bytes) {
    ts_status st = check_transfer(be, dst, bytes, "upload");
    return st != TS_OK ? st : be->impl->upload(be, dst, src, bytes);
}

static ts_status checked_download(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    ts_status st = check_transfer(be, src, bytes, "download");
    return st != TS_OK ? st : be->impl->download(be, dst, src, bytes);
}

ts_status ts_download_start(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    if (!be->impl->download_start) return be->iface->download(be, dst, src, bytes);
    ts_status st = check_transfer(be, src, bytes, "download");
    return st != TS_OK ? st : be->impl->download_start(be, dst, src, bytes);
}

ts_status ts_download_wait(ts_backend *be, void *dst) {
    /* waited for even after an error: the backend may still be writing into dst */
    if (be->impl->download_wait) return be->impl->download_wait(be, dst);
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* Points be->iface at a copy of the backend's table whose ops are the checked wrappers (an op
 * the backend lacks stays NULL, so callers can still test for it). */
static void use_checked_table(ts_backend *be) {
    be->impl = be->iface;
    be->checked = *be->impl;
    be->checked.upload = checked_upload;
    be->checked.download = checked_download;
#define TS_OP(name, exempt, check, ...)                                                            \
    if (be->impl->name) be->checked.name = checked_##name;
#include "backends/ops.def"
#undef TS_OP
    be->iface = &be->checked;
}

/* ---- the largest single buffer ----------------------------------------------------------
 * The device's own limit (set by the backend), 2^31 - 1 elements, and TUNESCALE_MAX_BUFFER_BYTES
 * (which can only lower it: it lets small tests split their storage as a big model must). */
static ts_status pick_max_buffer(ts_backend *be) {
    size_t cap = TS_MAX_BUFFER_ELEMENTS * 4;
    const char *why = "2^31-1 elements, the most 32-bit indices address";
    if (be->max_buffer_bytes && be->max_buffer_bytes < cap) {
        cap = be->max_buffer_bytes;
        why = "the device's maximum allocation";
    }
    const char *env = getenv("TUNESCALE_MAX_BUFFER_BYTES");
    if (env && *env) {
        size_t v = 0;
        if (!ts_parse_size(env, &v) || v < 1024)
            return ts_set_error_status(TS_EUSAGE,
                                       "TUNESCALE_MAX_BUFFER_BYTES='%s' is not a size of at "
                                       "least 1KiB (e.g. 64KiB or 1048576); unset it for the "
                                       "device's limit",
                                       env);
        if (v < cap) {
            cap = v;
            why = "TUNESCALE_MAX_BUFFER_BYTES";
        }
    }
    be->max_buffer_bytes = cap & ~(size_t)63; /* whole 64-byte tensors (see ts_carve) */
    be->max_buffer_why = why;
    return TS_OK;
}

/* A constructor sets be->precision only for a mode it computes as named, in its GEMMs and its
 * fused attention; anything else is refused here, so no backend can compute fp32 while a
 * result claims another mode. */
static ts_status check_precision(ts_backend *be, const char *name, ts_precision want) {
    if (be->precision == want) {
        if (!be->precision_impl[0])
            snprintf(be->precision_impl, sizeof be->precision_impl, "%s", ts_precision_name(want));
        return TS_OK;
    }
    ts_device_info info = {0};
    be->iface->device_info(be, &info);
    return ts_set_error("%s backend: --precision %s is not supported on this device: %s "
                        "(use --precision fp32)",
                        name, ts_precision_name(want), info.name[0] ? info.name : "?");
}

ts_status ts_backend_create(const char *name, const ts_backend_options *o, ts_backend **out) {
    *out = NULL;
    if (fault_parse() != TS_OK) return TS_EUSAGE;
    ts_backend_options defaults = {0};
    if (!o) o = &defaults;
    const ts_backend_entry *e = ts_backend_find(name);
    if (!e)
        return ts_set_error_status(TS_EUSAGE, "unknown backend '%s' (%s)", name,
                                   ts_backend_names());
    if (!e->built)
        return ts_set_error_status(TS_EUSAGE, "backend '%s' was not built (%s); use --backend cpu",
                                   name, e->not_built);
    ts_status st = e->create(o, out);
    if (st != TS_OK) return st;
    if ((st = check_precision(*out, e->name, o->precision)) != TS_OK) {
        ts_backend_destroy(*out);
        *out = NULL;
        return st;
    }
    (*out)->mem_limit = o->mem_limit;
    if ((st = pick_max_buffer(*out)) != TS_OK) {
        ts_backend_destroy(*out);
        *out = NULL;
        return st;
    }
    use_checked_table(*out);
    return TS_OK;
}

void ts_backend_destroy(ts_backend *be) {
    if (!be) return;
    free(be->tags);
    be->iface->destroy(be);
}

/* ---- accounting by category ------------------------------------------------------------ */

struct ts_mem_tag {
    ts_buffer *buf;
    ts_mem_category category;
};

const char *ts_mem_category_name(ts_mem_category category) {
    static const char *const names[TS_MEM_CATEGORIES] = {"other", "params_optimizer", "activations",
                                                         "scratch"};
    return (unsigned)category < TS_MEM_CATEGORIES ? names[category] : "other";
}

/* Counts a new buffer; 0 when the host cannot remember its tag. */
static int account(ts_backend *be, ts_buffer *buf, size_t bytes, ts_mem_category category) {
    if (category != TS_MEM_OTHER) {
        if (be->n_tags == be->cap_tags) {
            size_t cap = be->cap_tags ? 2 * be->cap_tags : 32;
            struct ts_mem_tag *t = realloc(be->tags, cap * sizeof *t);
            if (!t) return 0;
            be->tags = t;
            be->cap_tags = cap;
        }
        be->tags[be->n_tags++] = (struct ts_mem_tag){buf, category};
    }
    be->bytes_in_use += bytes;
    be->category_bytes[category] += bytes;
    if (be->bytes_in_use > be->peak_bytes) {
        be->peak_bytes = be->bytes_in_use;
        memcpy(be->category_peak, be->category_bytes, sizeof be->category_peak);
    }
    return 1;
}

/* Forgets a buffer's tag; returns its category. */
static ts_mem_category untag(ts_backend *be, ts_buffer *buf) {
    for (size_t i = 0; i < be->n_tags; i++)
        if (be->tags[i].buf == buf) {
            ts_mem_category c = be->tags[i].category;
            be->tags[i] = be->tags[--be->n_tags];
            return c;
        }
    return TS_MEM_OTHER;
}

ts_status ts_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out) {
    return ts_buffer_alloc_as(be, bytes, TS_MEM_OTHER, out);
}

ts_status ts_buffer_alloc_as(ts_backend *be, size_t bytes, ts_mem_category category,
                             ts_buffer **out) {
    *out = NULL;
    if ((unsigned)category >= TS_MEM_CATEGORIES) category = TS_MEM_OTHER;
    if (be->max_buffer_bytes && bytes > be->max_buffer_bytes) {
        be->oom_needed_bytes = be->bytes_in_use + bytes;
        return ts_set_error_status(TS_ENOMEM,
                                   "%s backend: out of memory: one buffer of %zu bytes is more "
                                   "than one allocation may hold (%zu bytes: %s); a tensor this "
                                   "large does not fit, use a smaller batch or model",
                                   be->iface->name, bytes, be->max_buffer_bytes,
                                   be->max_buffer_why);
    }
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
    if (!account(be, *out, bytes, category)) {
        be->iface->buffer_free(be, *out);
        *out = NULL;
        return ts_set_error_status(TS_ENOMEM, "out of host memory counting a buffer");
    }
    return TS_OK;
}

void ts_buffer_free(ts_backend *be, ts_buffer *buf) {
    if (!buf) return;
    size_t bytes = be->iface->buffer_size(be, buf);
    be->bytes_in_use -= bytes;
    be->category_bytes[untag(be, buf)] -= bytes;
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

void ts_backend_fail_bad_data(ts_backend *be, int code) {
    if (code == TS_BAD_EMBEDDING_ID)
        ts_backend_fail(be, TS_ERR,
                        "embedding: an id is outside the table [0, V) (found on the device)");
    else if (code == TS_BAD_TARGET)
        ts_backend_fail(be, TS_ERR,
                        "crossentropy: a target is outside the vocabulary [0, V) and is not the "
                        "ignore index (found on the device)");
    else
        ts_backend_fail(be, TS_ERR, "a kernel reported bad data (code %d)", code);
}

void ts_backend_fail_call(ts_backend *be, int oom, const char *call, const char *op,
                          const char *error, int code, const char *device) {
    if (oom)
        ts_backend_fail(be, TS_ENOMEM, "out of device memory: %s (%s) failed with %s on %s", call,
                        op, error, device);
    else
        ts_backend_fail(be, TS_ERR, "%s (%s) failed: %s (%d)", call, op, error, code);
}

ts_backend *ts_backend_new(const ts_backend_iface *iface, size_t ctx_bytes) {
    ts_backend *be = calloc(1, sizeof *be);
    void *ctx = calloc(1, ctx_bytes);
    if (!be || !ctx) {
        free(be);
        free(ctx);
        ts_set_error_status(TS_ENOMEM, "out of host memory creating the %s backend", iface->name);
        return NULL;
    }
    be->iface = iface;
    be->ctx = ctx;
    be->error = TS_OK;
    return be;
}

ts_status ts_backend_replay_error(ts_backend *be) {
    return ts_set_error_status(be->error, "%s backend: %s", be->iface->name, be->error_msg);
}

int ts_check_size(ts_backend *be, const char *op, const char *arg, long value) {
    if (value >= 0) return 1;
    ts_backend_fail(be, TS_ERR, "%s: negative %s (%ld)", op, arg, value);
    return 0;
}

int ts_check_view(ts_backend *be, const char *op, const char *arg, ts_tensor t, size_t n) {
    if (n == 0) return 1; /* an empty view is not looked at */
    if (!t.buf) {
        ts_backend_fail(be, TS_ERR, "%s: tensor '%s' has no buffer", op, arg);
        return 0;
    }
    size_t elems = be->impl->buffer_size(be, t.buf) / 4;
    if (t.off > elems || n > elems - t.off) {
        ts_backend_fail(be, TS_ERR,
                        "%s: tensor '%s' reads elements [%zu, %zu) of a %zu-element buffer", op,
                        arg, t.off, t.off + n, elems);
        return 0;
    }
    size_t limit = be->impl->view_limit;
    if (limit && t.off + n > limit) {
        ts_backend_fail(be, TS_ERR, "%s: tensor '%s' reaches element %zu, past the %s index (%zu)",
                        op, arg, t.off + n, be->impl->name, limit);
        return 0;
    }
    return 1;
}

int ts_check_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, int lda, int ldb,
                  int ldc) {
    if (M == 0 || N == 0) return 1;
    /* Stored shapes: A is M x K (K x M transposed), B is K x N (N x K transposed). */
    int a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
    if (ldc >= N && (K == 0 || (lda >= a_cols && ldb >= b_cols && lda >= 1 && ldb >= 1))) return 1;
    ts_backend_fail(be, TS_ERR,
                    "gemm: leading dimension too small (lda=%d ldb=%d ldc=%d for M=%d N=%d K=%d)",
                    lda, ldb, ldc, M, N, K);
    return 0;
}

int ts_check_table(ts_backend *be, const char *op, int n, int C, int V) {
    if (n == 0 || C == 0 || V > 0) return 1;
    ts_backend_fail(be, TS_ERR, "%s: empty table (V=%d)", op, V);
    return 0;
}

int ts_check_dropout(ts_backend *be, const char *op, size_t n, float p) {
    if (n == 0 || (p >= 0.0f && p <= 1.0f)) return 1;
    ts_backend_fail(be, TS_ERR, "%s: probability %g is outside [0, 1]", op, (double)p);
    return 0;
}

ts_dropout_words ts_dropout_words_of(float p, ts_dropout_key key) {
    /* u = (w >> 8) * 2^-24 >= p  <=>  (w >> 8) >= ceil(p * 2^24), exactly, as an integer compare */
    return (ts_dropout_words){(uint32_t)ceil((double)p * 16777216.0),
                              p < 1.0f ? 1.0f / (1.0f - p) : 0.0f,
                              (uint32_t)key.seed,
                              (uint32_t)(key.seed >> 32),
                              key.step,
                              key.tensor_id,
                              (uint32_t)key.offset,
                              key.span,
                              key.stride};
}

ts_adamw_scalars ts_adamw_scalars_of(double lr, double beta1, double beta2, double eps,
                                     double weight_decay, int t) {
    return (ts_adamw_scalars){(float)(1.0 - lr * weight_decay),
                              (float)beta1,
                              (float)beta2,
                              (float)eps,
                              (float)(1.0 - beta1),
                              (float)(1.0 - beta2),
                              (float)(-lr / (1.0 - pow(beta1, t))),
                              (float)sqrt(1.0 - pow(beta2, t))};
}

int ts_check_attention(ts_backend *be, const char *op, int BH, int T, int HS, float p) {
    if (BH == 0 || T == 0) return 1;
    if (HS < 1 || HS > TS_ATTENTION_MAX_HS) {
        ts_backend_fail(be, TS_ERR, "%s: head size %d is outside 1..%d", op, HS,
                        TS_ATTENTION_MAX_HS);
        return 0;
    }
    if (p >= 0.0f && p < 1.0f) return 1;
    ts_backend_fail(be, TS_ERR, "%s: dropout probability %g is outside [0, 1)", op, (double)p);
    return 0;
}

int ts_check_lstm_ld(ts_backend *be, const char *op, int B, int H, int ld_state) {
    if (B == 0 || H == 0 || ld_state >= H) return 1;
    ts_backend_fail(be, TS_ERR, "%s: ld_state %d is smaller than H %d", op, ld_state, H);
    return 0;
}

int ts_check_adamw_step(ts_backend *be, size_t n, int t) {
    if (n == 0 || t >= 1) return 1;
    ts_backend_fail(be, TS_ERR, "adamw: step %d must be >= 1", t);
    return 0;
}

size_t ts_timings_json(char *json, size_t cap, double *ms, size_t n, const char *(*name)(size_t)) {
    size_t len = 0;
    int fits = 1;
    char tmp[64];
    for (size_t f = 0; f <= n; f++) {
        int w;
        if (f == n)
            w = snprintf(tmp, sizeof tmp, "%s}", len ? "" : "{");
        else if (ms[f] > 0)
            w = snprintf(tmp, sizeof tmp, "%s\"%s\": %.4f", len ? ", " : "{", name(f), ms[f]);
        else
            continue;
        fits = fits && json && len + (size_t)w < cap;
        if (fits) memcpy(json + len, tmp, (size_t)w + 1);
        len += (size_t)w;
    }
    if (!fits && json && cap) json[0] = '\0'; /* all or nothing, as the caller sizes it */
    memset(ms, 0, n * sizeof *ms);
    return len;
}
