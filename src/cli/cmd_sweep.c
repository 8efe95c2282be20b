/* cmd_sweep.c — `tunescale sweep`: options into ts_sweep_options, the sweep, then its report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli/cli_args.h"
#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "dist/dist.h"
#include "sweep/sweep.h"
#include "util/fsutil.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: tunescale sweep --preset micro|quick|seed|FILE.json --data DIR --backend "
        "B[,B...]|all\n"
        "                       --out DIR [options]\n\n"
        "Trains every model of a preset once per backend, each run in its own process, and\n"
        "writes OUT/runs/BACKEND/MODEL-sSEED-KEY/result.json per run, OUT/sweep.json (the\n"
        "manifest) and, at the end, the report (summary.md, summary.csv, plots/). Finished runs\n"
        "are skipped when the same sweep runs again; an interrupted run resumes from its\n"
        "checkpoint. Out-of-memory runs are recorded as 'skipped: out of memory', other\n"
        "failures with their message, and the sweep goes on.\n\n"
        "  --preset P          micro, quick, seed, or a FILE.json (format: "
        "bench/presets/README.md)\n"
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
        "  --precision P       fp32 (default), tf32, bf16 or fp16 for every run (a preset may\n"
        "                      set \"precision\"); a device without it stops the sweep, exit 1\n"
        "  --checkpoint-every N  checkpoint runs every N steps (default: every 5 minutes)\n"
        "  --force             run everything again (finished runs are deleted first); also\n"
        "                      replaces a folder holding another preset's or data set's sweep\n"
        "  --dry-run           print the plan (runs numbered from 0) and stop\n"
        "  --shard I/K         run only the runs j with j %% K == I (0 <= I < K), e.g. to share\n"
        "                      a sweep between machines; no report (run tunescale report OUT)\n"
        "  --slurm-array       the shard of this Slurm array task: task ID-MIN of COUNT (from\n"
        "                      SLURM_ARRAY_TASK_ID/_MIN/_COUNT); --array=0-(N-1) gives run i to\n"
        "                      task i (bench/slurm/sweep.sbatch)\n"
        "  --no-report         skip the report at the end (tunescale report OUT makes it)\n"
        "  --json              print the manifest (sweep.json) on stdout at the end\n"
        "  -q, --quiet         no progress lines\n\n"
        "Under mpirun -n K the runs are dealt out to the K ranks, largest first; each rank\n"
        "uses device (local rank %% devices) unless --device is given, and rank 0 writes the\n"
        "manifest and the report. Runs already finished are skipped whatever the rank count.\n\n"
        "exit codes: 0 every run ok or skipped for memory, 1 a run failed or the sweep was\n"
        "interrupted (run the same command again to go on), 2 usage\n");
}

/* A count with an optional k/M/G suffix ("25M"). */
static int count(const char *s, void *dest) {
    double *out = dest;
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

/* "I/K" with 0 <= I < K. */
static int parse_shard(const char *s, void *dest) {
    ts_sweep_options *o = dest;
    char *end;
    errno = 0;
    long i = strtol(s, &end, 10);
    if (end == s || *end != '/' || errno) return 0;
    const char *k_at = end + 1;
    long k = strtol(k_at, &end, 10);
    if (end == k_at || *end || errno || k < 1 || k > 1000000 || i < 0 || i >= k) return 0;
    o->shard_index = (int)i;
    o->shard_count = (int)k;
    return 1;
}

/* The shard of this Slurm array task. */
static int slurm_shard(ts_sweep_options *o) {
    const char *id = getenv("SLURM_ARRAY_TASK_ID"), *min = getenv("SLURM_ARRAY_TASK_MIN"),
               *cnt = getenv("SLURM_ARRAY_TASK_COUNT");
    if (!id || !cnt) {
        fprintf(stderr, "tunescale sweep: --slurm-array: SLURM_ARRAY_TASK_ID is not set (submit "
                        "with sbatch --array=0-N, see bench/slurm/sweep.sbatch)\n");
        return 0;
    }
    long i = atol(id) - (min ? atol(min) : 0), k = atol(cnt);
    if (k < 1 || i < 0 || i >= k) {
        fprintf(stderr,
                "tunescale sweep: --slurm-array: task %s of an array of %s from %s: use a "
                "contiguous --array=0-N (task i runs runs i, i+COUNT, ...)\n",
                id, cnt, min ? min : "?");
        return 0;
    }
    o->shard_index = (int)i;
    o->shard_count = (int)k;
    return 1;
}

/* Hook for the report at the end of a sweep (src/analysis). */
int ts_sweep_report(const char *dir, int quiet);

int ts_sweep_parse_args(int argc, char **argv, ts_sweep_options *out, int *report_out,
                        int *json_out) {
    ts_sweep_options o;
    memset(&o, 0, sizeof o);
    ts_cli_backend bk = {0};
    int report = 1, json = 0, lengths = 0, slurm = 0, first;
    const ts_cli_opt opts[] = {
        TS_OPT("preset", TS_ARG_STR, &o.preset),
        TS_OPT("data", TS_ARG_STR, &o.data_dir),
        TS_OPT("out", TS_ARG_STR, &o.out_dir),
        TS_OPT("models", TS_ARG_STR, &o.models),
        TS_OPT_FN("max-params", count, &o.max_params),
        {"steps", 0, TS_ARG_LONG, &o.over.steps, 1, 1e15, NULL, &lengths},
        {"tokens", 0, TS_ARG_FN, &o.over.tokens, 0, 0, count, &lengths},
        {"epochs", 0, TS_ARG_DOUBLE, &o.over.epochs, 1e-9, 1e6, NULL, &lengths},
        TS_OPT_NUM("batch", TS_ARG_INT, &o.over.batch, 1, 1e6),
        TS_OPT_NUM("seq-len", TS_ARG_INT, &o.over.seq_len, 1, 1e6),
        TS_OPT_NUM("stride", TS_ARG_INT, &o.over.stride, 1, 1e9),
        TS_OPT_NUM("lr", TS_ARG_DOUBLE, &o.over.lr, 1e-12, 1e3),
        {"precision", 0, TS_ARG_FN, &o.over.precision, 0, 0, ts_cli_precision,
         &o.over.precision_set},
        TS_OPT_NUM("checkpoint-every", TS_ARG_LONG, &o.checkpoint_every, 1, 1e15),
        TS_OPT("force", TS_ARG_ON, &o.force),
        TS_OPT("dry-run", TS_ARG_ON, &o.dry_run),
        TS_OPT_FN("shard", parse_shard, &o),
        TS_OPT("slurm-array", TS_ARG_ON, &slurm),
        TS_OPT("no-report", TS_ARG_OFF, &report),
        TS_OPT("json", TS_ARG_ON, &json),
        TS_OPT_SHORT("quiet", 'q', TS_ARG_ON, &o.quiet),
        TS_OPT_END};
    const ts_cli_spec spec = {"sweep", opts, &bk, 1, usage, 0};
    int rc = ts_cli_parse(&spec, argc, argv, &first);
    if (rc >= 0) return rc;
    o.backends = bk.backend, o.device = bk.o.device, o.device_set = bk.device_set;
    o.threads = bk.o.threads, o.mem_limit = bk.o.mem_limit;
    if (!o.preset || !o.data_dir || !o.backends || !o.out_dir) {
        fprintf(stderr, "tunescale sweep: --preset, --data, --backend and --out are required "
                        "(see --help)\n");
        return 2;
    }
    if (slurm && o.shard_count) {
        fprintf(stderr, "tunescale sweep: give --shard or --slurm-array, not both\n");
        return 2;
    }
    if (slurm && !slurm_shard(&o)) return 2;
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
        /* The same bad flag or preset would be told by every rank: rank 0 tells it. */
        if (ts_dist_rank() == 0 || st != TS_EUSAGE)
            fprintf(stderr, "tunescale sweep: %s\n", ts_last_error());
        return ts_exit_code(st == TS_ENOMEM ? TS_ERR : st); /* memory: a run's, not the sweep's */
    }
    if (o.dry_run) return 0;
    int lead = ts_dist_rank() == 0; /* under MPI rank 0 speaks for the job */
    if (!o.quiet && lead)
        fprintf(stderr,
                "tunescale sweep: %d runs: %d ran now (%d ok, %d failed), %d finished earlier, "
                "%d skipped for memory%s\n",
                out.total, out.ran, out.ok, out.failed, out.skipped_cached, out.oom,
                out.busy ? ", some left to another process" : "");
    if (!o.quiet && o.shard_count)
        fprintf(stderr,
                "tunescale sweep: shard %d of %d done; run tunescale report %s once every "
                "shard has finished\n",
                o.shard_index, o.shard_count, o.out_dir);
    rc = out.failed ? 1 : 0;
    if (report && out.report && ts_sweep_report(o.out_dir, o.quiet || json) != 0) rc = 1;
    if (json && lead) {
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
