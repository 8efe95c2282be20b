/*
 * report_nd.h — the report's L(N, D) section: when a result set trained some (backend, family)
 * at two or more token budgets (a preset with a "tokens" list), the two-variable law
 * L(N, D) = E + A·N^(−α) + B·D^(−β) is fitted per (backend, family) (fit_nd.h), with the
 * compute-optimal frontier, the tokens per parameter of every run and the runs that leave the
 * law's assumptions. Sets with one budget per group get no section, so their reports are as
 * before.
 *
 * report.c builds it into ts_report.nd; summary.c and report_plots.c call the writers below.
 */
#ifndef TS_ANALYSIS_REPORT_ND_H
#define TS_ANALYSIS_REPORT_ND_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "analysis/fit_nd.h"
#include "analysis/results.h"
#include "util/error.h"

/* Runs with fewer training tokens than this per parameter are flagged: each weight saw less
 * than one token, far below the ~20 of the Chinchilla paper's compute-optimal models. */
#define TS_ND_MIN_TOKENS_PER_PARAM 1.0

typedef struct {
    char *backend, *family;
    double k, k_min, k_max; /* FLOPs per parameter and token: median and range over its runs */
    double max_run_flops;   /* the largest run's training compute, to judge extrapolation */
    size_t *points;         /* indices into the run set of the fitted runs (fit's input order) */
    ts_nd_fit fit;
} ts_nd_group;

/* What the section says about one run of the set (same index). */
typedef struct {
    double train_tokens;    /* dataset.train_tokens from its result.json; NAN when absent */
    double flops_per_token; /* from its result.json; NAN when absent */
    double tokens_per_param, epochs;
    int repeated;    /* trained on more tokens than the corpus has: data seen twice or more */
    int few_tokens;  /* tokens_per_param below TS_ND_MIN_TOKENS_PER_PARAM */
    int fitted;      /* entered its group's fit */
    double residual; /* observed − fitted val loss; NAN when not fitted */
} ts_nd_run;

typedef struct {
    ts_nd_group *groups;
    size_t n_groups;
    ts_nd_run *runs; /* one per run of the set */
    size_t n_runs;
} ts_nd_report;

/* Fits every (backend, family) of set that has two or more budgets. nd->n_groups == 0 means no
 * section. Reads each run's result.json again for flops_per_token and the corpus size, which
 * ts_run does not carry. TS_ERR only for host memory. */
ts_status ts_nd_report_build(const ts_run_set *set, int bootstrap, uint64_t seed, ts_nd_report *nd);
void ts_nd_report_free(ts_nd_report *nd);

/* The section of summary.md (nothing when there is no section); plots_made: link the figures
 * that exist under dir/plots. */
void ts_nd_report_write_md(FILE *f, const ts_nd_report *nd, const ts_run_set *set, const char *dir,
                           int plots_made);
/* "0.340 [0.331, 0.360]" with the precision fmt (the value alone without a finite interval);
 * the same with SI prefixes. Shared by the Markdown and HTML sections. */
const char *ts_nd_fmt_ci(double v, double lo, double hi, const char *fmt, char *buf, size_t cap);
const char *ts_nd_fmt_si_ci(double v, double lo, double hi, char *buf, size_t cap);
/* The section's figures in order (name under plots/ without extension, caption), for the
 * Markdown and HTML writers; returns how many (at most cap). */
#define TS_ND_MAX_PLOT_GROUPS 16
typedef struct {
    char name[300];
    char caption[400];
} ts_nd_plot_ref;
size_t ts_nd_plot_list(const ts_nd_report *nd, ts_nd_plot_ref *out, size_t cap);
/* summary.json's "nd" object; NULL when there is no section. */
cJSON *ts_nd_report_json(const ts_nd_report *nd, const ts_run_set *set, const char *dir);
/* A few lines for the terminal summary. */
void ts_nd_report_print(FILE *out, const ts_nd_report *nd);
/* Its figures into dir/plots (report_nd_plots.c): nd_loss_vs_tokens_<backend>_<family>,
 * nd_isoloss_<backend>_<family>, nd_frontier_<backend>. */
ts_status ts_nd_report_plots(const ts_nd_report *nd, const ts_run_set *set, const char *dir);
/* A figure's name (no extension), file-name safe. */
void ts_nd_plot_name(const char *kind, const char *backend, const char *family, char *buf,
                     size_t cap);

#endif
