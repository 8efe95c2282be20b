/*
 * cli_args.h — one option parser for every command: a command lists its options in a table
 * (name, where the value goes, its range) and ts_cli_parse does the getopt_long loop, --help,
 * the range checks, the backend flags and the one-line usage errors (exit code 2) that every
 * command used to write out itself.
 */
#ifndef TS_CLI_ARGS_H
#define TS_CLI_ARGS_H

#include <stdio.h>

#include "cli/cli_backend_opts.h"

typedef enum {
    TS_ARG_ON,  /* no value: *(int *)dest = 1 */
    TS_ARG_OFF, /* no value: *(int *)dest = 0 */
    TS_ARG_STR, /* *(const char **)dest = the value */
    TS_ARG_INT, /* a number in [lo, hi] into int, long, uint64_t, double or float */
    TS_ARG_LONG,
    TS_ARG_U64,
    TS_ARG_DOUBLE,
    TS_ARG_FLOAT,
    TS_ARG_FN, /* fn(value, dest) parses it: 1 ok, 0 a bad value */
} ts_arg_kind;

typedef struct {
    const char *name; /* the long name, without "--" */
    int short_name;   /* 'q', or 0 */
    ts_arg_kind kind;
    void *dest;
    double lo, hi;
    int (*fn)(const char *value, void *dest);
    int *given; /* when set, counts how often the option was given */
} ts_cli_opt;

/* Table entries: a value or a switch; a number in [lo, hi]; one with a short letter too; one
 * parsed by fn; the end of the table. */
#define TS_OPT(name, kind, dest)                                                                   \
    { (name), 0, (kind), (dest), 0, 0, NULL, NULL }
#define TS_OPT_NUM(name, kind, dest, lo, hi)                                                       \
    { (name), 0, (kind), (dest), (lo), (hi), NULL, NULL }
#define TS_OPT_SHORT(name, ch, kind, dest)                                                         \
    { (name), (ch), (kind), (dest), 0, 0, NULL, NULL }
#define TS_OPT_FN(name, fn, dest)                                                                  \
    { (name), 0, TS_ARG_FN, (dest), 0, 0, (fn), NULL }
#define TS_OPT_END                                                                                 \
    { NULL, 0, TS_ARG_ON, NULL, 0, 0, NULL, NULL }

typedef struct {
    const char *cmd;         /* "train", "bench step": named in messages */
    const ts_cli_opt *opts;  /* ends with an entry whose name is NULL */
    ts_cli_backend *backend; /* NULL: the command takes no backend flags */
    int mem_limit;           /* 1: it also takes --mem-limit */
    void (*usage)(FILE *);   /* --help and -h */
    int max_args;            /* positional arguments it takes (more: a usage error) */
} ts_cli_spec;

/* Parses argv (argv[0] the command's name). Returns -1 when the options are complete and
 * valid (*first_arg: the index of the first positional argument), 0 after --help, 2 after a
 * usage error (already reported on stderr, one line). */
int ts_cli_parse(const ts_cli_spec *spec, int argc, char **argv, int *first_arg);

#endif
