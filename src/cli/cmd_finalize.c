/* cmd_finalize.c — `tunescale finalize`: the study's final phase (src/gen/finalize.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/backend.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "gen/finalize.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale finalize SWEEP_DIR [options]\n\n"
            "The notebook's final phase: picks the run with the lowest val_loss (result.json\n"
            "with status \"ok\" anywhere under SWEEP_DIR), trains it further from its weights,\n"
            "samples N unconditional tunes (temperature 0.9) and N from the notebook's five\n"
            "header prompts (temperature 0.8), converts them to MIDI, evaluates them and writes\n"
            "OUT/ARTEFACTS.md and OUT/final.json. Rerunning resumes: an interrupted training\n"
            "continues from its checkpoint, a finished one is reused.\n\n"
            "  --backend B      cpu (default) | opencl | vulkan; --device N; --threads N\n"
            "  --epochs E       further training (default 3)\n"
            "  --lr X           peak learning rate (default 2e-4)\n"
            "  --tokens N       train N tokens instead of --epochs (quick runs, tests)\n"
            "  --n N            samples of each kind (default 5)\n"
            "  --max-len N      tokens per sample at most (default 400)\n"
            "  --seed S         training and sampling seed (default 42)\n"
            "  --data DIR       the dataset, when the run's dataset.dir is not reachable\n"
            "  --out DIR        default SWEEP_DIR/final\n"
            "  -q, --quiet      no progress or summary\n\n"
            "exit codes: 0 ok, 1 failure, 2 usage, 3 out of memory\n");
}

int cmd_finalize(int argc, char **argv) {
    static const struct option opts[] = {
        TS_CLI_BACKEND_FLAGS, {"epochs", 1, 0, 'e'},  {"lr", 1, 0, 'l'},   {"tokens", 1, 0, 'k'},
        {"n", 1, 0, 'n'},     {"max-len", 1, 0, 'L'}, {"seed", 1, 0, 'r'}, {"data", 1, 0, 'd'},
        {"out", 1, 0, 'o'},   {"quiet", 0, 0, 'q'},   {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    ts_finalize_options o;
    ts_finalize_options_default(&o);
    ts_cli_backend bk = {o.backend, 0, {o.device, o.threads, 0}};
    double v = 0;
    int c;
    opterr = 0;
    optind = 1;
    int li = 0; /* the long option, named in messages */
    while ((c = getopt_long(argc, argv, ":qh", opts, &li)) != -1) {
        int ok = 1;
        switch (c) {
        case 'e':
            ok = ts_cli_number(optarg, 1e-9, 1e6, &o.epochs);
            break;
        case 'l':
            ok = ts_cli_number(optarg, 0, 1e300, &o.lr);
            break;
        case 'k':
            ok = ts_cli_number(optarg, 1, 1e18, &o.tokens);
            break;
        case 'n':
            ok = ts_cli_number(optarg, 1, 1e4, &v), o.n = (int)v;
            break;
        case 'L':
            ok = ts_cli_number(optarg, 1, 1e7, &v), o.max_len = (int)v;
            break;
        case 'r':
            ok = ts_cli_number(optarg, 0, 1.8e19, &v), o.seed = (uint64_t)v;
            break;
        case 'd':
            o.data_dir = optarg;
            break;
        case 'o':
            o.out_dir = optarg;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* a backend flag, else ':' (value missing) or '?' (unknown option) */
            if ((ok = ts_cli_backend_flag(c, optarg, &bk)) < 0)
                return ts_cli_option_error("finalize", c, argv, opts, li);
        }
        if (!ok) return ts_cli_option_error("finalize", 0, argv, opts, li);
    }
    if (argc - optind != 1) {
        fprintf(stderr, "tunescale finalize: one SWEEP_DIR is required (see --help)\n");
        return 2;
    }
    o.sweep_dir = argv[optind];
    o.backend = bk.backend, o.device = bk.o.device, o.threads = bk.o.threads;
    /* An unknown or unbuilt backend, or a device this machine lacks, fails before any work. */
    ts_backend_options bo = {o.device, 1, 0};
    ts_backend *be = NULL;
    ts_status st = ts_backend_create(o.backend ? o.backend : "cpu", &bo, &be);
    ts_backend_destroy(be);
    if (st == TS_OK) st = ts_finalize(&o);
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    return ts_exit_code(st);
}
