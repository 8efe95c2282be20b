/* cmd_train.c — `tunescale train`: options into ts_train_options, then one run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
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
        "  --seq-len T         default 256\n"
        "  --stride S          window stride (default T: each token once per epoch; 1 = the\n"
        "                      notebook's overlapping windows)\n"
        "  --lr X              peak learning rate (default 3e-4); --warmup N (default\n"
        "                      min(500, steps/10)); --weight-decay X (0.01); --clip X (1.0)\n"
        "  --dropout P         override the model's dropout (0.1)\n"
        "  --seed S            init, dropout and shuffle seed (default 42)\n"
        "  --mem-limit SIZE    fail like an out-of-memory past SIZE (e.g. 16GiB = a T4)\n"
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
    static const struct option opts[] = {{"model", 1, 0, 'm'},
                                         {"data", 1, 0, 'd'},
                                         TS_CLI_BACKEND_FLAGS,
                                         TS_CLI_MEM_LIMIT_FLAG,
                                         {"steps", 1, 0, 's'},
                                         {"tokens", 1, 0, 'k'},
                                         {"epochs", 1, 0, 'e'},
                                         {"batch", 1, 0, 'B'},
                                         {"seq-len", 1, 0, 'T'},
                                         {"stride", 1, 0, 'S'},
                                         {"lr", 1, 0, 'l'},
                                         {"warmup", 1, 0, 'w'},
                                         {"weight-decay", 1, 0, 'W'},
                                         {"clip", 1, 0, 'c'},
                                         {"dropout", 1, 0, 'p'},
                                         {"seed", 1, 0, 'r'},
                                         {"out", 1, 0, 'o'},
                                         {"resume", 0, 0, 'R'},
                                         {"init", 1, 0, 'i'},
                                         {"test", 0, 0, 't'},
                                         {"checkpoint-every", 1, 0, 'C'},
                                         {"no-eval", 0, 0, 'E'},
                                         {"losses", 1, 0, 'L'},
                                         {"no-shuffle", 0, 0, 'N'},
                                         {"max-nonfinite", 1, 0, 'F'},
                                         {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    ts_train_options o;
    ts_train_options_default(&o);
    ts_cli_backend bk = {o.backend, 0, {o.device, o.threads, o.mem_limit}};
    double v = 0;
    int c;
    *out = o;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also drops state left by an earlier parse */
    int li = 0;
    while ((c = getopt_long(argc, argv, ":qh", opts, &li)) != -1) {
        int ok = 1;
        switch (c) {
        case 'm':
            o.model = optarg;
            break;
        case 'd':
            o.data_dir = optarg;
            break;
        case 's':
            ok = ts_cli_number(optarg, 1, 1e15, &v), o.steps = (long)v;
            break;
        case 'k':
            ok = ts_cli_number(optarg, 1, 1e18, &v), o.tokens = v;
            break;
        case 'e':
            ok = ts_cli_number(optarg, 1e-9, 1e6, &v), o.epochs = v;
            break;
        case 'B':
            ok = ts_cli_number(optarg, 1, 1e6, &v), o.batch = (int)v;
            break;
        case 'T':
            ok = ts_cli_number(optarg, 1, 1e6, &v), o.seq_len = (int)v;
            break;
        case 'S':
            ok = ts_cli_number(optarg, 1, 1e9, &v), o.stride = (int)v;
            break;
        case 'l':
            ok = ts_cli_number(optarg, 0, 1e300, &o.opt.lr);
            break;
        case 'w':
            ok = ts_cli_number(optarg, 0, 1e15, &v), o.warmup = (long)v;
            break;
        case 'W':
            ok = ts_cli_number(optarg, 0, 10, &o.opt.weight_decay);
            break;
        case 'c':
            ok = ts_cli_number(optarg, 1e-12, 1e12, &o.opt.clip);
            break;
        case 'p':
            ok = ts_cli_number(optarg, 0, 0.999999, &o.dropout);
            break;
        case 'r':
            ok = ts_cli_number(optarg, 0, 1.8e19, &v), o.seed = (uint64_t)v;
            break;
        case 'o':
            o.out_dir = optarg;
            break;
        case 'R':
            o.resume = 1;
            break;
        case 'i':
            o.init = optarg;
            break;
        case 't':
            o.test = 1;
            break;
        case 'C':
            ok = ts_cli_number(optarg, 1, 1e15, &v), o.checkpoint_every = (long)v;
            break;
        case 'E':
            o.eval = 0;
            break;
        case 'L':
            o.losses_out = optarg;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'N':
            o.no_shuffle = 1;
            break;
        case 'F':
            ok = ts_cli_number(optarg, 0, 1e15, &v), o.max_nonfinite = (long)v;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* a backend flag, else ':' (value missing) or '?' (unknown option) */
            if ((ok = ts_cli_backend_flag(c, optarg, &bk)) < 0)
                return ts_cli_option_error("train", c, argv, opts, li);
        }
        if (!ok) return ts_cli_option_error("train", 0, argv, opts, li);
    }
    if (optind < argc) {
        fprintf(stderr, "tunescale train: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
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
