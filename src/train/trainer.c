/* trainer.c — the training loop, evaluation, checkpoints and the run's result JSON. */
#define _GNU_SOURCE
#include "train/trainer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/peak_cache.h"
#include "data/dataset_json.h"
#include "dist/dist.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/train_state.h"
#include "train/result_json.h"
#include "train/schedule.h"
#include "util/fsutil.h"
#include "util/sysinfo.h"
#include "util/progress.h"

extern const char *ts_git_commit;
extern const char *ts_version;

void ts_train_options_default(ts_train_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    o->seq_len = 0; /* the model's default (ts_model_default_seq_len) */
    ts_optimizer_default(&o->opt);
    o->warmup = -1;
    o->dropout = -1;
    o->seed = 42;
    o->checkpoint_seconds = 300;
    o->eval = 1;
    o->max_nonfinite = 20;
}

/* FLOPs per trained token: 6N for the matrix products of N non-embedding parameters (forward
 * 2N, backward 4N) plus, for Transformers, 12·L·H·Q·T for attention scores and their use
 * (PaLM, appendix B); embedding lookups are not products. */
static double flops_per_token(const ts_model_config *c, int T) {
    double n = (double)ts_param_count_non_embedding(c);
    double attn = 0;
    if (c->family == TS_TRANSFORMER) attn = 12.0 * c->n_layers * (double)c->d_model * T;
    return 6.0 * n + attn;
}

typedef struct {
    const ts_train_options *o;
    ts_model_config cfg;
    ts_dataset data; /* dataset.json */
    ts_backend *be;
    ts_model *model;
    ts_loader train;
    int B, T, stride;
    long total_steps, warmup, step; /* step = optimizer steps done */
    size_t batches_per_epoch;
    double train_time; /* seconds spent in steps (accumulates across resumes) */
    double tokens_seen;
    cJSON *curve; /* [[step, tokens, loss, lr, grad_norm], ...] */
    long nonfinite;
    long nonfinite_run; /* consecutive non-finite steps */
    char out[4096];
    /* Data-parallel layout: rank of K, each holding up to local_B windows of a batch. */
    int rank, K, local_B;
    int lead;              /* rank 0: the one that writes files and talks */
    float *grad_host;      /* the all-reduce's host buffer (K > 1) */
    int failed_together;   /* an agreement reported a failure: every rank knows, no more talk */
    ts_optimizer opt;      /* o->opt, with the loss scaler under --precision fp16 */
    ts_loss_scaler scaler; /* fp16's dynamic loss scale (not checkpointed: restarts at 2^16) */
} run;

/* A float as the shortest double that reads back as it: 0.1, not 0.10000000149011612. */
static double float_value(float f) {
    char text[32];
    snprintf(text, sizeof text, "%.9g", f);
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, f);
        if ((float)strtod(text, NULL) == f) break;
    }
    return strtod(text, NULL);
}

static cJSON *hyper_json(const run *r) {
    const ts_train_options *o = r->o;
    cJSON *h = cJSON_CreateObject();
    cJSON_AddNumberToObject(h, "batch", r->B);
    cJSON_AddNumberToObject(h, "seq_len", r->T);
    cJSON_AddNumberToObject(h, "stride", r->stride);
    cJSON_AddNumberToObject(h, "lr", o->opt.lr);
    cJSON_AddNumberToObject(h, "warmup_steps", (double)r->warmup);
    cJSON_AddNumberToObject(h, "total_steps", (double)r->total_steps);
    cJSON_AddNumberToObject(h, "weight_decay", o->opt.weight_decay);
    cJSON_AddNumberToObject(h, "beta1", o->opt.beta1);
    cJSON_AddNumberToObject(h, "beta2", o->opt.beta2);
    cJSON_AddNumberToObject(h, "eps", o->opt.eps);
    cJSON_AddNumberToObject(h, "clip", o->opt.clip);
    cJSON_AddNumberToObject(h, "dropout", float_value(r->cfg.dropout));
    cJSON_AddNumberToObject(h, "seed", (double)o->seed);
    cJSON_AddBoolToObject(h, "shuffle", !o->no_shuffle);
    /* only when reduced: an fp32 run's identity (and so its resume) stays as it was */
    if (o->precision != TS_PREC_FP32)
        cJSON_AddStringToObject(h, "precision", ts_precision_name(o->precision));
    return h;
}

/* What must match for a checkpoint to be resumed by this invocation. */
static char *identity(const run *r) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", r->cfg.name);
    cJSON_AddNumberToObject(j, "params", (double)r->model->n_params);
    cJSON_AddStringToObject(j, "dataset_hash", r->data.hash);
    cJSON_AddItemToObject(j, "hyperparameters", hyper_json(r));
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static ts_status save_checkpoint(run *r) {
    char path[4200];
    cJSON *state = cJSON_CreateObject();
    char *id = identity(r);
    cJSON_AddStringToObject(state, "identity", id);
    free(id);
    cJSON_AddNumberToObject(state, "step", (double)r->step);
    cJSON_AddNumberToObject(state, "train_time_s", r->train_time);
    cJSON_AddNumberToObject(state, "tokens_seen", r->tokens_seen);
    cJSON_AddNumberToObject(state, "nonfinite_skipped", (double)r->nonfinite);
    cJSON_AddItemReferenceToObject(state, "curve", r->curve);
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", r->out);
    ts_status st = ts_checkpoint_save(r->model, path, state);
    cJSON_Delete(state);
    return st;
}

static ts_status resume(run *r) {
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", r->out);
    if (!ts_is_file(path)) return TS_OK; /* nothing to resume: start fresh */
    cJSON *state = NULL;
    ts_status st = ts_checkpoint_read_state(path, &state);
    if (st != TS_OK) return st;
    char *id = identity(r);
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(state, "identity");
    if (!cJSON_IsString(sid) || strcmp(sid->valuestring, id)) {
        free(id);
        cJSON_Delete(state);
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: checkpoint is from another model, dataset or "
                                   "hyper-parameters; use another --out or drop --resume",
                                   path);
    }
    free(id);
    cJSON_Delete(state);
    if ((st = ts_checkpoint_load(r->model, path, 1, &state)) != TS_OK) return st;
    ts_train_state ts;
    st = ts_train_state_take(state, path, &ts);
    cJSON_Delete(state);
    if (st != TS_OK) return st;
    r->step = ts.step;
    r->train_time = ts.train_time_s;
    r->tokens_seen = ts.tokens_seen;
    r->nonfinite = ts.nonfinite_skipped;
    cJSON_Delete(r->curve);
    r->curve = ts.curve;
    if (!ts_quiet && !r->o->quiet && r->lead)
        fprintf(stderr, "tunescale: resuming %s at step %ld of %ld\n", r->cfg.name, r->step,
                r->total_steps);
    return TS_OK;
}

/* Every rank learns whether any rank failed (and whether one ran out of memory), so that all
 * leave a collective phase together: a rank that did not fail gets an error saying so. */
static ts_status dp_agree(int K, ts_status st) {
    if (K == 1) return st;
    double f[2] = {st != TS_OK, st == TS_ENOMEM};
    if (ts_dist_sum_double(f, 2) != TS_OK) return st != TS_OK ? st : TS_ERR;
    if (f[0] == 0 || st != TS_OK) return st;
    if (f[1] > 0)
        return ts_set_error_status(TS_ENOMEM, "another data-parallel rank ran out of memory");
    return ts_set_error("stopped because another data-parallel rank failed (see its error)");
}

/* The loss sum and target count over a split, rank `rank` of K taking its slice of every batch
 * (so each holds at most ceil(B/K) windows); the sums are over all ranks. */
static ts_status evaluate_slices(ts_model *m, const char *data_dir, const char *split, int B, int T,
                                 int rank, int K, double *loss, double *tokens) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.bin", data_dir, split);
    ts_loader l;
    double acc[2] = {0, 0}; /* loss sum, targets */
    ts_status st = ts_loader_open(&l, path, T, T, m->cfg.vocab_size);
    int32_t *x = NULL, *y = NULL;
    if (st == TS_OK) {
        ts_loader_set_epoch(&l, 0, 0, 0);
        x = malloc((size_t)B * T * sizeof *x), y = malloc((size_t)B * T * sizeof *y);
        if (!x || !y) st = ts_set_error("out of host memory");
    }
    ts_model_set_slice(m, 0, 0, 0); /* no dropout here: masks do not matter */
    for (size_t j = 0; st == TS_OK && j < ts_loader_batches(&l, B); j++) {
        int n = ts_loader_batch(&l, j, B, x, y);
        int lo = (int)((long)n * rank / K), hi = (int)((long)n * (rank + 1) / K);
        if (hi == lo) continue;
        double s = 0;
        int c = 0;
        st = ts_model_forward(m, x + (size_t)lo * T, y + (size_t)lo * T, hi - lo, T, 0, 0, 0);
        if (st == TS_OK) st = ts_model_loss(m, NULL, &s, &c);
        acc[0] += s;
        acc[1] += c;
    }
    free(x);
    free(y);
    ts_loader_close(&l);
    st = dp_agree(K, st);
    if (st == TS_OK && K > 1) st = ts_dist_sum_double(acc, 2);
    *loss = acc[1] > 0 ? acc[0] / acc[1] : NAN;
    *tokens = acc[1];
    return st;
}

/* Mean loss over every non-<PAD> target of a split, windows of T without overlap, no dropout. */
ts_status ts_evaluate_split(ts_model *m, const char *data_dir, const char *split, int B, int T,
                            double *loss, double *tokens) {
    return evaluate_slices(m, data_dir, split, B, T, 0, 1, loss, tokens);
}

/* dp_agree for a run: after a failure every rank has stopped together. */
static ts_status agree(run *r, ts_status st) {
    st = dp_agree(r->K, st);
    if (st != TS_OK) r->failed_together = 1;
    return st;
}

static ts_status evaluate(run *r, const char *split, double *loss, double *tokens) {
    ts_status st =
        evaluate_slices(r->model, r->o->data_dir, split, r->B, r->T, r->rank, r->K, loss, tokens);
    if (st != TS_OK) r->failed_together = 1; /* evaluate_slices agreed before failing */
    return st;
}

static void progress_line(const run *r, float loss, double elapsed, double tok_s, int final) {
    static double last = -1;
    double now = ts_now();
    if (!final && now - last < 0.25) return;
    last = now;
    char eta[32], tok[32];
    double left = r->total_steps > r->step && tok_s > 0
                      ? (double)(r->total_steps - r->step) * r->B * r->T / tok_s
                      : 0;
    ts_format_duration(eta, sizeof eta, left);
    ts_format_amount(tok, sizeof tok, r->tokens_seen, TS_UNIT_COUNT);
    char spent[32];
    ts_format_duration(spent, sizeof spent, elapsed);
    fprintf(stderr, "\rstep %ld/%ld | %s tok | loss %.4f | %.0f tok/s | %s | ETA %s\033[K", r->step,
            r->total_steps, tok, loss, tok_s, spent, eta);
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

/* The supervisor's progress pipe (see trainer.h); -1 when there is none. */
static int progress_fd(void) {
    const char *env = getenv("TUNESCALE_PROGRESS_FD");
    return env && *env ? atoi(env) : -1;
}

static void report_progress(const run *r, float loss, double tok_s, int final) {
    static double last = -1;
    int fd = r->lead ? progress_fd() : -1;
    if (fd < 0) return;
    double now = ts_now();
    if (!final && now - last < 0.25) return;
    last = now;
    char line[160];
    int n = snprintf(line, sizeof line, "step %ld %ld %.0f %.6g %.6g\n", r->step, r->total_steps,
                     r->tokens_seen, loss, tok_s);
    /* Errors are ignored: if the sweep is gone, the run dies with it (PR_SET_PDEATHSIG). */
    if (write(fd, line, (size_t)n) < 0) return;
}

static void report_phase(const run *r, const char *phase) {
    int fd = r->lead ? progress_fd() : -1;
    if (fd < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "phase %s\n", phase);
    if (write(fd, line, (size_t)n) < 0) return;
}

/* The data-parallel step's exchange (ts_step_shard.all_reduce): this rank's gradients, averaged
 * over the global batch's targets, are summed over the ranks on the host (every rank receives
 * the same bits) and written back, so the norm, the clipping and AdamW that follow are the
 * single-process run's on every rank. */
static ts_status dp_all_reduce(void *ctx, ts_model *m, ts_status st, double sums[2]) {
    run *r = ctx;
    if (st == TS_OK) st = ts_model_get_grads(m, r->grad_host);
    /* a failed rank must not leave the others waiting in the all-reduce */
    if ((st = agree(r, st)) != TS_OK) return st;
    if ((st = ts_dist_sum_double(sums, 2)) == TS_OK)
        st = ts_dist_sum_float(r->grad_host, m->n_params);
    if (st != TS_OK) {
        r->failed_together = 1; /* MPI itself failed: no further collective */
        return st;
    }
    return ts_model_set_grads(m, r->grad_host);
}

static ts_status train_loop(run *r) {
    const ts_train_options *o = r->o;
    size_t BT = (size_t)r->B * r->T;
    int32_t *x = malloc(BT * sizeof *x), *y = malloc(BT * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return ts_set_error("out of host memory");
    }
    /* only rank 0 writes the losses file */
    FILE *losses = o->losses_out && r->lead ? fopen(o->losses_out, r->step ? "a" : "w") : NULL;
    if (o->losses_out && r->lead && !losses) {
        free(x);
        free(y);
        return ts_set_error("%s: cannot write the --losses file: %s", o->losses_out,
                            strerror(errno));
    }
    if (losses) setvbuf(losses, NULL, _IOLBF, 0); /* one line per step, readable while running */
    const char *env = getenv("TUNESCALE_PROGRESS");
    int talk = !o->quiet && r->lead;
    int bar = talk && (env ? atoi(env) : isatty(2));
    double last_ckpt = ts_now(), t0 = ts_now(), done_at_start = r->tokens_seen;
    ts_status st = TS_OK;
    float loss = 0;
    /* Steps run one ahead of their readback: step s+1 is enqueued before the host waits for
     * step s's loss, norm and gate, so the device does not idle while the host prepares a
     * step. Step s is then recorded (counts, curve, divergence) exactly as if it had been read
     * at once. Not ahead when the model must be seen in step s's state (a checkpoint after s)
     * or data-parallel (its exchange waits anyway). next: the next step to enqueue. */
    ts_step_pending pend[2];
    double step_lr[2] = {0, 0};
    int step_n[2] = {0, 0};
    long next = r->step;
    ts_step_shard shard = {r->rank, r->K, dp_all_reduce, r};
    while (r->step < r->total_steps && st == TS_OK) {
        double ts = ts_now();
        /* checkpoint_seconds is judged here, before the step that might follow is enqueued */
        int due = o->checkpoint_every ? (r->step + 1) % o->checkpoint_every == 0
                                      : ts_now() - last_ckpt >= o->checkpoint_seconds;
        due = due && r->step + 1 < r->total_steps && r->lead;
        /* nor under fp16's loss scale: the next step's scale depends on this step's outcome */
        int ahead = r->K == 1 && !due && !r->opt.scaler;
        while (st == TS_OK && next < r->total_steps && next <= r->step + ahead) {
            long epoch = next / (long)r->batches_per_epoch;
            size_t j = (size_t)(next % (long)r->batches_per_epoch);
            if (r->train.epoch != epoch)
                ts_loader_set_epoch(&r->train, o->seed, epoch, !o->no_shuffle);
            int k = (int)(next & 1);
            step_n[k] = ts_loader_batch(&r->train, j, r->B, x, y);
            step_lr[k] = r->opt.lr * ts_lr_lambda(next, r->warmup, r->total_steps);
            st = ts_train_step_begin(r->model, &r->opt, step_lr[k], next, o->seed, x, y, step_n[k],
                                     r->T, r->K > 1 ? &shard : NULL, &pend[k]);
            next++;
        }
        ts_step_result res;
        ts_status end = ts_train_step_end(r->model, &pend[r->step & 1], &res);
        if (st == TS_OK) st = end;
        double lr = step_lr[r->step & 1];
        int n = step_n[r->step & 1];
        loss = res.loss;
        float norm = res.grad_norm;
        r->nonfinite += res.skipped; /* counted, and the run goes on */
        r->nonfinite_run = isfinite(loss) && isfinite(norm) ? 0 : r->nonfinite_run + 1;
        if (st == TS_OK && o->max_nonfinite > 0 && r->nonfinite_run >= o->max_nonfinite)
            st = ts_set_error_status(TS_EDIVERGED,
                                     "%s diverged: %ld steps in a row with a non-finite loss or "
                                     "gradient (at step %ld; lower --lr?)",
                                     r->cfg.name, r->nonfinite_run, r->step + 1);
        if (st != TS_OK) break;
        r->train_time += ts_now() - ts;
        r->step++;
        r->tokens_seen += (double)n * r->T;
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)r->step));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(r->tokens_seen));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(loss));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(lr));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(norm));
        cJSON_AddItemToArray(r->curve, pt);
        if (losses) fprintf(losses, "%ld %.9g %.9g\n", r->step, loss, norm);
        double el = ts_now() - t0;
        report_progress(r, loss, (r->tokens_seen - done_at_start) / el, r->step == r->total_steps);
        if (bar) {
            progress_line(r, loss, el, (r->tokens_seen - done_at_start) / el, 0);
        } else if (talk && r->step % (r->total_steps >= 10 ? r->total_steps / 10 : 1) == 0) {
            /* not a terminal (a log file, CI): one plain line per tenth of the run */
            fprintf(stderr, "tunescale: %s step %ld/%ld, loss %.4f, %.0f tok/s\n", r->cfg.name,
                    r->step, r->total_steps, loss, (r->tokens_seen - done_at_start) / el);
        }
        /* Rank 0 alone writes checkpoints (every rank holds the same state); a failed write
         * reaches the others at the next step's agreement. No later step has begun. */
        if (due) {
            st = save_checkpoint(r);
            last_ckpt = ts_now();
        }
    }
    /* a step begun ahead of a failure still lands its readback before pend goes away */
    for (long s = r->step; s < next; s++) {
        ts_step_result ignored;
        ts_train_step_end(r->model, &pend[s & 1], &ignored);
    }
    if (bar)
        progress_line(r, loss, ts_now() - t0,
                      (r->tokens_seen - done_at_start) / (ts_now() - t0 + 1e-9), 1);
    if (losses) fclose(losses);
    free(x);
    free(y);
    if (st == TS_OK && r->lead) st = save_checkpoint(r);
    return st;
}

/* FNV-1a over the parameters' bytes. */
static uint64_t params_hash(const float *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n * sizeof *p; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Data-parallel ranks must end with the same weights bit for bit: a cheap guard against a
 * reduction that is not deterministic or a rank that drifted. */
static ts_status dp_check_params(run *r) {
    ts_status st = ts_model_get_params(r->model, r->grad_host);
    uint64_t mine = st == TS_OK ? params_hash(r->grad_host, r->model->n_params) : 0, lead = mine;
    if ((st = agree(r, st)) != TS_OK) return st;
    r->failed_together = 1; /* until every rank has agreed below */
    if ((st = ts_dist_bcast(&lead, sizeof lead, 0)) != TS_OK) return st;
    if (ts_dist_any_failed(mine != lead))
        return ts_set_error("data-parallel ranks ended with different parameters (rank %d: hash "
                            "%016llx, rank 0: %016llx)",
                            r->rank, (unsigned long long)mine, (unsigned long long)lead);
    r->failed_together = 0;
    return TS_OK;
}

static cJSON *device_json(ts_backend *be) {
    ts_device_info d;
    memset(&d, 0, sizeof d);
    be->iface->device_info(be, &d);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "backend", be->iface->name);
    cJSON_AddStringToObject(j, "name", d.name);
    cJSON_AddStringToObject(j, "vendor", d.vendor);
    cJSON_AddStringToObject(j, "driver", d.driver);
    cJSON_AddStringToObject(j, "api_version", d.api_version);
    cJSON_AddNumberToObject(j, "memory_bytes", (double)d.memory_bytes);
    cJSON_AddNumberToObject(j, "compute_units", d.compute_units);
    cJSON_AddNumberToObject(j, "threads", d.threads);
    if (d.peak_gflops > 0)
        cJSON_AddNumberToObject(j, "peak_gflops", d.peak_gflops);
    else
        cJSON_AddNullToObject(j, "peak_gflops");
    /* What `tunescale bench peak` measured on this device, when it has been run here. */
    double gflops, gbs;
    if (ts_peak_cache_lookup(be->iface->name, d.name, &gflops, &gbs)) {
        cJSON_AddNumberToObject(j, "peak_gflops_measured", gflops);
        cJSON_AddNumberToObject(j, "bandwidth_gbs_measured", gbs);
    }
    return j;
}

static ts_status write_result(run *r, const char *status, double wall, double val_loss,
                              double val_tokens, double test_loss, size_t asked_bytes) {
    const ts_train_options *o = r->o;
    cJSON *j = ts_result_new();
    if (!j) return ts_set_error("out of host memory");
    cJSON_AddStringToObject(j, "status", status);
    cJSON *ver = cJSON_AddObjectToObject(j, "tunescale");
    cJSON_AddStringToObject(ver, "version", ts_version);
    cJSON_AddStringToObject(ver, "commit", ts_git_commit);
    struct utsname u;
    cJSON *mach = cJSON_AddObjectToObject(j, "machine");
    if (uname(&u) == 0) {
        char os[600];
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(mach, "os", os);
        cJSON_AddStringToObject(mach, "host", u.nodename);
    }
    cJSON_AddNumberToObject(mach, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    if (r->be) cJSON_AddItemToObject(j, "device", device_json(r->be));
    /* what a fit and a table must never mix (analysis/results.c reads it), and how this
     * device computed it */
    cJSON_AddStringToObject(j, "precision", ts_precision_name(o->precision));
    if (r->be) cJSON_AddStringToObject(j, "precision_impl", r->be->precision_impl);
    if (r->opt.scaler) {
        cJSON *ls = cJSON_AddObjectToObject(j, "loss_scale");
        cJSON_AddNumberToObject(ls, "final", r->scaler.scale);
        cJSON_AddNumberToObject(ls, "overflow_steps", (double)r->scaler.overflows);
    }
    ts_sysinfo_add(j); /* host, build and device description (util/sysinfo.h) */
    cJSON *model = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(model, "name", r->cfg.name);
    cJSON_AddStringToObject(model, "family", r->cfg.family == TS_LSTM ? "lstm" : "transformer");
    cJSON_AddNumberToObject(model, "vocab_size", r->cfg.vocab_size);
    cJSON_AddNumberToObject(model, "d_model", r->cfg.d_model);
    cJSON_AddNumberToObject(model, "n_layers", r->cfg.n_layers);
    if (r->cfg.family == TS_TRANSFORMER) {
        cJSON_AddNumberToObject(model, "n_heads", r->cfg.n_heads);
        cJSON_AddNumberToObject(model, "d_ff", r->cfg.d_ff);
        cJSON_AddNumberToObject(model, "max_seq_len", r->cfg.max_seq_len);
    }
    cJSON_AddNumberToObject(model, "dropout", float_value(r->cfg.dropout));
    cJSON_AddNumberToObject(model, "params", (double)ts_param_count(&r->cfg));
    cJSON_AddNumberToObject(model, "params_non_embedding",
                            (double)ts_param_count_non_embedding(&r->cfg));
    cJSON *ds = cJSON_AddObjectToObject(j, "dataset");
    cJSON_AddStringToObject(ds, "dir", o->data_dir);
    cJSON_AddStringToObject(ds, "dataset_hash", r->data.hash);
    for (int s = 0; s < TS_N_SPLITS && r->data.doc; s++) {
        char k[64];
        snprintf(k, sizeof k, "%s_tokens", ts_split_names[s]);
        cJSON_AddNumberToObject(ds, k, r->data.split_tokens[s]);
    }
    cJSON_AddItemToObject(j, "hyperparameters", hyper_json(r));
    /* mpirun -n K: each batch split over K ranks (1: a plain run) */
    cJSON *dp = cJSON_AddObjectToObject(j, "data_parallel");
    cJSON_AddNumberToObject(dp, "ranks", r->K);
    cJSON_AddNumberToObject(dp, "local_batch", r->local_B);
    cJSON_AddNumberToObject(dp, "global_batch", r->B);
    if (!strcmp(status, "ok")) {
        double n_last = 0, sum_last = 0;
        int nc = cJSON_GetArraySize(r->curve);
        long per_epoch = (long)r->batches_per_epoch;
        for (int i = nc - 1; i >= 0 && i >= nc - per_epoch; i--, n_last++)
            sum_last += cJSON_GetArrayItem(cJSON_GetArrayItem(r->curve, i), 2)->valuedouble;
        cJSON_AddNumberToObject(j, "train_loss", n_last ? sum_last / n_last : NAN);
        cJSON_AddNumberToObject(
            j, "train_loss_last",
            nc ? cJSON_GetArrayItem(cJSON_GetArrayItem(r->curve, nc - 1), 2)->valuedouble : NAN);
        if (isfinite(val_loss)) {
            cJSON_AddNumberToObject(j, "val_loss", val_loss);
            cJSON_AddNumberToObject(j, "val_perplexity", exp(val_loss));
            cJSON_AddNumberToObject(j, "val_tokens", val_tokens);
        } else {
            cJSON_AddNullToObject(j, "val_loss");
        }
        if (isfinite(test_loss)) {
            cJSON_AddNumberToObject(j, "test_loss", test_loss);
            cJSON_AddNumberToObject(j, "test_perplexity", exp(test_loss));
        }
        /* global: every rank's tokens over rank 0's time in steps */
        double tok_s = r->train_time > 0 ? r->tokens_seen / r->train_time : 0;
        double fpt = flops_per_token(&r->cfg, r->T);
        cJSON_AddNumberToObject(j, "steps", (double)r->step);
        cJSON_AddNumberToObject(j, "tokens", r->tokens_seen);
        cJSON_AddNumberToObject(j, "wall_time_s", wall);
        cJSON_AddNumberToObject(j, "train_time_s", r->train_time);
        cJSON_AddNumberToObject(j, "tokens_per_s", tok_s);
        cJSON_AddNumberToObject(j, "flops_per_token", fpt);
        cJSON_AddNumberToObject(j, "achieved_gflops", tok_s * fpt / 1e9);
        ts_device_info d;
        memset(&d, 0, sizeof d);
        r->be->iface->device_info(r->be, &d);
        if (d.peak_gflops > 0) /* per device: K ranks use K of them */
            cJSON_AddNumberToObject(j, "mfu", tok_s * fpt / 1e9 / d.peak_gflops / r->K);
        else
            cJSON_AddNullToObject(j, "mfu");
        double gflops, gbs;
        if (ts_peak_cache_lookup(r->be->iface->name, d.name, &gflops, &gbs) && gflops > 0)
            cJSON_AddNumberToObject(j, "mfu_measured", tok_s * fpt / 1e9 / gflops / r->K);
        cJSON_AddNumberToObject(j, "nonfinite_skipped", (double)r->nonfinite);
        cJSON *curve = cJSON_AddObjectToObject(j, "curve");
        cJSON_AddItemToObject(
            curve, "columns",
            cJSON_CreateStringArray(
                (const char *[]){"step", "tokens", "train_loss", "lr", "grad_norm"}, 5));
        cJSON_AddItemReferenceToObject(curve, "points", r->curve);
    }
    if (strcmp(status, "ok")) cJSON_AddNumberToObject(j, "nonfinite_skipped", (double)r->nonfinite);
    if (strcmp(status, "ok") && asked_bytes) {
        cJSON_AddNumberToObject(j, "memory_asked_bytes", (double)asked_bytes);
        cJSON_AddNumberToObject(j, "mem_limit_bytes", (double)o->mem_limit);
    }
    if (r->be) cJSON_AddNumberToObject(j, "peak_memory_bytes", (double)r->be->peak_bytes);
    ts_status st = ts_result_write(r->out, j);
    cJSON_Delete(j);
    return st;
}

/* One training process per run folder (as the sweep has for its folders): two at once both
 * reported success while one run was silently lost. A lock file, not the folder itself, so a
 * sweep's lock on the run folder and its child's lock do not collide. */
static ts_status lock_run_dir(const char *out, int *fd) {
    char path[4300];
    snprintf(path, sizeof path, "%s/.train.lock", out);
    *fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (*fd < 0) return ts_set_error("%s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return ts_set_error("%s: another train is writing to this folder (wait for it, or use "
                            "another --out)",
                            out);
    }
    return TS_OK;
}

/* Activations for B x T tokens, in floating point so no shape can overflow the estimate:
 * beyond 1 TiB no device holds them, and the run is refused before anything is allocated. */
static ts_status check_activation_size(const ts_model_config *c, int B, int T) {
    double N = (double)B * T, C = c->d_model, F = c->d_ff, H = c->n_heads;
    double per_token = 3 + 2.0 * c->vocab_size +
                       c->n_layers * (c->family == TS_LSTM ? 12 * C : 16 * C + 2 * F + H * T);
    double bytes = 4 * N * per_token;
    if (bytes > 1099511627776.0)
        return ts_set_error_status(TS_EUSAGE,
                                   "model %s at --batch %d --seq-len %d: activations need about "
                                   "%.3g bytes, more than any device holds (lower --batch or "
                                   "--seq-len)",
                                   c->name, B, T, bytes);
    return TS_OK;
}

ts_status ts_train(const ts_train_options *o) {
    run r;
    memset(&r, 0, sizeof r);
    int lock_fd = -1; /* the run folder's lock, held until the run is over */
    r.o = o;
    r.curve = cJSON_CreateArray();
    r.rank = ts_dist_rank();
    r.K = ts_dist_size();
    r.lead = r.rank == 0;
    double wall0 = ts_now();
    /* Until the first agreement every rank takes the same path (or fails the same way), except
     * where it touches its own device: those steps fall through to the agreement below. */
    ts_status st = ts_dataset_read(o->data_dir, &r.data);
    if (st != TS_OK) goto done;
    if ((st = ts_model_config_lookup(o->model, &r.cfg)) != TS_OK) goto done;
    r.cfg.vocab_size = r.data.vocab_size; /* the model follows the dataset's vocabulary */
    if (o->dropout >= 0) r.cfg.dropout = (float)o->dropout;
    if ((st = ts_model_config_validate(&r.cfg)) != TS_OK) goto done;
    r.T = o->seq_len ? o->seq_len : ts_model_default_seq_len(&r.cfg);
    r.stride = o->stride ? o->stride : r.T;
    r.B = o->batch ? o->batch : ts_param_count(&r.cfg) > 30000000 ? 32 : 64;
    r.local_B = (r.B + r.K - 1) / r.K; /* each rank holds only its slice's activations */
    if (o->out_dir)
        snprintf(r.out, sizeof r.out, "%s", o->out_dir);
    else
        snprintf(r.out, sizeof r.out, "runs/%s-%s", r.cfg.name, o->backend);
    if ((st = check_activation_size(&r.cfg, r.local_B, r.T)) != TS_OK) goto done;
    if ((st = ts_mkdir_p(r.out)) != TS_OK) goto done;
    if (r.lead) ts_remove_stale_temporaries(r.out); /* debris of a run killed mid-write */

    char path[4200];
    snprintf(path, sizeof path, "%s/train.bin", o->data_dir);
    if ((st = ts_loader_open(&r.train, path, r.T, r.stride, r.cfg.vocab_size)) != TS_OK) goto done;
    r.batches_per_epoch = ts_loader_batches(&r.train, r.B);
    if (o->steps > 0)
        r.total_steps = o->steps;
    else if (o->tokens > 0)
        r.total_steps = (long)ceil(o->tokens / ((double)r.B * r.T));
    else
        r.total_steps = (long)ceil((o->epochs > 0 ? o->epochs : 1.0) * (double)r.batches_per_epoch);
    if (r.total_steps < 1) r.total_steps = 1;
    r.warmup = o->warmup >= 0 ? o->warmup : ts_default_warmup(r.total_steps);

    ts_backend_options bo = {o->device, o->threads, o->mem_limit, o->precision};
    r.opt = o->opt;
    if (o->precision == TS_PREC_FP16) {
        ts_loss_scaler_init(&r.scaler);
        r.opt.scaler = &r.scaler;
    }
    if (!bo.threads && r.K > 1) { /* the node's cores shared among its ranks */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        bo.threads = cores / ts_dist_local_size() > 1 ? (int)(cores / ts_dist_local_size()) : 1;
    }
    st = ts_backend_create(o->backend, &bo, &r.be);
    if (st == TS_OK) st = ts_model_create(&r.cfg, r.be, &r.model);
    if (st == TS_OK) st = ts_model_reserve(r.model, r.local_B, r.T);
    if (st == TS_OK && r.K > 1) {
        r.grad_host = malloc(r.model->n_params * sizeof *r.grad_host);
        if (!r.grad_host) st = ts_set_error("out of host memory");
    }
    if (st == TS_OK && o->init)
        st = ts_checkpoint_load(r.model, o->init, 0, NULL);
    else if (st == TS_OK)
        st = ts_model_init_params(r.model, o->seed);
    if (st == TS_OK && o->resume) st = resume(&r); /* every rank reads the checkpoint */
    if (st == TS_OK && r.lead) st = lock_run_dir(r.out, &lock_fd);
    st = agree(&r, st);
    if (st == TS_OK) st = train_loop(&r);
    /* a failure after the loop's last agreement (rank 0's final checkpoint) reaches all */
    if (!r.failed_together && st != TS_EDIVERGED) st = agree(&r, st);
    if (st == TS_OK && r.K > 1) st = dp_check_params(&r);
    if (st == TS_ENOMEM) goto out_of_memory; /* e.g. the AdamW moments at the first step */
    if (st == TS_EDIVERGED) { /* every rank diverges at the same step: they hold the same bits */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ts_last_error());
        if (r.lead) write_result(&r, "failed: diverged", ts_now() - wall0, NAN, 0, NAN, 0);
        ts_set_error("%s", msg);
        st = TS_ERR;
        goto done;
    }
    double val = NAN, val_tokens = 0, test = NAN, test_tokens = 0;
    if (st == TS_OK && (o->eval || o->test)) report_phase(&r, "eval");
    if (st == TS_OK && o->eval) st = evaluate(&r, "val", &val, &val_tokens);
    if (st == TS_OK && o->test) st = evaluate(&r, "test", &test, &test_tokens);
    if (st == TS_OK && r.lead) {
        snprintf(path, sizeof path, "%s/model.safetensors", r.out);
        st = ts_checkpoint_save(r.model, path, NULL);
    }
    if (st == TS_OK && r.lead)
        st = write_result(&r, "ok", ts_now() - wall0, val, val_tokens, test, 0);
    if (!r.failed_together) st = agree(&r, st); /* all ranks leave with rank 0's outcome */
    if (st == TS_OK) report_phase(&r, "done");
    if (st == TS_OK && !o->quiet && r.lead)
        printf("%s on %s%s%s: %ld steps, train loss %.4f, val loss %.4f (ppl %.2f), %.0f tok/s, "
               "peak memory %.1f MiB -> %s/result.json\n",
               r.cfg.name, o->backend, o->precision ? " " : "",
               o->precision ? ts_precision_name(o->precision) : "", r.step,
               cJSON_GetArraySize(r.curve)
                   ? cJSON_GetArrayItem(
                         cJSON_GetArrayItem(r.curve, cJSON_GetArraySize(r.curve) - 1), 2)
                         ->valuedouble
                   : NAN,
               val, exp(val), r.train_time > 0 ? r.tokens_seen / r.train_time : 0,
               (double)r.be->peak_bytes / (1 << 20), r.out);
    goto done;
out_of_memory : {
    /* Wherever the device ran out (parameters, activations, optimizer state), the run is
     * recorded as skipped with what it needs in all, so a sweep goes on past it. */
    size_t asked = (size_t)4 * ts_param_count(&r.cfg) * sizeof(float) +
                   ts_model_activation_bytes(&r.cfg, r.local_B, r.T);
    if (r.be && r.be->oom_needed_bytes > asked) asked = r.be->oom_needed_bytes; /* at least */
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ts_last_error());
    if (r.lead) write_result(&r, "skipped: out of memory", ts_now() - wall0, NAN, 0, NAN, asked);
    ts_set_error_status(TS_ENOMEM, "%s: %s (needs about %.2f GiB; recorded as skipped)", r.cfg.name,
                        msg, (double)asked / (1 << 30));
    st = TS_ENOMEM;
}
done:
    if (lock_fd >= 0) close(lock_fd);
    ts_model_free(r.model);
    ts_backend_destroy(r.be);
    ts_loader_close(&r.train);
    free(r.grad_host);
    cJSON_Delete(r.curve);
    ts_dataset_free(&r.data);
    return st;
}
