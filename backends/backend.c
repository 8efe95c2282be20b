/* backend.c — the backend frontend: creation by name, memory accounting and the memory cap. */
#include "backends/backend.h"

#include "util/progress.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ts_status ts_backend_create(const char *name, const ts_backend_options *o, ts_backend **out) {
    *out = NULL;
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
    return TS_OK;
}

void ts_backend_destroy(ts_backend *be) {
    if (be) be->iface->destroy(be);
}

ts_status ts_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out) {
    *out = NULL;
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
