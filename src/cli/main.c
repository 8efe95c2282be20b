/*
 * main.c — `tunescale`: dispatch to a subcommand. The table below is the whole command line;
 * each command's own --help documents its options.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "dist/dist.h"
#include "util/error.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "backends and devices found, with their facts"},
    {"data", cmd_data, "data prepare: fetch, clean, split and encode an ABC corpus"},
    {"params", cmd_params, "the seed's ten models and their exact parameter counts"},
    {"train", cmd_train, "train one model on one backend"},
    {"sweep", cmd_sweep, "run a scaling sweep over models and backends"},
    {"report", cmd_report, "fits, tables and plots for a result set"},
    {"compare", cmd_compare, "one table across machines and backends"},
    {"invalidate", cmd_invalidate, "mark a run as wrong, with the reason (kept, never fitted)"},
    {"bench", cmd_bench, "micro-benchmarks: gemm, peak, step"},
    {"tune", cmd_tune, "time GEMM kernels on this device and keep the fastest"},
    {"sample", cmd_sample, "generate tunes from a checkpoint"},
    {"eval", cmd_eval, "test perplexity, ABC validity, MIDI conversion"},
    {"finalize", cmd_finalize, "the study's final phase: best model, 3 more epochs, samples, eval"},
    {"abc", cmd_abc, "abc check / abc midi: validate ABC, convert to MIDI"},
};
enum { n_commands = sizeof commands / sizeof commands[0] };

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale COMMAND [options]   (tunescale COMMAND --help for its options)\n\n"
            "A vendor-neutral training engine and scaling-law benchmark for character-level\n"
            "language models on folk music in ABC notation (CPU, OpenCL, Vulkan backends).\n\n"
            "commands:\n");
    for (int i = 0; i < n_commands; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\noptions:\n  -h, --help     this text\n  --version      version and git "
                 "commit\n\nexit codes: 0 ok, 1 runtime failure, 2 usage error, 3 out of "
                 "memory\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("tunescale %s (commit %s)\n", ts_version, ts_git_commit);
        printf("mpi: %s\n", ts_dist_built_with_mpi() ? "yes" : "no"); /* mpirun -n K works */
        return 0;
    }
    for (int i = 0; i < n_commands; i++) {
        if (strcmp(name, commands[i].name)) continue;
        /* Under mpirun: sweep deals its runs out to the ranks, train splits each batch over
         * them (data parallel); nothing else has work to share, so K copies would race. */
        if (ts_dist_launched()) {
            if (ts_dist_init() != TS_OK) {
                fprintf(stderr, "tunescale: %s\n", ts_last_error());
                return 2;
            }
            if (ts_dist_size() > 1 && strcmp(name, "sweep") && strcmp(name, "train")) {
                if (ts_dist_rank() == 0)
                    fprintf(stderr,
                            "tunescale: %s does not run as %d MPI ranks (only sweep and train "
                            "do); run it without mpirun\n",
                            name, ts_dist_size());
                return 2;
            }
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "tunescale: unknown command '%s' (see tunescale --help)\n", name);
    return 2;
}
