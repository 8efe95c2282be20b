/* cmd_sweep.c — `tunescale sweep`: options into ts_sweep_options, the sweep, then its report. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli/commands.h"
#include "sweep/sweep.h"
#include "util/fsutil.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: tunescale sweep --preset quick|seed|FILE.json --data DIR --backend B[,B...]|all\n"
        "                       --out DIR [options]\n\n"
        "Trains every model of a preset once per backend, each run in its own process, and\n"
        "writes OUT/runs/BACKEND/MODEL-sSEED-KEY/result.json per run, OUT/sweep.json (the\n"
        "manifest) and, at the end, the report (summary.md, summary.csv, plots/). Finished runs\n"
        "are skipped when the same sweep runs again; an interrupted run resumes from its\n"
        "checkpoint. Out-of-memory runs are recorded as 'skipped: out of memory', other\n"
        "failures with their message, and the sweep goes on.\n\n"
        "  --preset P          quick, seed, or a FILE.json (format: bench/presets/README.md)\n"
        "  --data DIR          a dataset from tunescale data prepare\n"
        "  --backend LIST      cpu, opencl, vulkan, comma-separated, or all (every backend\n"
        "                      whose device opens here)\n"
        "  --out DIR           the sweep folder\n"
        "  --device N          device number from tunescale devices (default 0)\n"
        "  --threads N         cpu worker threads per run\n"
        "  --mem-limit SIZE    per-run device memory cap, e.g. 16GiB to emulate a T4\n"
        "  --models A,B        only these models of the preset\n"
        "  --max-params N      only models up to N parameters (e.g. 25M)\n"
        "  --steps N | --tokens N | --epochs E   replace every run's length\n"
        "  --batch B, --seq-len T, --stride S, --lr X   replace the preset's value (--stride 1\n"
        "                      is the notebook's overlapping windows)\n"
        "  --checkpoint-every N  checkpoint runs every N steps (default: every 5 minutes)\n"
        "  --force             run everything again (finished runs are deleted first)\n"
        "  --dry-run           print the plan and stop\n"
        "  --no-report         skip the report at the end (tunescale report OUT makes it)\n"
        "  --json              print the manifest (sweep.json) on stdout at the end\n"
        "  -q, --quiet         no progress lines\n\n"
        "exit codes: 0 every run ok or skipped for memory, 1 a run failed or the sweep was\n"
        "interrupted (run the same command again to go on), 2 usage\n");
}

/* A count with an optional k/M/G suffix ("25M"). */
static int count(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0)) return 0;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'M')
        v *= 1e6, end++;
    else if (*end == 'G')
        v *= 1e9, end++;
    if (*end) return 0;
    *out = v;
    return 1;
}

/* Hook for the report at the end of a sweep (src/analysis). */
int ts_sweep_report(const char *dir, int quiet);

int ts_sweep_parse_args(int argc, char **argv, ts_sweep_options *out, int *report_out,
                        int *json_out) {
    static const struct option opts[] = {{"preset", 1, 0, 'P'},
                                         {"data", 1, 0, 'd'},
                                         {"backend", 1, 0, 'b'},
                                         {"out", 1, 0, 'o'},
                                         {"device", 1, 0, 'D'},
                                         {"threads", 1, 0, 'j'},
                                         {"mem-limit", 1, 0, 'M'},
                                         {"models", 1, 0, 'm'},
                                         {"max-params", 1, 0, 'x'},
                                         {"steps", 1, 0, 's'},
                                         {"tokens", 1, 0, 'k'},
                                         {"epochs", 1, 0, 'e'},
                                         {"batch", 1, 0, 'B'},
                                         {"seq-len", 1, 0, 'T'},
                                         {"stride", 1, 0, 'S'},
                                         {"lr", 1, 0, 'l'},
                                         {"checkpoint-every", 1, 0, 'C'},
                                         {"force", 0, 0, 'f'},
                                         {"dry-run", 0, 0, 'n'},
                                         {"no-report", 0, 0, 'R'},
                                         {"json", 0, 0, 'J'},
                                         {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    ts_sweep_options o;
    memset(&o, 0, sizeof o);
    int report = 1, json = 0, c, lengths = 0;
    double v = 0;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also drops state left by an earlier parse */
    int li = 0;
    while ((c = getopt_long(argc, argv, ":qh", opts, &li)) != -1) {
        int ok = 1;
        switch (c) {
        case 'P':
            o.preset = optarg;
            break;
        case 'd':
            o.data_dir = optarg;
            break;
        case 'b':
            o.backends = optarg;
            break;
        case 'o':
            o.out_dir = optarg;
            break;
        case 'D':
            ok = ts_cli_number(optarg, 0, 1e6, &v), o.device = (int)v;
            break;
        case 'j':
            ok = ts_cli_number(optarg, 1, 4096, &v), o.threads = (int)v;
            break;
        case 'M':
            ok = ts_parse_size(optarg, &o.mem_limit) && o.mem_limit > 0;
            break;
        case 'm':
            o.models = optarg;
            break;
        case 'x':
            ok = count(optarg, &o.max_params);
            break;
        case 's':
            ok = ts_cli_number(optarg, 1, 1e15, &v), o.over.steps = (long)v, lengths++;
            break;
        case 'k':
            ok = count(optarg, &o.over.tokens), lengths++;
            break;
        case 'e':
            ok = ts_cli_number(optarg, 1e-9, 1e6, &o.over.epochs), lengths++;
            break;
        case 'B':
            ok = ts_cli_number(optarg, 1, 1e6, &v), o.over.batch = (int)v;
            break;
        case 'T':
            ok = ts_cli_number(optarg, 1, 1e6, &v), o.over.seq_len = (int)v;
            break;
        case 'S':
            ok = ts_cli_number(optarg, 1, 1e9, &v), o.over.stride = (int)v;
            break;
        case 'l':
            ok = ts_cli_number(optarg, 1e-12, 1e3, &o.over.lr);
            break;
        case 'C':
            ok = ts_cli_number(optarg, 1, 1e15, &v), o.checkpoint_every = (long)v;
            break;
        case 'f':
            o.force = 1;
            break;
        case 'n':
            o.dry_run = 1;
            break;
        case 'R':
            report = 0;
            break;
        case 'J':
            json = 1;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' (value missing) or '?' (unknown option) */
            return ts_cli_option_error("sweep", c, argv, opts, li);
        }
        if (!ok) return ts_cli_option_error("sweep", 0, argv, opts, li);
    }
    if (optind < argc) {
        fprintf(stderr, "tunescale sweep: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o.preset || !o.data_dir || !o.backends || !o.out_dir) {
        fprintf(stderr, "tunescale sweep: --preset, --data, --backend and --out are required "
                        "(see --help)\n");
        return 2;
    }
    if (lengths > 1) {
        fprintf(stderr, "tunescale sweep: give only one of --steps, --tokens, --epochs\n");
        return 2;
    }
    *out = o;
    *report_out = report;
    *json_out = json;
    return -1;
}

int cmd_sweep(int argc, char **argv) {
    ts_sweep_options o;
    int report, json;
    int rc = ts_sweep_parse_args(argc, argv, &o, &report, &json);
    if (rc >= 0) return rc; /* --help, or a usage error already reported */
    ts_sweep_outcome out;
    ts_status st = ts_sweep(&o, &out);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale sweep: %s\n", ts_last_error());
        return st == TS_EUSAGE ? 2 : 1;
    }
    if (o.dry_run) return 0;
    if (!o.quiet)
        fprintf(stderr,
                "tunescale sweep: %d runs: %d ran now (%d ok, %d failed), %d finished earlier, "
                "%d skipped for memory\n",
                out.total, out.ran, out.ok, out.failed, out.skipped_cached, out.oom);
    rc = out.failed ? 1 : 0;
    if (report && ts_sweep_report(o.out_dir, o.quiet || json) != 0) rc = 1;
    if (json) {
        char path[4300], *text;
        size_t len;
        snprintf(path, sizeof path, "%s/sweep.json", o.out_dir);
        if (ts_read_file(path, &text, &len) == TS_OK) {
            fwrite(text, 1, len, stdout);
            putchar('\n');
            free(text);
        }
    }
    return rc;
}
