/*
 * commands.h — the subcommands of `tunescale` (DESIGN.md "Command line" is the contract).
 *
 * Each takes argc/argv starting at its own name (argv[0] = "devices") and returns the process
 * exit code: 0 ok, 1 runtime failure, 2 usage error, 3 out of memory.
 */
#ifndef TS_CLI_COMMANDS_H
#define TS_CLI_COMMANDS_H

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
int cmd_sample(int argc, char **argv);
int cmd_bench_sample(int argc, char **argv); /* bench sample (cmd_sample.c) */
int cmd_eval(int argc, char **argv);
int cmd_finalize(int argc, char **argv);
int cmd_abc(int argc, char **argv);

/* Shared option helpers. */
int ts_wants_help(int argc, char **argv); /* any -h/--help among the arguments */

#endif
