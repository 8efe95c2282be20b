/* cli_backend_opts.c — the backend flags and exit codes (see cli_backend_opts.h). */
#include "cli/cli_backend_opts.h"

#include <math.h>

#include "cli/commands.h"

/* A whole number in [lo, hi]: "1.5 threads" is a mistake, not 1. */
static int whole(const char *s, double hi, int *out) {
    double v;
    if (!ts_cli_number(s, 0, hi, &v) || v != floor(v)) return 0;
    *out = (int)v;
    return 1;
}

int ts_cli_backend_flag(int c, const char *arg, ts_cli_backend *b) {
    switch (c) {
    case TS_OPT_BACKEND:
        b->backend = arg;
        return 1;
    case TS_OPT_DEVICE:
        b->device_set = 1;
        return whole(arg, 1e6, &b->o.device);
    case TS_OPT_THREADS:
        return whole(arg, 4096, &b->o.threads);
    case TS_OPT_MEM_LIMIT:
        return ts_parse_size(arg, &b->o.mem_limit) && b->o.mem_limit > 0;
    default:
        return -1;
    }
}

int ts_cli_precision(const char *value, void *dest) {
    return ts_precision_parse(value, dest);
}

int ts_exit_code(ts_status st) {
    return st == TS_OK ? 0 : st == TS_EUSAGE ? 2 : st == TS_ENOMEM ? 3 : 1;
}
