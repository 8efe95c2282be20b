/*
 * report.h — `tunescale report DIR`: a result set's scaling-law fits, tables and plots.
 *
 * Fits are made per (backend, family): each backend trained its own copy of every model, so
 * pooling backends would count the same model twice; the tables and plots show all backends
 * side by side. Only runs with status "ok" and a finite val_loss enter a fit or a plot; skipped
 * and failed runs stay in the tables with their status.
 *
 * Files written into DIR (each atomically): summary.md, summary.csv, summary.json and, unless
 * plots are off, plots/<name>.svg and .png (report_plots.c lists them).
 */
#ifndef TS_ANALYSIS_REPORT_H
#define TS_ANALYSIS_REPORT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/fit.h"
#include "analysis/report_nd.h"
#include "analysis/results.h"
#include "util/error.h"

typedef struct {
    int bootstrap;   /* resamples for the alpha interval; 0 = none (default 1000) */
    uint64_t seed;   /* bootstrap seed (default 42) */
    int plots;       /* 1: write plots/ (default 1) */
    int quiet;       /* 1: no warnings or progress on stderr (default 0) */
    int allow_dirty; /* 1: publish runs trained by a build with local edits (default 0) */
    int html;        /* 1: also write report.html (default 0) */
} ts_report_options;

void ts_report_options_default(ts_report_options *o);

typedef struct {
    char *backend, *family;
    ts_power_fit fit;    /* N = model.params */
    ts_power_fit fit_ne; /* N = model.params_non_embedding */
} ts_family_fit;

typedef struct {
    char dir[4096];
    ts_run_set set;
    ts_family_fit *fits; /* one per (backend, family) present in the runs, in run order */
    size_t n_fits;
    ts_report_options opt;
    int from_manifest; /* 1: the runs are the ones DIR's sweep.json names */
    cJSON *manifest;   /* DIR/sweep.json when there is one (preset, data, commit), else NULL */
    cJSON *system;     /* the system description of the runs (first run's result.json) */
    size_t n_dirty;    /* runs trained by a build with local edits */
    ts_nd_report nd;   /* report_nd.c: the L(N, D) section (n_groups 0: the set has none) */
    /* set by ts_report_save: "made", "off (--no-plots)" or "skipped (why)"; summary.md and
     * summary.json record it, so a report without plots says why */
    char plots_status[1100];
    int plots_made;
} ts_report;

/* Loads DIR's results and fits them. Fails when DIR has no readable result.json. */
ts_status ts_report_build(const char *dir, const ts_report_options *opt, ts_report *rep);
void ts_report_free(ts_report *rep);

/* Writes summary.md/.csv/.json (and the plots, if opt.plots) into rep->dir. When PLplot has
 * no driver here the plots are skipped with one warning (not an error) and the tables are
 * written as usual; rep->plots_status says which. */
ts_status ts_report_save(ts_report *rep);

/* build + save + free: the call a sweep makes when it is done. */
ts_status ts_report_write(const char *dir, const ts_report_options *opt);

/* ---- the pieces (summary.c, report_plots.c) ---- */

cJSON *ts_report_json(const ts_report *rep); /* the summary.json document */
ts_status ts_report_write_csv(const ts_report *rep, const char *path);
ts_status ts_report_write_md(const ts_report *rep, const char *path);
void ts_report_print(FILE *out, const ts_report *rep); /* the terminal summary */
ts_status ts_report_plots(const ts_report *rep);       /* into rep->dir/plots */
/* A path fit to publish: relative ones as they are, an absolute one (a machine's layout) cut
 * to its last component. */
const char *ts_public_path(const char *path);
/* The `tunescale sweep` command that made the set, from its manifest ("" without one). */
void ts_report_sweep_command(const ts_report *rep, char *buf, size_t cap);

/* The caveats of a report, one sentence each (report_caveats.c). */
typedef struct {
    char **items;
    size_t n, cap;
} ts_report_caveats;
void ts_report_caveats_build(const ts_report *rep, ts_report_caveats *c);
void ts_report_caveats_free(ts_report_caveats *c);
/* 1 when a run's MFU is above 100%: impossible, so an error in the data. */
int ts_run_mfu_error(const ts_run *r);

/* report.html: one self-contained page (report_html.c). */
ts_status ts_report_write_html(const ts_report *rep, const char *path);

/* The set's system description: host and build (from the first run), one device per backend
 * (report_system.c). */
cJSON *ts_report_system(const char *dir, const ts_run_set *set);
/* The loss-curve plot's file name (no extension) for one backend: "train_loss_vs_tokens_cpu". */
void ts_report_curve_plot_name(const char *backend, char *buf, size_t cap);

#endif
