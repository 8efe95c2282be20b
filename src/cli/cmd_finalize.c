/* cmd_finalize.c — `tunescale finalize`: the study's final phase (src/gen/finalize.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/backend.h"
#include "cli/cli_args.h"
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
    ts_finalize_options o;
    ts_finalize_options_default(&o);
    ts_cli_backend bk = {o.backend, 0, {o.device, o.threads, 0, TS_PREC_FP32}};
    const ts_cli_opt opts[] = {TS_OPT_NUM("epochs", TS_ARG_DOUBLE, &o.epochs, 1e-9, 1e6),
                               TS_OPT_NUM("lr", TS_ARG_DOUBLE, &o.lr, 0, 1e300),
                               TS_OPT_NUM("tokens", TS_ARG_DOUBLE, &o.tokens, 1, 1e18),
                               TS_OPT_NUM("n", TS_ARG_INT, &o.n, 1, 1e4),
                               TS_OPT_NUM("max-len", TS_ARG_INT, &o.max_len, 1, 1e7),
                               TS_OPT_NUM("seed", TS_ARG_U64, &o.seed, 0, 1.8e19),
                               TS_OPT("data", TS_ARG_STR, &o.data_dir),
                               TS_OPT("out", TS_ARG_STR, &o.out_dir),
                               TS_OPT_SHORT("quiet", 'q', TS_ARG_ON, &o.quiet),
                               TS_OPT_END};
    const ts_cli_spec spec = {"finalize", opts, &bk, 0, usage, 1};
    int first;
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    if (argc - first != 1) {
        fprintf(stderr, "tunescale finalize: one SWEEP_DIR is required (see --help)\n");
        return 2;
    }
    o.sweep_dir = argv[first];
    o.backend = bk.backend, o.device = bk.o.device, o.threads = bk.o.threads;
    /* An unknown or unbuilt backend, or a device this machine lacks, fails before any work. */
    ts_backend_options bo = {o.device, 1, 0, TS_PREC_FP32};
    ts_backend *be = NULL;
    ts_status st = ts_backend_create(o.backend ? o.backend : "cpu", &bo, &be);
    ts_backend_destroy(be);
    if (st == TS_OK) st = ts_finalize(&o);
    if (st != TS_OK) fprintf(stderr, "tunescale: %s\n", ts_last_error());
    return ts_exit_code(st);
}
