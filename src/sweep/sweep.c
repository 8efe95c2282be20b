/* sweep.c — running a sweep: skip what is finished, run the rest one child at a time, record
 * every outcome, keep the manifest current, show one progress line for the whole sweep. */
#define _GNU_SOURCE
#include "sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/device_info.h"
#include "backends/registry.h"
#include "dist/dist.h"
#include "model/config.h"
#include "sweep/child.h"
#include "sweep/plan.h"
#include "train/result_json.h"
#include "util/fsutil.h"
#include "util/sysinfo.h"
#include "util/progress.h"

extern const char *ts_git_commit;
extern const char *ts_version;

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) {
    stop_signal = sig;
}

/* ---- result.json of a run --------------------------------------------------------------- */

/* Takes the outcome from RUN/result.json. Returns 1 if the file is a usable result. */
static int load_result(ts_sweep_run *r, size_t mem_limit) {
    cJSON *j = NULL;
    const char *status = NULL;
    /* no file, or one that is unfinished or not a result: the run is still to do */
    if (ts_result_read(r->dir, &j) != TS_OK || !(status = ts_result_string(j, "status"))) {
        cJSON_Delete(j);
        return 0;
    }
    snprintf(r->status, sizeof r->status, "%s", status);
    r->val_loss = ts_result_number(j, "val_loss");
    r->tokens_per_s = ts_result_number(j, "tokens_per_s");
    r->wall_s = ts_result_number(j, "wall_time_s");
    /* an invalidated run stays as it is (tunescale invalidate): --force trains it again */
    if (!strcmp(r->status, "ok") || !strncmp(r->status, "invalid: ", 9))
        r->state = TS_RUN_OK;
    else if (!strncmp(r->status, "skipped: out of memory", 22))
        r->state = TS_RUN_OOM;
    else
        r->state = TS_RUN_FAILED;
    /* An out-of-memory skip holds only for the cap it met: another --mem-limit tries again. */
    if (r->state == TS_RUN_OOM) {
        double cap = ts_result_number(j, "mem_limit_bytes");
        if ((isnan(cap) ? 0 : (size_t)cap) != mem_limit) r->state = TS_RUN_PENDING;
    }
    cJSON_Delete(j);
    return 1;
}

/* What the run's folder says now: CACHED (finished ok), OOM (skipped at this cap), FAILED (with
 * its status) or PENDING (unfinished, never run, or an unreadable result). */
static void read_state(ts_sweep_run *r, size_t mem_limit) {
    if (!load_result(r, mem_limit))
        r->state = TS_RUN_PENDING;
    else if (r->state == TS_RUN_OK)
        r->state = TS_RUN_CACHED;
}

/* A run that died without writing its result gets one from the sweep, so that every run of
 * the plan has a result.json and report/compare see the failure. */
static ts_status write_failure(const ts_sweep_run *r, const ts_sweep_options *o,
                               const char *dataset_hash, const char *reason, double wall) {
    cJSON *j = ts_result_new();
    if (!j) return ts_set_error("out of host memory");
    char status[600];
    snprintf(status, sizeof status, "failed: %s", reason);
    cJSON_AddStringToObject(j, "status", status);
    cJSON_AddStringToObject(j, "written_by", "sweep");
    cJSON *ver = cJSON_AddObjectToObject(j, "tunescale");
    cJSON_AddStringToObject(ver, "version", ts_version);
    cJSON_AddStringToObject(ver, "commit", ts_git_commit);
    cJSON *dev = cJSON_AddObjectToObject(j, "device");
    cJSON_AddStringToObject(dev, "backend", r->backend);
    cJSON_AddNumberToObject(dev, "index", o->device);
    cJSON *m = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(m, "name", r->cfg.name);
    cJSON_AddStringToObject(m, "family", r->cfg.family == TS_LSTM ? "lstm" : "transformer");
    cJSON_AddNumberToObject(m, "vocab_size", r->cfg.vocab_size);
    cJSON_AddNumberToObject(m, "d_model", r->cfg.d_model);
    cJSON_AddNumberToObject(m, "n_layers", r->cfg.n_layers);
    cJSON_AddNumberToObject(m, "params", (double)r->params);
    cJSON_AddNumberToObject(m, "params_non_embedding",
                            (double)ts_param_count_non_embedding(&r->cfg));
    cJSON *d = cJSON_AddObjectToObject(j, "dataset");
    cJSON_AddStringToObject(d, "dir", o->data_dir);
    cJSON_AddStringToObject(d, "dataset_hash", dataset_hash);
    cJSON *h = cJSON_AddObjectToObject(j, "hyperparameters");
    cJSON_AddNumberToObject(h, "batch", r->hp.batch);
    cJSON_AddNumberToObject(h, "seq_len", r->hp.seq_len);
    cJSON_AddNumberToObject(h, "stride", r->hp.stride);
    cJSON_AddNumberToObject(h, "lr", r->hp.lr);
    cJSON_AddNumberToObject(h, "seed", (double)r->hp.seed);
    cJSON_AddStringToObject(j, "precision", ts_precision_name(r->hp.precision));
    cJSON_AddNumberToObject(j, "wall_time_s", wall);
    ts_status st = ts_result_write(r->dir, j);
    cJSON_Delete(j);
    return st;
}

/* The child's own last words: the last "tunescale: ..." line of its log. */
static void last_error_line(const char *dir, char *out, size_t cap) {
    char path[4300], *text;
    size_t len;
    snprintf(out, cap, "exited without a result");
    snprintf(path, sizeof path, "%s/train.log", dir);
    int quiet = ts_quiet;
    ts_quiet = 1;
    ts_status st = ts_read_file(path, &text, &len);
    ts_quiet = quiet;
    if (st != TS_OK) return;
    char *best = NULL;
    for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n"))
        if (!strncmp(line, "tunescale: ", 11) && !strstr(line, " step ")) best = line + 11;
    if (best) snprintf(out, cap, "%s", best);
    free(text);
}

/* ---- the manifest ----------------------------------------------------------------------- */

static const char *state_name(ts_run_state s) {
    switch (s) {
    case TS_RUN_PENDING:
    case TS_RUN_BUSY:
        return "pending";
    case TS_RUN_CACHED:
    case TS_RUN_OK:
    case TS_RUN_OOM:
    case TS_RUN_FAILED:
        break;
    }
    return NULL;
}

static char backend_list[TS_BACKENDS_MAX * 17]; /* the backends swept, "all" resolved */
static char rank_prefix[32];                    /* "rank K: " before each line under MPI */

static ts_status write_manifest(const ts_sweep_options *o, const ts_sweep_plan *plan) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "tunescale.sweep/1");
    cJSON_AddStringToObject(j, "preset", plan->preset.name);
    cJSON_AddStringToObject(j, "preset_file", plan->preset.path);
    cJSON_AddStringToObject(j, "data", o->data_dir);
    cJSON_AddStringToObject(j, "dataset_hash", plan->dataset.hash);
    cJSON_AddStringToObject(j, "backends", backend_list);
    cJSON_AddStringToObject(j, "commit", ts_git_commit);
    ts_sysinfo_add(j); /* host and build of the machine that ran the sweep */
    if (o->mem_limit) cJSON_AddNumberToObject(j, "mem_limit_bytes", (double)o->mem_limit);
    cJSON *runs = cJSON_AddArrayToObject(j, "runs");
    size_t prefix = strlen(o->out_dir) + 1;
    for (int i = 0; i < plan->n_runs; i++) {
        const ts_sweep_run *r = &plan->runs[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "backend", r->backend);
        cJSON_AddStringToObject(x, "model", r->cfg.name);
        cJSON_AddStringToObject(x, "family", r->cfg.family == TS_LSTM ? "lstm" : "transformer");
        cJSON_AddNumberToObject(x, "params", (double)r->params);
        cJSON_AddNumberToObject(x, "seed", (double)r->hp.seed);
        cJSON_AddStringToObject(x, "precision", ts_precision_name(r->hp.precision));
        cJSON_AddStringToObject(x, "key", r->key);
        cJSON_AddStringToObject(x, "dir", r->dir + prefix);
        const char *st = state_name(r->state);
        cJSON_AddStringToObject(x, "status", st ? st : r->status);
        if (!isnan(r->val_loss)) cJSON_AddNumberToObject(x, "val_loss", r->val_loss);
        if (!isnan(r->tokens_per_s) && r->tokens_per_s > 0)
            cJSON_AddNumberToObject(x, "tokens_per_s", r->tokens_per_s);
        cJSON_AddItemToArray(runs, x);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    char path[4300];
    snprintf(path, sizeof path, "%s/sweep.json", o->out_dir);
    ts_status st = text ? ts_write_file_atomic(path, text, strlen(text)) : TS_ERR;
    free(text);
    return st;
}

/* ---- progress ----------------------------------------------------------------------------- */

typedef struct {
    int enabled; /* a terminal (or TUNESCALE_PROGRESS=1) */
    double t0;
    double work_total, work_done; /* finished runs, in estimated FLOPs */
    double time_done;             /* seconds spent on them */
} sweep_progress;

static void draw(const sweep_progress *p, const ts_sweep_plan *plan, int k, int n,
                 const ts_sweep_run *r, const ts_child *c, double run_elapsed) {
    if (!p->enabled) return;
    double frac = c->total_steps > 0 ? (double)c->step / (double)c->total_steps : 0;
    double done = p->work_done + frac * r->work;
    double spent = p->time_done + run_elapsed;
    /* One rate for the whole sweep from what has run so far; the finished runs' wall time
     * includes start-up and evaluation, so the estimate errs long rather than short. */
    double eta = done > 0 && spent > 1 ? (p->work_total - done) * spent / done : -1;
    char eta_s[32] = "?", tok[32];
    if (eta >= 0) ts_format_duration(eta_s, sizeof eta_s, eta);
    ts_format_amount(tok, sizeof tok, c->tokens_per_s, TS_UNIT_COUNT);
    (void)plan;
    if (c->evaluating)
        fprintf(stderr, "\r[%d/%d] %s %s: evaluating | sweep %.0f%% | ETA %s\033[K", k, n,
                r->backend, r->cfg.name, 100 * done / p->work_total, eta_s);
    else
        fprintf(stderr,
                "\r[%d/%d] %s %s: step %ld/%ld loss %.3f %s tok/s | sweep %.0f%% | ETA %s\033[K", k,
                n, r->backend, r->cfg.name, c->step > 0 ? c->step : 0, c->total_steps, c->loss, tok,
                100 * done / p->work_total, eta_s);
    fflush(stderr);
}

static void print_outcome(const sweep_progress *p, int k, int n, const ts_sweep_run *r, int quiet) {
    if (quiet) return;
    char params[32], eta[96] = "";
    ts_format_amount(params, sizeof params, (double)r->params, TS_UNIT_COUNT);
    if (p->enabled) fprintf(stderr, "\r\033[K");
    /* Logs get no live bar, so each finished run says where the whole sweep stands. */
    if (r->state != TS_RUN_CACHED && p->work_done > 0 && p->work_done < p->work_total) {
        char left[32];
        ts_format_duration(left, sizeof left,
                           (p->work_total - p->work_done) * p->time_done / p->work_done);
        snprintf(eta, sizeof eta, "  | sweep %.0f%%, ETA %s", 100 * p->work_done / p->work_total,
                 left);
    }
    const char *what = r->state == TS_RUN_CACHED ? "cached" : r->state == TS_RUN_OK ? "ok" : "";
    if (r->state == TS_RUN_OK || r->state == TS_RUN_CACHED)
        fprintf(stderr,
                "%s[%d/%d] %-6s %-6s %-20s %7s params  val loss %.4f  %8.0f tok/s  %6.0fs%s\n",
                rank_prefix, k, n, what, r->backend, r->cfg.name, params, r->val_loss,
                r->tokens_per_s, r->wall_s, eta);
    else if (r->state == TS_RUN_BUSY)
        fprintf(stderr,
                "%s[%d/%d] %-6s %-20s %7s params  left alone: another process is "
                "training it\n",
                rank_prefix, k, n, r->backend, r->cfg.name, params);
    else
        fprintf(stderr, "%s[%d/%d] %-6s %-20s %7s params  %s%s\n", rank_prefix, k, n, r->backend,
                r->cfg.name, params, r->status, eta);
}

/* ---- one run -------------------------------------------------------------------------------- */

/* Runs r to an outcome. Returns TS_OK with r->state set, or TS_ERR when the sweep must stop
 * (interrupted, or its own files cannot be written). */
static ts_status execute_locked(ts_sweep_run *r, const ts_sweep_options *o,
                                const ts_sweep_plan *plan, sweep_progress *p, int k, int n) {
    char ckpt[4300], result[4300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", r->dir);
    snprintf(result, sizeof result, "%s/result.json", r->dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int resume = ts_is_file(ckpt);
        unlink(result); /* a stale failure must not be mistaken for this attempt's outcome */
        ts_child c;
        if (ts_child_start(&c, o, r, resume) != TS_OK) return TS_ERR;
        r->attempts++;
        double t0 = ts_now();
        int ws = 0;
        while (ts_child_poll(&c, 200, &ws)) {
            if (stop_signal) {
                ts_child_stop(&c);
                return ts_set_error("interrupted by signal %d: finished runs are kept; run the "
                                    "same command again to resume",
                                    (int)stop_signal);
            }
            draw(p, plan, k, n, r, &c, ts_now() - t0);
        }
        double wall = ts_now() - t0;
        if (stop_signal)
            return ts_set_error("interrupted by signal %d: finished runs are kept; run the same "
                                "command again to resume",
                                (int)stop_signal);
        if (load_result(r, o->mem_limit) && r->state != TS_RUN_PENDING) return TS_OK;
        char reason[512];
        if (WIFSIGNALED(ws)) {
            snprintf(reason, sizeof reason, "crashed (signal %d, %s); see its train.log",
                     WTERMSIG(ws), strsignal(WTERMSIG(ws)));
        } else {
            last_error_line(r->dir, reason, sizeof reason);
        }
        /* A resume that fails may be a damaged or foreign checkpoint: set it aside and start
         * the run once more from the beginning rather than fail it. */
        if (resume && attempt == 0) {
            char aside[4400];
            snprintf(aside, sizeof aside, "%s.rejected-%ld", ckpt, (long)time(NULL));
            if (rename(ckpt, aside) == 0) {
                fprintf(stderr,
                        "\r\033[Ktunescale: %s %s: resuming failed (%s); checkpoint moved to "
                        "%s, starting over\n",
                        r->backend, r->cfg.name, reason, aside);
                continue;
            }
        }
        if (write_failure(r, o, plan->dataset.hash, reason, wall) != TS_OK) return TS_ERR;
        load_result(r, o->mem_limit);
        r->state = TS_RUN_FAILED;
        return TS_OK;
    }
    return TS_OK;
}

/* Holds the run folder's lock while the run trains (flock on the folder itself: no lock file
 * to leave behind), so that two processes sharing a sweep folder never train one run at once.
 * A run another process holds is left to it (TS_RUN_BUSY). */
static ts_status execute(ts_sweep_run *r, const ts_sweep_options *o, const ts_sweep_plan *plan,
                         sweep_progress *p, int k, int n) {
    if (ts_mkdir_p(r->dir) != TS_OK) return TS_ERR;
    int fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ts_set_error("%s: %s", r->dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        r->state = TS_RUN_BUSY;
        return TS_OK;
    }
    ts_status st = execute_locked(r, o, plan, p, k, n);
    close(fd);
    return st;
}

/* ---- the sweep ------------------------------------------------------------------------------ */

static ts_status parse_backends(const char *list, char out[][16], int cap, int *n) {
    *n = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len >= 16 || *n >= cap)
            return ts_set_error_status(TS_EUSAGE, "--backend: bad list '%s'", list);
        char name[16];
        memcpy(name, p, len);
        name[len] = 0;
        if (!ts_backend_find(name))
            return ts_set_error_status(TS_EUSAGE, "--backend: unknown backend '%s' (%s, or all)",
                                       name, ts_backend_names());
        for (int i = 0; i < *n; i++)
            if (!strcmp(out[i], name))
                return ts_set_error_status(TS_EUSAGE, "--backend: '%s' given twice", name);
        memcpy(out[(*n)++], name, len + 1);
        if (!end) break;
        p = end + 1;
    }
    if (*n == 0) return ts_set_error_status(TS_EUSAGE, "--backend: empty list");
    return TS_OK;
}

/* "all": every backend built in whose device opens here; the others are named and left out. */
static void available_backends(const ts_sweep_options *o, char out[][16], int *n, int quiet) {
    *n = 0;
    for (int i = 0; i < ts_backend_registry_count; i++) {
        const char *name = ts_backend_registry[i].name;
        ts_backend_options bo = {o->device, 1, 0, o->over.precision};
        ts_backend *be = NULL;
        int q = ts_quiet;
        ts_quiet = 1;
        ts_status st = ts_backend_create(name, &bo, &be);
        ts_quiet = q;
        if (st == TS_OK) {
            snprintf(out[(*n)++], 16, "%s", name);
            ts_backend_destroy(be);
        } else if (!quiet) {
            fprintf(stderr, "tunescale: sweep: backend %s not available here: %s\n", name,
                    ts_last_error());
        }
    }
}

/* The folder's lock: exclusive for a sweep that owns the folder, shared for shards (Slurm
 * array tasks), which may run side by side but never beside a whole sweep. */
static int lock_out_dir(const char *out, int shared) {
    char path[4300];
    snprintf(path, sizeof path, "%s/.sweep.lock", out);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ts_set_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        close(fd);
        ts_set_error("%s: another sweep is writing to this folder (wait for it, or use another "
                     "--out)",
                     out);
        return -1;
    }
    return fd;
}

/* The number of devices `--device N` can name for a backend (1 when unknown). */
static int device_count(const char *backend) {
    if (!strcmp(backend, "cpu")) return 1;
    cJSON *info = ts_backend_find(backend)->info_json();
    int n = 0;
    if (!strcmp(backend, "opencl")) {
        const cJSON *pl;
        cJSON_ArrayForEach(pl, cJSON_GetObjectItemCaseSensitive(info, "platforms")) n +=
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pl, "devices"));
    } else {
        n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(info, "devices"));
    }
    cJSON_Delete(info);
    return n > 0 ? n : 1;
}

/* The device of this rank for a backend: --device when given, else local rank % devices, so
 * that the ranks of one node spread over its GPUs. */
static int rank_device(const ts_sweep_options *o, const char *backend) {
    if (o->device_set || ts_dist_size() == 1) return o->device;
    return ts_dist_local_rank() % device_count(backend);
}

/* Which backends this sweep runs on. Under MPI rank 0 decides ("all" could differ between
 * nodes) and tells the others, and every rank checks that its own device opens. */
static ts_status choose_backends(const ts_sweep_options *o, char backends[][16], int *n) {
    ts_status st = TS_OK;
    *n = 0;
    if (ts_dist_rank() == 0) {
        if (!strcmp(o->backends, "all"))
            available_backends(o, backends, n, o->quiet);
        else
            st = parse_backends(o->backends, backends, TS_BACKENDS_MAX, n);
        if (st == TS_OK && *n == 0)
            st = ts_set_error("--backend all: no backend opens on this machine");
    }
    if (ts_dist_any_failed(st != TS_OK))
        return st != TS_OK ? st : ts_set_error("rank 0 refused the --backend list");
    if (ts_dist_bcast(n, sizeof *n, 0) != TS_OK ||
        ts_dist_bcast(backends, (size_t)*n * 16, 0) != TS_OK)
        return TS_ERR;
    /* A named backend that is not built, or a --device this machine lacks, stops the sweep
     * with its reason before any run, rather than failing every run with it. */
    for (int i = 0; st == TS_OK && i < *n; i++) {
        if (!strcmp(o->backends, "all") && ts_dist_size() == 1) break; /* opened just now */
        ts_backend_options bo = {rank_device(o, backends[i]), 1, 0, o->over.precision};
        ts_backend *be = NULL;
        int q = ts_quiet;
        ts_quiet = 1;
        st = ts_backend_create(backends[i], &bo, &be);
        ts_quiet = q;
        if (st == TS_OK) ts_backend_destroy(be);
    }
    if (ts_dist_size() > 1 && st != TS_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ts_last_error());
        ts_set_error("rank %d: %s", ts_dist_rank(), msg);
    }
    if (ts_dist_any_failed(st != TS_OK))
        return st != TS_OK ? st
                           : ts_set_error("another rank cannot open a backend (see its message)");
    backend_list[0] = 0;
    for (int i = 0; i < *n; i++)
        snprintf(backend_list + strlen(backend_list), sizeof backend_list - strlen(backend_list),
                 "%s%s", i ? "," : "", backends[i]);
    return TS_OK;
}

/* Who trains which pending run. A shard takes every shard_count-th run of the plan; MPI ranks
 * are dealt the pending runs largest first, each to the rank with the least work so far (the
 * longest-processing-time rule: within 4/3 of the best split), the same on every rank since
 * every rank sees the same plan and states. */
static void assign_owners(const ts_sweep_options *o, ts_sweep_plan *plan) {
    int n = plan->n_runs, ranks = ts_dist_size();
    for (int i = 0; i < n; i++)
        plan->runs[i].owner = o->shard_count ? (i % o->shard_count == o->shard_index ? 0 : -1) : 0;
    if (ranks == 1) return;
    double *load = calloc((size_t)ranks, sizeof *load);
    char *dealt = calloc((size_t)n + 1, 1);
    if (!load || !dealt) {
        free(load), free(dealt);
        return; /* keeps everything on rank 0: slower, still correct */
    }
    for (;;) {
        int big = -1;
        for (int i = 0; i < n; i++)
            if (plan->runs[i].state == TS_RUN_PENDING && !dealt[i] &&
                (big < 0 || plan->runs[i].work > plan->runs[big].work))
                big = i;
        if (big < 0) break;
        int least = 0;
        for (int k = 1; k < ranks; k++)
            if (load[k] < load[least]) least = k;
        plan->runs[big].owner = least;
        load[least] += plan->runs[big].work;
        dealt[big] = 1;
    }
    free(load);
    free(dealt);
}

/* The order this process works in: its runs, largest first under MPI (as dealt), else the
 * plan's order. */
static int *work_order(const ts_sweep_plan *plan) {
    int n = plan->n_runs, *order = malloc(((size_t)n + 1) * sizeof *order);
    if (!order) return NULL;
    for (int i = 0; i < n; i++)
        order[i] = i;
    if (ts_dist_size() > 1)
        for (int i = 1; i < n; i++) /* insertion sort by work, stable */
            for (int j = i; j > 0 && plan->runs[order[j]].work > plan->runs[order[j - 1]].work;
                 j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
    return order;
}

/* Runs trained elsewhere (other ranks, other shards) as their result.json says now, for the
 * manifest: a failure there keeps its status. */
static void refresh_others(ts_sweep_plan *plan, size_t mem_limit) {
    for (int i = 0; i < plan->n_runs; i++) {
        ts_sweep_run *r = &plan->runs[i];
        if (r->owner != ts_dist_rank() || r->state == TS_RUN_BUSY) read_state(r, mem_limit);
    }
}

/* Sums the outcome counters of all ranks (one rank: as they are). */
static void sum_outcomes(ts_sweep_outcome *out) {
    double v[6] = {out->ran, out->skipped_cached, out->ok, out->oom, out->failed, out->busy};
    if (ts_dist_sum_double(v, 6) != TS_OK) return;
    out->ran = (int)v[0], out->skipped_cached = (int)v[1], out->ok = (int)v[2];
    out->oom = (int)v[3], out->failed = (int)v[4], out->busy = (int)v[5];
}

ts_status ts_sweep(const ts_sweep_options *opts, ts_sweep_outcome *out) {
    memset(out, 0, sizeof *out);
    ts_sweep_options local = *opts;
    const ts_sweep_options *o = &local;
    int rank = ts_dist_rank(), ranks = ts_dist_size(), sharded = o->shard_count > 0;
    if (ranks > 1 && sharded)
        return ts_set_error_status(TS_EUSAGE, "--shard/--slurm-array and mpirun each split the "
                                              "sweep: use one of them");
    if (ranks > 1 && !o->threads) { /* the node's cores shared between its ranks */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        local.threads = cores / ts_dist_local_size() > 1 ? (int)(cores / ts_dist_local_size()) : 1;
    }
    snprintf(rank_prefix, sizeof rank_prefix, ranks > 1 ? "rank %d: " : "", rank);
    char backends[TS_BACKENDS_MAX][16];
    int n_backends = 0;
    ts_status st = choose_backends(o, backends, &n_backends);
    if (st != TS_OK) return st;
    if ((st = ts_sweep_check_out(o)) != TS_OK) return st; /* before the folder is touched */
    if (!o->dry_run && ts_mkdir_p(o->out_dir) != TS_OK) return TS_ERR;
    /* Under MPI rank 0 holds the lock for the whole job. */
    int lock = -1;
    if (!o->dry_run && rank == 0) lock = lock_out_dir(o->out_dir, sharded);
    if (ts_dist_any_failed(!o->dry_run && rank == 0 && lock < 0)) {
        if (rank != 0) ts_set_error("%s: rank 0 could not lock the folder", o->out_dir);
        return TS_ERR;
    }
    ts_sweep_plan plan;
    st = ts_sweep_plan_build(o, backends, n_backends, &plan);
    if (ts_dist_any_failed(st != TS_OK)) {
        ts_sweep_plan_free(&plan);
        if (lock >= 0) close(lock);
        return st != TS_OK ? st : ts_set_error("another rank could not plan the sweep");
    }
    int n = plan.n_runs;
    for (int i = 0; i < n; i++)
        plan.runs[i].device = rank_device(o, plan.runs[i].backend);
    if (sharded && o->shard_index >= n && !o->quiet)
        fprintf(stderr, "tunescale sweep: shard %d of %d has no run (the plan has %d)\n",
                o->shard_index, o->shard_count, n);
    assign_owners(o, &plan); /* shards: final; MPI: redone below once states are known */
    out->total = n;
    out->report = rank == 0 && !sharded;
    sweep_progress p;
    memset(&p, 0, sizeof p);
    const char *env = getenv("TUNESCALE_PROGRESS");
    /* One live line per terminal: K ranks would overwrite each other's, so ranks print only
     * the line of each finished run. */
    p.enabled = !o->quiet && ranks == 1 && (env ? atoi(env) : isatty(2));
    p.t0 = ts_now();

    /* What is finished already. Debris of writers killed mid-write goes first; under MPI rank 0
     * cleans for all (a writer's PID means nothing on another node), then the others look. */
    if (rank == 0 && !o->dry_run) {
        if (!sharded) {
            ts_remove_stale_temporaries(o->out_dir);
            char models[4200];
            ts_remove_stale_temporaries(ts_path_join(models, sizeof models, o->out_dir, "models"));
        }
        for (int i = 0; i < n; i++) {
            if (plan.runs[i].owner < 0) continue;
            ts_remove_stale_temporaries(plan.runs[i].dir);
            if (o->force) ts_remove_tree(plan.runs[i].dir); /* --force: nothing reused */
        }
    }
    ts_dist_barrier();
    for (int i = 0; i < n; i++) {
        ts_sweep_run *r = &plan.runs[i];
        read_state(r, o->mem_limit);
        if (r->state == TS_RUN_FAILED) r->state = TS_RUN_PENDING; /* failed earlier: run again */
        if (o->force && !o->dry_run && r->owner >= 0) r->state = TS_RUN_PENDING;
    }
    ts_dist_barrier(); /* every rank has read the states before any run starts changing them */
    assign_owners(o, &plan);
    int todo = 0, mine = 0;
    for (int i = 0; i < n; i++) {
        ts_sweep_run *r = &plan.runs[i];
        todo += r->state == TS_RUN_PENDING;
        if (r->state == TS_RUN_PENDING && r->owner == rank) p.work_total += r->work, mine++;
    }
    if (!o->quiet && rank == 0) {
        char split[96] = "";
        if (ranks > 1) snprintf(split, sizeof split, " over %d MPI ranks", ranks);
        if (sharded)
            snprintf(split, sizeof split, " (shard %d of %d: %d of them)", o->shard_index,
                     o->shard_count, mine);
        fprintf(stderr,
                "tunescale sweep: preset %s, %d run%s on %s, %d to run%s, %d finished -> %s\n",
                plan.preset.name, n, n == 1 ? "" : "s", backend_list, todo, split, n - todo,
                o->out_dir);
    }
    if (o->dry_run) {
        for (int i = 0; rank == 0 && i < n; i++) {
            const ts_sweep_run *r = &plan.runs[i];
            printf("%-3d %-7s %-22s %11zu params  seed %-4llu batch %-3d T %-4d %s %-10g lr %-8g "
                   "%s %s\n",
                   i, r->backend, r->cfg.name, r->params, (unsigned long long)r->hp.seed,
                   r->hp.batch, r->hp.seq_len,
                   r->hp.steps    ? "steps "
                   : r->hp.tokens ? "tokens"
                                  : "epochs",
                   r->hp.steps        ? (double)r->hp.steps
                   : r->hp.tokens > 0 ? r->hp.tokens
                                      : r->hp.epochs,
                   r->hp.lr, ts_precision_name(r->hp.precision),
                   r->state == TS_RUN_PENDING ? "to run" : "finished");
        }
        ts_sweep_plan_free(&plan);
        return TS_OK;
    }
    /* Under MPI rank 0 alone writes the manifest: the others' PIDs could clash in its
     * temporary's name on a shared file system. */
    int manifest = rank == 0;
    if (manifest && (st = write_manifest(o, &plan)) != TS_OK) goto done;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    stop_signal = 0;
    int *order = work_order(&plan);
    for (int k = 0; order && k < n && st == TS_OK; k++) {
        int i = order[k];
        ts_sweep_run *r = &plan.runs[i];
        if (r->owner != rank) continue;
        if (r->state != TS_RUN_PENDING) {
            if (r->state == TS_RUN_CACHED) out->skipped_cached++;
            if (r->state == TS_RUN_OOM) out->oom++;
            print_outcome(&p, i + 1, n, r, o->quiet);
            continue;
        }
        double t0 = ts_now();
        if ((st = execute(r, o, &plan, &p, i + 1, n)) != TS_OK) break;
        if (r->state == TS_RUN_BUSY) {
            out->busy++;
            print_outcome(&p, i + 1, n, r, o->quiet);
            continue;
        }
        p.work_done += r->work;
        p.time_done += ts_now() - t0;
        out->ran++;
        out->ok += r->state == TS_RUN_OK;
        out->oom += r->state == TS_RUN_OOM;
        out->failed += r->state == TS_RUN_FAILED;
        print_outcome(&p, i + 1, n, r, o->quiet);
        if (manifest || sharded) {
            refresh_others(&plan, o->mem_limit);
            if ((st = write_manifest(o, &plan)) != TS_OK) break;
        }
    }
    if (!order) st = ts_set_error("out of host memory");
    free(order);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (stop_signal) out->interrupted = 1;
    if (p.enabled) fprintf(stderr, "\r\033[K");
    /* A rank that stopped early (interrupted, its folder unwritable) still waits here for the
     * others, which finish their runs: one rank's failure costs no one else's work. */
    ts_dist_barrier_idle();
    sum_outcomes(out);
    if (ts_dist_any_failed(st != TS_OK) && st == TS_OK) {
        st = ts_set_error("another rank stopped before its runs were done (see its message); "
                          "finished runs are kept, run the same command again to go on");
        out->report = 0;
    }
    if (manifest || sharded) {
        refresh_others(&plan, o->mem_limit);
        write_manifest(o, &plan);
    }
done:
    ts_sweep_plan_free(&plan);
    if (lock >= 0) close(lock);
    return st;
}
