/*
 * cli_backend_opts.h — the backend flags (--backend, --device, --threads, --mem-limit) that
 * every command running a model takes, parsed and checked in one place, and the one mapping
 * from a status to the process exit code.
 */
#ifndef TS_CLI_BACKEND_OPTS_H
#define TS_CLI_BACKEND_OPTS_H

#include <stddef.h>

#include "backends/backend.h"
#include "util/error.h"

/* getopt_long values of the flags: above every character, so no command's letters collide. */
enum { TS_OPT_BACKEND = 0x100, TS_OPT_DEVICE, TS_OPT_THREADS, TS_OPT_MEM_LIMIT };

/* For a command's option table: the three flags every model-running command takes, and
 * --mem-limit for those that honour a memory cap. */
#define TS_CLI_BACKEND_FLAGS                                                                       \
    {"backend", 1, 0, TS_OPT_BACKEND}, {"device", 1, 0, TS_OPT_DEVICE}, {                          \
        "threads", 1, 0, TS_OPT_THREADS                                                            \
    }
#define TS_CLI_MEM_LIMIT_FLAG                                                                      \
    { "mem-limit", 1, 0, TS_OPT_MEM_LIMIT }

typedef struct {
    const char *backend; /* NULL: none given (the command's default, cpu) */
    int device_set;      /* --device was given */
    ts_backend_options o;
} ts_cli_backend;

/* Takes one getopt_long result: 1 when c is a backend flag with a good value (stored in *b),
 * 0 when it is one with a bad value (report it with ts_cli_option_error(cmd, 0, ...)), -1 when
 * c is not a backend flag. Values: --device 0..1e6 and --threads 0..4096 (0: all cores) whole
 * numbers, --mem-limit a size above 0 ("16GiB", "512MiB", "1.5G"). */
int ts_cli_backend_flag(int c, const char *arg, ts_cli_backend *b);

/* A TS_OPT_FN parser for --precision fp32|tf32|bf16|fp16 into a ts_precision. */
int ts_cli_precision(const char *value, void *dest);

/* The exit code of a command that ended with st: 0 ok, 2 usage, 3 out of memory, 1 any other
 * failure. */
int ts_exit_code(ts_status st);

#endif
