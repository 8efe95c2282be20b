/* finalize.c — best model of a sweep, more training, samples, evaluation, artefacts. */
#define _DEFAULT_SOURCE /* realpath */
#include "gen/finalize.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/evalset.h"
#include "gen/load.h"
#include "gen/sampleset.h"
#include "train/result_json.h"
#include "train/trainer.h"
#include "util/fsutil.h"

const char *const ts_notebook_prompts[5] = {
    "X:1\nT:Generated Reel\nM:4/4\nL:1/8\nK:D\n",    "X:1\nT:Generated Jig\nM:6/8\nL:1/8\nK:G\n",
    "X:1\nT:Generated Waltz\nM:3/4\nL:1/8\nK:A\n",   "X:1\nT:Folk Tune\nM:4/4\nL:1/8\nK:C\n",
    "X:1\nT:Traditional Air\nM:2/4\nL:1/16\nK:Em\n",
};

void ts_finalize_options_default(ts_finalize_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    o->epochs = 3;
    o->lr = 2e-4;
    o->n = 5;
    o->max_len = 400;
    o->seed = 42;
}

/* A result.json number, dflt when absent. */
static double num_field(const cJSON *o, const char *key, double dflt) {
    double v = ts_result_number(o, key);
    return isnan(v) ? dflt : v;
}

/* ---- 1. the best run ----------------------------------------------------------------------- */

typedef struct {
    char dir[4096]; /* run folder */
    double val_loss;
    cJSON *result;
} best_run;

static void find_best(const char *dir, const char *skip, int depth, best_run *b) {
    char real[PATH_MAX];
    if (depth > 8 || (skip[0] && realpath(dir, real) && !strcmp(real, skip))) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        ts_path_join(path, sizeof path, dir, e->d_name);
        if (ts_is_dir(path)) {
            find_best(path, skip, depth + 1, b);
            continue;
        }
        if (strcmp(e->d_name, "result.json")) continue;
        cJSON *r = NULL;
        ts_result_read(dir, &r); /* one that cannot be read is not the best */
        const char *status = ts_result_string(r, "status");
        double val = num_field(r, "val_loss", NAN);
        char weights[4200];
        ts_path_join(weights, sizeof weights, dir, "model.safetensors");
        /* ties: the first in path order, so the choice does not depend on readdir's order */
        if (status && !strcmp(status, "ok") && isfinite(val) && ts_is_file(weights) &&
            (!b->result || val < b->val_loss || (val == b->val_loss && strcmp(dir, b->dir) < 0))) {
            cJSON_Delete(b->result);
            b->result = r;
            b->val_loss = val;
            snprintf(b->dir, sizeof b->dir, "%s", dir);
        } else {
            cJSON_Delete(r);
        }
    }
    closedir(d);
}

/* ---- 2. more training ---------------------------------------------------------------------- */

static ts_status train_more(const ts_finalize_options *o, const best_run *b, const char *data_dir,
                            const char *train_dir) {
    char init[4200];
    ts_path_join(init, sizeof init, train_dir, "model.safetensors");
    cJSON *done = NULL;
    if (ts_is_file(init)) ts_result_read(train_dir, &done);
    const char *status = ts_result_string(done, "status");
    int finished = status && !strcmp(status, "ok");
    cJSON_Delete(done);
    if (finished) {
        if (!o->quiet) fprintf(stderr, "tunescale: %s already trained; reusing it\n", train_dir);
        return TS_OK;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(b->result, "model");
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(b->result, "hyperparameters");
    ts_train_options t;
    ts_train_options_default(&t);
    t.model = ts_result_string(model, "name");
    t.data_dir = data_dir;
    t.backend = o->backend;
    t.device = o->device;
    t.threads = o->threads;
    if (o->tokens > 0)
        t.tokens = o->tokens;
    else
        t.epochs = o->epochs;
    t.opt.lr = o->lr;
    /* the sweep run's shape of training, as the notebook keeps it */
    t.batch = (int)num_field(hp, "batch", 0);
    t.seq_len = (int)num_field(hp, "seq_len", 256);
    t.stride = (int)num_field(hp, "stride", 0);
    t.dropout = num_field(hp, "dropout", -1);
    t.opt.weight_decay = num_field(hp, "weight_decay", t.opt.weight_decay);
    t.opt.clip = num_field(hp, "clip", t.opt.clip);
    t.seed = o->seed;
    ts_path_join(init, sizeof init, b->dir, "model.safetensors");
    t.init = init;
    t.out_dir = train_dir;
    t.resume = 1; /* an interrupted finalize continues from train_dir/checkpoint.safetensors */
    t.test = 1;
    t.quiet = o->quiet;
    if (!t.model) return ts_set_error("%s/result.json has no model.name", b->dir);
    /* A preset's own shape is not a named model: the sweep keeps it as models/NAME.json;
     * failing that (a run trained by hand), the shape recorded in its result.json. */
    char shape[4300];
    ts_model_config named;
    if (ts_model_config_lookup(t.model, &named) != TS_OK) {
        ts_clear_error();
        snprintf(shape, sizeof shape, "%s/models/%s.json", o->sweep_dir, t.model);
        if (!ts_is_file(shape)) {
            if (ts_mkdir_p(train_dir) != TS_OK) return TS_ERR;
            snprintf(shape, sizeof shape, "%s/model.json", train_dir);
            char *text = cJSON_Print(model);
            ts_status st = text ? ts_write_file_atomic(shape, text, strlen(text))
                                : ts_set_error("out of host memory");
            free(text);
            if (st != TS_OK) return st;
        }
        t.model = shape;
    }
    return ts_train(&t);
}

/* ---- 3. samples ---------------------------------------------------------------------------- */

static ts_status draw(const ts_finalize_options *o, ts_loaded *l, const char *dir, cJSON **doc) {
    int n = 2 * o->n;
    ts_sample_job *jobs = calloc((size_t)n, sizeof *jobs);
    if (!jobs) return ts_set_error("out of host memory");
    for (int i = 0; i < o->n; i++) { /* the notebook: 0.9 unconditional, 0.8 with a prompt */
        jobs[i].temperature = 0.9f;
        snprintf(jobs[i].name, sizeof jobs[i].name, "unconditional_%02d", i + 1);
        jobs[o->n + i].prompt = ts_notebook_prompts[i % 5];
        jobs[o->n + i].temperature = 0.8f;
        snprintf(jobs[o->n + i].name, sizeof jobs[i].name, "prompted_%02d", i + 1);
    }
    ts_sample_options so;
    ts_sample_options_default(&so);
    so.max_len = o->max_len;
    so.seed = o->seed;
    ts_status st = ts_sample_set(l, jobs, n, &so, dir, doc);
    free(jobs);
    return st;
}

/* ---- 4. artefacts -------------------------------------------------------------------------- */

static void md_row(FILE *f, const char *label, const cJSON *o, const char *key, double scale,
                   const char *fmt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    fprintf(f, "| %s | ", label);
    if (cJSON_IsNumber(v))
        fprintf(f, fmt, v->valuedouble * scale);
    else
        fprintf(f, "n/a");
    fprintf(f, " |\n");
}

static ts_status write_artefacts(const char *out, const cJSON *final, const cJSON *samples,
                                 const cJSON *rows) {
    char path[4200];
    ts_path_join(path, sizeof path, out, "ARTEFACTS.md");
    ts_atomic_file af;
    ts_status st = ts_atomic_open(&af, path);
    if (st != TS_OK) return st;
    FILE *f = af.fp;
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(final, "best");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(final, "training");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(final, "metrics");
    fprintf(f, "# Final model: %s\n\n", ts_result_string(best, "model"));
    fprintf(f,
            "Best run of the sweep `%s`: `%s` (validation loss %.4f). Trained further from its "
            "weights (%s, lr %g) on the %s backend into `train/`; samples in `samples/`. "
            "Produced by `tunescale finalize`; every number below is in `final.json`.\n\n",
            ts_result_string(final, "sweep_dir"), ts_result_string(best, "run_dir"),
            num_field(best, "val_loss", NAN), ts_result_string(tr, "length"),
            num_field(tr, "lr", NAN), ts_result_string(final, "backend"));
    fprintf(f, "| metric | value |\n|---|---|\n");
    md_row(f, "validation loss, sweep run", best, "val_loss", 1, "%.4f");
    md_row(f, "validation loss, after training", tr, "val_loss", 1, "%.4f");
    md_row(f, "test loss", tr, "test_loss", 1, "%.4f");
    md_row(f, "test perplexity", tr, "test_perplexity", 1, "%.2f");
    md_row(f, "samples", m, "files", 1, "%.0f");
    md_row(f, "strict ABC 2.1 validity (no error, no extension)", m, "strict_valid_pct", 1,
           "%.1f %%");
    md_row(f, "reference-tool validity (what abcm2ps/abc2midi read)", m, "reference_valid_pct", 1,
           "%.1f %%");
    md_row(f, "loose validity (the notebook's check)", m, "loose_valid_pct", 1, "%.1f %%");
    md_row(f, "MIDI conversion", m, "midi_pct", 1, "%.1f %%");
    md_row(f, "novelty (16-char windows not in train)", m, "novelty", 100, "%.1f %%");
    md_row(f, "meter consistency (bars matching M:)", m, "meter_consistency", 100, "%.1f %%");
    fprintf(f, "\n## Samples\n\n");
    const cJSON *s;
    int i = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(samples, "samples")) {
        const char *file = ts_result_string(s, "file");
        const cJSON *r, *match = NULL;
        cJSON_ArrayForEach(r, rows) {
            if (file && ts_result_string(r, "file") && !strcmp(ts_result_string(r, "file"), file))
                match = r;
        }
        const char *mid = ts_result_string(match, "midi_file");
        fprintf(f, "### %d. %s (temperature %.1f) — [%s](samples/%s)", ++i,
                cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "prompt")) ? "from a prompt"
                                                                              : "unconditional",
                num_field(s, "temperature", NAN), file, file);
        if (mid)
            fprintf(f, " · [%s](samples/%s)", mid, mid);
        else
            fprintf(f, " · no MIDI (%s)",
                    match ? ts_result_string(match, "midi_error") : "not evaluated");
        fprintf(f, "\n\n%.0f tokens, stopped by %s; %s.\n\n```abc\n%s```\n\n",
                num_field(s, "tokens", 0), ts_result_string(s, "stop"),
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(match, "strict_valid"))
                    ? "valid ABC"
                    : "ABC with errors",
                ts_result_string(s, "text"));
    }
    return ts_atomic_commit(&af);
}

/* ---- the phase ----------------------------------------------------------------------------- */

ts_status ts_finalize(const ts_finalize_options *o) {
    char out[4096], train_dir[4200], samples_dir[4200], path[4300], skip[PATH_MAX] = "";
    if (o->out_dir)
        snprintf(out, sizeof out, "%s", o->out_dir);
    else
        ts_path_join(out, sizeof out, o->sweep_dir, "final");
    if (!ts_is_dir(o->sweep_dir))
        return ts_set_error_status(TS_EUSAGE, "%s: no such sweep folder", o->sweep_dir);
    ts_status st = ts_mkdir_p(out);
    if (st != TS_OK) return st;
    if (!realpath(out, skip)) skip[0] = '\0';
    best_run b;
    memset(&b, 0, sizeof b);
    find_best(o->sweep_dir, skip, 0, &b);
    if (!b.result)
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: no finished run (result.json with status \"ok\", a "
                                   "val_loss and model.safetensors) under it",
                                   o->sweep_dir);
    const char *data_dir =
        o->data_dir
            ? o->data_dir
            : ts_result_string(cJSON_GetObjectItemCaseSensitive(b.result, "dataset"), "dir");
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(b.result, "model");
    if (!o->quiet)
        fprintf(stderr, "tunescale: best run %s (%s, val loss %.4f)\n", b.dir,
                ts_result_string(bm, "name"), b.val_loss);
    ts_path_join(train_dir, sizeof train_dir, out, "train");
    ts_path_join(samples_dir, sizeof samples_dir, out, "samples");
    if (!data_dir) st = ts_set_error_status(TS_EUSAGE, "%s: no dataset.dir: pass --data", b.dir);
    if (st == TS_OK) st = train_more(o, &b, data_dir, train_dir);

    ts_loaded l;
    memset(&l, 0, sizeof l);
    cJSON *samples = NULL, *rows = cJSON_CreateArray(), *final = cJSON_CreateObject();
    ts_sample_metrics m;
    memset(&m, 0, sizeof m);
    if (st == TS_OK) {
        ts_path_join(path, sizeof path, train_dir, "model.safetensors");
        ts_load_options lo = {path, data_dir, NULL, o->backend, o->device, o->threads, 0};
        st = ts_load(&lo, &l);
    }
    if (st == TS_OK) {
        /* A rerun replaces the samples it made, never mixes two sets; a samples/ folder that
         * tunescale did not make is the user's and stops the run untouched. */
        st = ts_fresh_owned_dir(samples_dir);
        if (st == TS_OK) st = draw(o, &l, samples_dir, &samples);
    }
    if (st == TS_OK) {
        ts_path_join(path, sizeof path, data_dir, "train.bin");
        st = ts_eval_samples(samples_dir, &l.vocab, path, &m, rows);
    }
    if (st == TS_OK) {
        cJSON *tr = NULL;
        ts_result_read(train_dir, &tr); /* its figures are NAN if it cannot be read */
        cJSON_AddStringToObject(final, "schema", "tunescale.final/1");
        cJSON_AddStringToObject(final, "sweep_dir", o->sweep_dir);
        cJSON_AddStringToObject(final, "backend", l.be->iface->name);
        cJSON *best = cJSON_AddObjectToObject(final, "best");
        cJSON_AddStringToObject(best, "run_dir", b.dir);
        cJSON_AddStringToObject(best, "model", ts_result_string(bm, "name"));
        cJSON_AddNumberToObject(best, "params", num_field(bm, "params", 0));
        cJSON_AddNumberToObject(best, "val_loss", b.val_loss);
        cJSON *t = cJSON_AddObjectToObject(final, "training");
        char length[64];
        if (o->tokens > 0)
            snprintf(length, sizeof length, "%.0f tokens", o->tokens);
        else
            snprintf(length, sizeof length, "%g epochs", o->epochs);
        cJSON_AddStringToObject(t, "dir", train_dir);
        cJSON_AddStringToObject(t, "length", length);
        cJSON_AddNumberToObject(t, "lr", o->lr);
        const char *keys[] = {"steps",     "tokens",          "train_loss",  "val_loss",
                              "test_loss", "test_perplexity", "wall_time_s", "tokens_per_s"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            cJSON_AddNumberToObject(t, keys[k], num_field(tr, keys[k], NAN));
        cJSON_Delete(tr);
        cJSON_AddItemToObject(final, "metrics", ts_sample_metrics_json(&m));
        cJSON_AddStringToObject(final, "samples_dir", samples_dir);
        cJSON_AddItemReferenceToObject(final, "per_file", rows);
        char *text = cJSON_Print(final);
        ts_path_join(path, sizeof path, out, "final.json");
        st = text ? ts_write_file_atomic(path, text, strlen(text))
                  : ts_set_error("out of host memory");
        free(text);
    }
    if (st == TS_OK) st = write_artefacts(out, final, samples, rows);
    if (st == TS_OK && !o->quiet)
        printf(
            "finalize: %s, test perplexity %.2f, %d samples (%.0f%% strict-valid, %.0f%% "
            "MIDI) -> %s/ARTEFACTS.md\n",
            ts_result_string(bm, "name"),
            num_field(cJSON_GetObjectItemCaseSensitive(final, "training"), "test_perplexity", NAN),
            m.files, m.files ? 100.0 * m.strict_valid / m.files : 0,
            m.files ? 100.0 * m.midi_ok / m.files : 0, out);
    cJSON_Delete(final);
    cJSON_Delete(rows);
    cJSON_Delete(samples);
    cJSON_Delete(b.result);
    ts_loaded_free(&l);
    return st;
}
