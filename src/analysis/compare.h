/*
 * compare.h — `tunescale compare DIR DIR...`: one table across result sets.
 *
 * A set is one (folder, backend, device): a sweep folder holding several backends gives several
 * sets. Rows are models, matched across sets by (family, model name). Each cell is the set's
 * first run of that model with status "ok" (path order), else its first run of any status, so a
 * skipped model shows as skipped. Ratios of tokens/s and peak memory are against the FIRST set
 * (the first backend of the first DIR).
 */
#ifndef TS_ANALYSIS_COMPARE_H
#define TS_ANALYSIS_COMPARE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "analysis/results.h"
#include "util/error.h"

typedef struct {
    char *label; /* "DIR:backend", plus " [device]" where one folder and backend has several */
    const char *dir, *backend, *device;
} ts_compare_set;

typedef struct {
    const char *family, *model;
    double params;
} ts_compare_row;

typedef struct {
    ts_run_set *loaded; /* one per DIR */
    size_t n_dirs;
    ts_compare_set *sets;
    size_t n_sets;
    ts_compare_row *rows;
    size_t n_rows;
    const ts_run **cell; /* [row * n_sets + set]; NULL: the set has no such model */
    const char *const *dirs, *const *names; /* as given; names[d] NULL: the folder's name */
} ts_compare;

/* Loads every DIR (each must hold a readable result.json) and matches the runs. The dirs
 * strings must outlive c (sets point at them). */
ts_status ts_compare_build(const char *const *dirs, size_t n_dirs, int quiet, ts_compare *c);
/* The same with a name per DIR (compare --label NAME=DIR); names may be NULL, or hold NULLs. */
ts_status ts_compare_build_named(const char *const *dirs, const char *const *names, size_t n_dirs,
                                 int quiet, ts_compare *c);
void ts_compare_free(ts_compare *c);

/* cell / first set's cell for tokens/s (what = 0) or peak memory (what = 1); NAN if missing. */
double ts_compare_ratio(const ts_compare *c, size_t row, size_t set, int what);

cJSON *ts_compare_json(const ts_compare *c);
void ts_compare_print(FILE *out, const ts_compare *c);
/* compare.md, compare.csv, compare.json and, if plots, plots/compare_tokens_per_s.{svg,png}. */
ts_status ts_compare_save(const ts_compare *c, const char *out_dir, int plots);

#endif
