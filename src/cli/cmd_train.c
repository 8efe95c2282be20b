/* cmd_train.c — `tunescale train`: options into ts_train_options, then one run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "dist/dist.h"
#include "train/trainer.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: tunescale train --model NAME|FILE.json --data DIR [options]\n\n"
        "Trains one model on one backend and writes DIR/result.json, checkpoint.safetensors\n"
        "(resume point) and model.safetensors (weights with PyTorch state_dict names).\n"
        "Run under mpirun -n K for data-parallel training: each batch is split over the K\n"
        "ranks and their gradients are summed, so the run matches a single process with the\n"
        "same --batch (rank 0 writes the files).\n\n"
        "  --model NAME        transformer-1M..100M, lstm-1M..100M, *-tiny, *-small, or FILE.json\n"
        "  --data DIR          a dataset from tunescale data prepare\n"
        "  --backend B         cpu (default) | opencl | vulkan\n"
        "  --device N          device number from tunescale devices\n"
        "  --threads N         cpu worker threads (default: all cores, shared among the\n"
        "                      ranks on a node under mpirun)\n"
        "  --steps N | --tokens N | --epochs E   run length (default: 1 epoch)\n"
        "  --batch B           default 64 (32 above 30M parameters), as the notebook\n"
        "  --seq-len T         default 256 (a shorter position table: its length)\n"
        "  --stride S          window stride (default T: each token once per epoch; 1 = the\n"
        "                      notebook's overlapping windows)\n"
        "  --lr X              peak learning rate (default 3e-4); --warmup N (default\n"
        "                      min(500, steps/10)); --weight-decay X (0.01); --clip X (1.0)\n"
        "  --dropout P         override the model's dropout (0.1)\n"
        "  --seed S            init, dropout and shuffle seed (default 42)\n"
        "  --mem-limit SIZE    fail like an out-of-memory past SIZE (e.g. 16GiB = a T4)\n"
        "  --precision P       GEMM inputs fp32 (default), tf32, bf16 or fp16 (fp32\n"
        "                      accumulation and master weights; fp16 adds loss scaling);\n"
        "                      a device without the mode fails with exit 1\n"
        "  --out DIR           run folder (default runs/MODEL-BACKEND)\n"
        "  --resume            continue from DIR/checkpoint.safetensors if present\n"
        "  --init FILE         initial weights from a safetensors file (PyTorch names)\n"
        "  --checkpoint-every N  checkpoint every N steps (default: every 5 minutes)\n"
        "  --test              also evaluate on the test split\n"
        "  --no-eval           skip the validation pass\n"
        "  --losses FILE       append 'step loss grad_norm' per step to FILE\n"
        "  --no-shuffle        windows in file order (parity runs against PyTorch)\n"
        "  --max-nonfinite N   non-finite steps are skipped and counted; N in a row stop the\n"
        "                      run as 'failed: diverged' (default 20, 0 = never)\n"
        "  -q, --quiet         no progress or summary\n\n"
        "exit codes: 0 ok, 1 failure, 2 usage, 3 out of memory (recorded as skipped)\n");
}

int ts_train_parse_args(int argc, char **argv, ts_train_options *out) {
    ts_train_options o;
    ts_train_options_default(&o);
    ts_cli_backend bk = {o.backend, 0, {o.device, o.threads, o.mem_limit, o.precision}};
    const ts_cli_opt opts[] = {
        TS_OPT("model", TS_ARG_STR, &o.model),
        TS_OPT("data", TS_ARG_STR, &o.data_dir),
        TS_OPT_NUM("steps", TS_ARG_LONG, &o.steps, 1, 1e15),
        TS_OPT_NUM("tokens", TS_ARG_DOUBLE, &o.tokens, 1, 1e18),
        TS_OPT_NUM("epochs", TS_ARG_DOUBLE, &o.epochs, 1e-9, 1e6),
        TS_OPT_NUM("batch", TS_ARG_INT, &o.batch, 1, 1e6),
        TS_OPT_NUM("seq-len", TS_ARG_INT, &o.seq_len, 1, 1e6),
        TS_OPT_NUM("stride", TS_ARG_INT, &o.stride, 1, 1e9),
        TS_OPT_NUM("lr", TS_ARG_DOUBLE, &o.opt.lr, 0, 1e300),
        TS_OPT_NUM("warmup", TS_ARG_LONG, &o.warmup, 0, 1e15),
        TS_OPT_NUM("weight-decay", TS_ARG_DOUBLE, &o.opt.weight_decay, 0, 10),
        TS_OPT_NUM("clip", TS_ARG_DOUBLE, &o.opt.clip, 1e-12, 1e12),
        TS_OPT_NUM("dropout", TS_ARG_DOUBLE, &o.dropout, 0, 0.999999),
        TS_OPT_NUM("seed", TS_ARG_U64, &o.seed, 0, 1.8e19),
        TS_OPT("out", TS_ARG_STR, &o.out_dir),
        TS_OPT("resume", TS_ARG_ON, &o.resume),
        TS_OPT("init", TS_ARG_STR, &o.init),
        TS_OPT("test", TS_ARG_ON, &o.test),
        TS_OPT_NUM("checkpoint-every", TS_ARG_LONG, &o.checkpoint_every, 1, 1e15),
        TS_OPT("no-eval", TS_ARG_OFF, &o.eval),
        TS_OPT("losses", TS_ARG_STR, &o.losses_out),
        TS_OPT("no-shuffle", TS_ARG_ON, &o.no_shuffle),
        TS_OPT_NUM("max-nonfinite", TS_ARG_LONG, &o.max_nonfinite, 0, 1e15),
        TS_OPT_SHORT("quiet", 'q', TS_ARG_ON, &o.quiet),
        TS_OPT_FN("precision", ts_cli_precision, &o.precision),
        TS_OPT_END};
    const ts_cli_spec spec = {"train", opts, &bk, 1, usage, 0};
    int first;
    *out = o;
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    if (!o.model || !o.data_dir) {
        fprintf(stderr, "tunescale train: --model and --data are required (see --help)\n");
        return 2;
    }
    o.backend = bk.backend;
    o.device = bk.o.device, o.threads = bk.o.threads, o.mem_limit = bk.o.mem_limit;
    *out = o;
    return -1;
}

int cmd_train(int argc, char **argv) {
    ts_train_options o;
    int rc = ts_train_parse_args(argc, argv, &o);
    if (rc >= 0) return rc; /* --help, or a usage error already reported */
    ts_status st = ts_train(&o);
    if (st != TS_OK && ts_dist_size() > 1)
        fprintf(stderr, "tunescale: rank %d: %s\n", ts_dist_rank(), ts_last_error());
    else if (st != TS_OK)
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
    return ts_exit_code(st);
}
