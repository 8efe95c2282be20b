/*
 * results.h — reading a result set: every result.json (schema tunescale.run/1, results/README.md)
 * under a folder, flattened into the figures the report and compare use.
 *
 * A number the file does not have (null, absent, a skipped run) is NAN; a string it does not
 * have is "" (never NULL).
 */
#ifndef TS_ANALYSIS_RESULTS_H
#define TS_ANALYSIS_RESULTS_H

#include <stddef.h>

#include "util/error.h"

typedef struct {
    char *path;    /* the result.json, as found under the scanned folder */
    char *status;  /* "ok", "skipped: out of memory", "failed: <reason>", "invalid: <reason>" */
    char *backend; /* device.backend, or the runs/<backend>/ folder when the file has none;
                    * "-<precision>" appended for a reduced-precision run ("vulkan-fp16"), so
                    * no grouping or label ever mixes precisions */
    char *device;  /* device.name */
    char *model;   /* model.name */
    char *family;  /* model.family: "transformer", "lstm" */
    double params, params_non_embedding;
    double tokens, train_loss, val_loss, val_perplexity;
    double wall_time_s, tokens_per_s, achieved_gflops;
    double peak_gflops;          /* device.peak_gflops: the nominal figure */
    double peak_gflops_measured; /* device.peak_gflops_measured (tunescale bench peak) */
    double mfu;                  /* against peak_gflops */
    double mfu_measured;         /* against peak_gflops_measured */
    double peak_memory_bytes;
    char *commit;   /* tunescale.commit of the build that trained it ("...-dirty": local edits) */
    char *regime;   /* what a fit may not mix: dataset, token budget, lr schedule, precision */
    size_t n_curve; /* training curve: tokens and train loss per step (loss NAN where null) */
    double *curve_tokens, *curve_loss;
} ts_run;

typedef struct {
    ts_run *runs; /* sorted: backend, family, params, model, path */
    size_t n, cap;
    size_t n_unreadable; /* result.json files skipped with a warning */
    size_t n_finalize;   /* finalize retrainings found and kept out */
    size_t n_unlisted;   /* result.json files below DIR that its manifest does not name */
} ts_run_set;

/* 1 for status "ok". Only such runs enter fits and plots. */
int ts_run_ok(const ts_run *r);
/* 1 for status "invalid: <reason>" (tunescale invalidate): kept, listed, never fitted. */
int ts_run_invalid(const ts_run *r);

/* Loads a result set: when DIR holds a sweep manifest (sweep.json), exactly the runs it names
 * (a run not yet finished is left out); else every result.json below DIR. Either way a
 * `tunescale finalize` retraining (a train/ folder beside a final.json) is kept out and
 * counted in n_finalize: it trained longer, so it belongs to no sweep's fit. *manifest is set to 1
 * when the manifest decided. */
ts_status ts_result_set_load(const char *dir, int quiet, ts_run_set *set, int *manifest);

/* Parses one result.json's text. On failure records one line naming path (unparsable, not a
 * tunescale.run file, or another major version) and returns TS_ERR. */
ts_status ts_run_parse(const char *path, const char *text, ts_run *out);
void ts_run_free(ts_run *r);

/*
 * Appends every result.json below dir (recursively, symlinked folders not followed) to set.
 * Unreadable ones are skipped with a one-line warning (unless quiet) and counted. Fails when dir
 * is not a folder or holds no readable result.json.
 */
ts_status ts_results_load(const char *dir, int quiet, ts_run_set *set);
void ts_run_set_sort(ts_run_set *set);
void ts_run_set_free(ts_run_set *set);

#endif
