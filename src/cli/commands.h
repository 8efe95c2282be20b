/*
 * commands.h — the subcommands of `tunescale` (DESIGN.md "Command line" is the contract).
 *
 * Each takes argc/argv starting at its own name (argv[0] = "devices") and returns the process
 * exit code: 0 ok, 1 runtime failure, 2 usage error, 3 out of memory.
 */
#ifndef TS_CLI_COMMANDS_H
#define TS_CLI_COMMANDS_H

#include <cjson/cJSON.h>

#include "sweep/sweep.h"
#include "train/trainer.h"

extern const char *ts_git_commit; /* generated at build time */
extern const char *ts_version;

int cmd_devices(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_invalidate(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_bench_sample(int argc, char **argv); /* bench sample (cmd_sample.c) */
int cmd_eval(int argc, char **argv);
int cmd_finalize(int argc, char **argv);
int cmd_abc(int argc, char **argv);
int cmd_tune(int argc, char **argv);

/* The option parsers of train and sweep alone (for the command-line fuzzer): -1 when the
 * options are complete and valid, else the exit code (0 after --help, 2 after a usage error,
 * already reported on stderr). */
int ts_train_parse_args(int argc, char **argv, ts_train_options *out);
int ts_sweep_parse_args(int argc, char **argv, ts_sweep_options *out, int *report, int *json);

/* Shared option helpers. */
int ts_wants_help(int argc, char **argv); /* any -h/--help among the arguments */
/* A whole-string number in [lo, hi] (no trailing text, no NaN): 1 and *out, else 0. */
int ts_cli_number(const char *s, double lo, double hi, double *out);
/* The one-line usage error after getopt_long: c ':' a missing value, another non-zero c an
 * unknown option, 0 a bad value for opts[li]. Returns 2, the usage exit code. */
struct option;
int ts_cli_option_error(const char *cmd, int c, char **argv, const struct option *opts, int li);

/* Prints doc as indented JSON on stdout: 0, or 1 after a one-line error when out of memory. */
int ts_cli_print_json(const char *cmd, const cJSON *doc);

#endif
