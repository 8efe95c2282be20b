/* plan.c — expanding a preset into runs, their cache keys and folders. */
#include "sweep/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/sha256.h"

/* Command-line values replace the preset's; a length given there replaces every length. */
static void apply_overrides(ts_run_hparams *hp, const ts_run_hparams *over) {
    if (over->steps || over->tokens > 0 || over->epochs > 0) {
        hp->steps = over->steps;
        hp->tokens = over->tokens;
        hp->epochs = over->epochs;
    }
    if (over->batch) hp->batch = over->batch;
    if (over->seq_len) hp->seq_len = over->seq_len;
    if (over->stride) hp->stride = over->stride;
    if (over->lr > 0) hp->lr = over->lr;
    if (over->precision_set) hp->precision = over->precision;
}

/* Fills the trainer's defaults in, so that the key and the record say what actually runs. */
static void resolve_defaults(ts_run_hparams *hp, size_t params) {
    if (!hp->seq_len) hp->seq_len = 256;
    if (!hp->stride) hp->stride = hp->seq_len;
    if (!hp->batch) hp->batch = params > 30000000 ? 32 : 64;
    if (hp->lr <= 0) hp->lr = 3e-4;
    if (!hp->steps && hp->tokens <= 0 && hp->epochs <= 0) hp->epochs = 1;
}

static double flops_per_token(const ts_model_config *c, int T) {
    double attn = c->family == TS_TRANSFORMER ? 12.0 * c->n_layers * (double)c->d_model * T : 0;
    return 6.0 * (double)ts_param_count_non_embedding(c) + attn;
}

/* The identity of a run: everything that decides its numbers. Two invocations with the same
 * identity share the run folder, so a finished run is found again and an unfinished one
 * resumes; anything else (another dataset or learning rate) gets a folder of its own. The
 * device index is not part of it (version 2): MPI ranks take device local_rank % devices, and
 * a sweep re-run with another rank count must find the same runs; result.json names the device
 * each run had. */
static void run_key(ts_sweep_run *r, const char *dataset_hash) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "key_version", 2);
    cJSON_AddStringToObject(j, "backend", r->backend);
    cJSON_AddStringToObject(j, "dataset_hash", dataset_hash);
    cJSON *m = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(m, "name", r->cfg.name);
    cJSON_AddNumberToObject(m, "family", r->cfg.family);
    cJSON_AddNumberToObject(m, "vocab_size", r->cfg.vocab_size);
    cJSON_AddNumberToObject(m, "d_model", r->cfg.d_model);
    cJSON_AddNumberToObject(m, "n_layers", r->cfg.n_layers);
    cJSON_AddNumberToObject(m, "n_heads", r->cfg.n_heads);
    cJSON_AddNumberToObject(m, "d_ff", r->cfg.d_ff);
    cJSON_AddNumberToObject(m, "max_seq_len", r->cfg.max_seq_len);
    cJSON_AddNumberToObject(m, "dropout", r->hp.dropout >= 0 ? r->hp.dropout : r->cfg.dropout);
    cJSON *h = cJSON_AddObjectToObject(j, "hyperparameters");
    cJSON_AddNumberToObject(h, "steps", (double)r->hp.steps);
    cJSON_AddNumberToObject(h, "tokens", r->hp.tokens);
    cJSON_AddNumberToObject(h, "epochs", r->hp.epochs);
    cJSON_AddNumberToObject(h, "batch", r->hp.batch);
    cJSON_AddNumberToObject(h, "seq_len", r->hp.seq_len);
    cJSON_AddNumberToObject(h, "stride", r->hp.stride);
    cJSON_AddNumberToObject(h, "lr", r->hp.lr);
    cJSON_AddNumberToObject(h, "warmup", (double)r->hp.warmup);
    cJSON_AddNumberToObject(h, "weight_decay", r->hp.weight_decay);
    cJSON_AddNumberToObject(h, "clip", r->hp.clip);
    cJSON_AddNumberToObject(h, "seed", (double)r->hp.seed);
    /* only when reduced: fp32 runs keep the keys (and folders) they always had */
    if (r->hp.precision != TS_PREC_FP32)
        cJSON_AddStringToObject(h, "precision", ts_precision_name(r->hp.precision));
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char hex[65];
    ts_sha256_hex(text, strlen(text), hex);
    free(text);
    memcpy(r->key, hex, 16);
    r->key[16] = 0;
}

static int selected(const ts_sweep_options *o, const char *model, size_t params) {
    if (o->max_params > 0 && (double)params > o->max_params) return 0;
    if (!o->models) return 1;
    size_t n = strlen(model);
    for (const char *p = o->models; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, model, n)) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static ts_status write_shape(const ts_sweep_options *o, ts_sweep_run *r) {
    char dir[4096];
    ts_path_join(dir, sizeof dir, o->out_dir, "models");
    snprintf(r->model_arg, sizeof r->model_arg, "%s/%s.json", dir, r->cfg.name);
    if (o->dry_run) return TS_OK;
    if (ts_mkdir_p(dir) != TS_OK) return TS_ERR;
    char *text = cJSON_Print(r->entry->shape);
    if (!text) return ts_set_error("out of host memory");
    ts_status st = ts_write_file_atomic(r->model_arg, text, strlen(text));
    free(text);
    return st;
}

ts_status ts_sweep_plan_build(const ts_sweep_options *o, char backends[][16], int n_backends,
                              ts_sweep_plan *plan) {
    memset(plan, 0, sizeof *plan);
    ts_status st = ts_preset_load(o->preset, &plan->preset);
    if (st == TS_ERR) { /* a malformed preset is bad input, like a bad flag */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ts_last_error());
        return ts_set_error_status(TS_EUSAGE, "%s", msg);
    }
    if (st != TS_OK) return st;
    if ((st = ts_dataset_read(o->data_dir, &plan->dataset)) != TS_OK) {
        char msg[1024]; /* a dataset that is not one is bad input, like a bad --data */
        snprintf(msg, sizeof msg, "%s", ts_last_error());
        return ts_set_error_status(TS_EUSAGE, "%s", msg);
    }
    int vocab = plan->dataset.vocab_size;
    int n_entries = plan->preset.n_entries;
    plan->runs = calloc((size_t)(n_backends * n_entries) + 1, sizeof *plan->runs);
    if (!plan->runs) return ts_set_error("out of host memory");
    for (int b = 0; b < n_backends; b++)
        for (int i = 0; i < n_entries; i++) {
            const ts_preset_entry *e = &plan->preset.entries[i];
            ts_sweep_run *r = &plan->runs[plan->n_runs];
            r->entry = e;
            snprintf(r->backend, sizeof r->backend, "%s", backends[b]);
            r->cfg = e->cfg;
            r->cfg.vocab_size = vocab; /* the model follows the dataset, as in ts_train */
            r->params = ts_param_count(&r->cfg);
            if (!selected(o, e->model, r->params)) continue;
            r->hp = e->hp;
            /* A length on the command line would give every budget of a list the same run. */
            if (strcmp(e->label, e->model) &&
                (o->over.steps || o->over.tokens > 0 || o->over.epochs > 0))
                return ts_set_error_status(TS_EUSAGE,
                                           "%s: the preset gives a \"tokens\" list; drop "
                                           "--steps/--tokens/--epochs (or use a preset without "
                                           "the list)",
                                           plan->preset.path);
            apply_overrides(&r->hp, &o->over);
            if (!r->hp.seq_len) r->hp.seq_len = ts_model_default_seq_len(&r->cfg);
            resolve_defaults(&r->hp, r->params);
            if (r->cfg.family == TS_TRANSFORMER && r->hp.seq_len > r->cfg.max_seq_len)
                return ts_set_error_status(TS_EUSAGE,
                                           "%s: seq_len %d is longer than the model's position "
                                           "table (%d)",
                                           e->model, r->hp.seq_len, r->cfg.max_seq_len);
            double tokens = r->hp.steps ? (double)r->hp.steps * r->hp.batch * r->hp.seq_len
                            : r->hp.tokens > 0
                                ? r->hp.tokens
                                : r->hp.epochs * plan->dataset.split_tokens[TS_SPLIT_TRAIN] *
                                      r->hp.seq_len / r->hp.stride;
            r->work = tokens * flops_per_token(&r->cfg, r->hp.seq_len);
            run_key(r, plan->dataset.hash);
            /* label: the model's name, or with "-d<tokens>" for a preset's budget list */
            snprintf(r->dir, sizeof r->dir, "%s/runs/%s/%s-s%llu-%s", o->out_dir, r->backend,
                     e->label, (unsigned long long)r->hp.seed, r->key);
            if (e->shape) {
                if ((st = write_shape(o, r)) != TS_OK) return st;
            } else {
                snprintf(r->model_arg, sizeof r->model_arg, "%s", e->model);
            }
            r->val_loss = NAN;
            r->device = o->device;
            plan->n_runs++;
        }
    if (plan->n_runs == 0)
        return ts_set_error_status(TS_EUSAGE, "no run left: --models / --max-params select none "
                                              "of the preset's models");
    return TS_OK;
}

void ts_sweep_plan_free(ts_sweep_plan *plan) {
    ts_preset_free(&plan->preset);
    ts_dataset_free(&plan->dataset);
    free(plan->runs);
    memset(plan, 0, sizeof *plan);
}
