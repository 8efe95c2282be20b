/*
 * report.c — builds a report (load, group by backend and family, fit) and saves its files.
 */
#include "analysis/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "util/fsutil.h"

void ts_report_options_default(ts_report_options *o) {
    o->bootstrap = 1000;
    o->seed = 42;
    o->plots = 1;
    o->quiet = 0;
    o->allow_dirty = 0;
    o->html = 0;
}

static ts_family_fit *find_group(ts_report *rep, const ts_run *r) {
    for (size_t i = 0; i < rep->n_fits; i++)
        if (!strcmp(rep->fits[i].backend, r->backend) && !strcmp(rep->fits[i].family, r->family))
            return &rep->fits[i];
    return NULL;
}

/* Fits one group on both size measures. Only ok runs with a finite val_loss count. */
static ts_status fit_group(ts_report *rep, ts_family_fit *g) {
    size_t n = 0;
    double *np = malloc(sizeof(double) * (rep->set.n + 1));
    double *ne = malloc(sizeof(double) * (rep->set.n + 1));
    double *loss = malloc(sizeof(double) * (rep->set.n + 1));
    if (!np || !ne || !loss) {
        free(np), free(ne), free(loss);
        return ts_set_error("out of host memory");
    }
    const ts_run *first = NULL;
    for (size_t i = 0; i < rep->set.n; i++) {
        const ts_run *r = &rep->set.runs[i];
        if (strcmp(r->backend, g->backend) || strcmp(r->family, g->family)) continue;
        if (!ts_run_ok(r) || !isfinite(r->val_loss)) continue;
        /* a law holds data, budget, schedule and precision fixed: runs that differ in any of
         * them are no points of one curve */
        if (!first) {
            first = r;
        } else if (strcmp(first->regime, r->regime)) {
            free(np), free(ne), free(loss);
            const ts_report_options *o = &rep->opt;
            ts_status st = ts_fit_power_law(NULL, NULL, 0, o->bootstrap, o->seed, &g->fit);
            if (st == TS_OK) st = ts_fit_power_law(NULL, NULL, 0, 0, 0, &g->fit_ne);
            snprintf(g->fit.why, sizeof g->fit.why, "runs differ: %s (%s) vs %s (%s)", first->model,
                     first->regime, r->model, r->regime);
            snprintf(g->fit_ne.why, sizeof g->fit_ne.why, "%s", g->fit.why);
            return st;
        }
        np[n] = r->params;
        ne[n] = r->params_non_embedding;
        loss[n++] = r->val_loss;
    }
    const ts_report_options *o = &rep->opt;
    ts_status st = ts_fit_power_law(np, loss, n, o->bootstrap, o->seed, &g->fit);
    if (st == TS_OK) st = ts_fit_power_law(ne, loss, n, o->bootstrap, o->seed, &g->fit_ne);
    free(np), free(ne), free(loss);
    return st;
}

ts_status ts_report_build(const char *dir, const ts_report_options *opt, ts_report *rep) {
    memset(rep, 0, sizeof *rep);
    if (opt)
        rep->opt = *opt;
    else
        ts_report_options_default(&rep->opt);
    if (snprintf(rep->dir, sizeof rep->dir, "%s", dir) >= (int)sizeof rep->dir)
        return ts_set_error("%s: path too long", dir);
    ts_status st = ts_result_set_load(dir, rep->opt.quiet, &rep->set, &rep->from_manifest);
    if (st != TS_OK) return st;
    if (rep->from_manifest) {
        char path[4200], *text = NULL;
        size_t len;
        if (ts_read_file(ts_path_join(path, sizeof path, dir, "sweep.json"), &text, &len) == TS_OK)
            rep->manifest = cJSON_ParseWithLength(text, len);
        free(text);
    }
    for (size_t i = 0; i < rep->set.n; i++)
        rep->n_dirty += strstr(rep->set.runs[i].commit, "-dirty") != NULL;
    if (rep->n_dirty && !rep->opt.allow_dirty)
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: %zu run%s trained by a build with local edits "
                                   "(commit ...-dirty); results from a dirty build are not "
                                   "reproducible: re-run from a clean checkout, or pass "
                                   "--allow-dirty to publish them marked as such",
                                   dir, rep->n_dirty, rep->n_dirty == 1 ? " was" : "s were");
    ts_run_set_sort(&rep->set);
    rep->system = ts_report_system(dir, &rep->set);    /* sorted: one device per backend */
    rep->fits = calloc(rep->set.n, sizeof *rep->fits); /* at most one group per run */
    if (!rep->fits) return ts_set_error("out of host memory");
    for (size_t i = 0; i < rep->set.n && st == TS_OK; i++) {
        const ts_run *r = &rep->set.runs[i];
        if (find_group(rep, r)) continue;
        ts_family_fit *g = &rep->fits[rep->n_fits++];
        g->backend = strdup(r->backend);
        g->family = strdup(r->family);
        if (!g->backend || !g->family) return ts_set_error("out of host memory");
        st = fit_group(rep, g);
    }
    /* L(N, D) and the compute-optimal frontier, when the set trained several budgets */
    if (st == TS_OK)
        st = ts_nd_report_build(&rep->set, rep->opt.bootstrap, rep->opt.seed, &rep->nd);
    return st;
}

void ts_report_free(ts_report *rep) {
    for (size_t i = 0; i < rep->n_fits; i++) {
        free(rep->fits[i].backend);
        free(rep->fits[i].family);
    }
    free(rep->fits);
    cJSON_Delete(rep->manifest);
    cJSON_Delete(rep->system);
    ts_nd_report_free(&rep->nd); /* report_nd.c */
    ts_run_set_free(&rep->set);
    memset(rep, 0, sizeof *rep);
}

/* Decides before anything is written whether plots can be drawn, so summary.json and
 * summary.md can say so; a missing PLplot driver costs one warning, never the tables. */
static void decide_plots(ts_report *rep) {
    const char *why = NULL;
    rep->plots_made = 0;
    if (!rep->opt.plots) {
        snprintf(rep->plots_status, sizeof rep->plots_status, "off (--no-plots)");
    } else if (!ts_plot_available(&why)) {
        snprintf(rep->plots_status, sizeof rep->plots_status, "skipped (%s)", why);
        if (!rep->opt.quiet) fprintf(stderr, "tunescale: plots skipped: %s\n", why);
        char dir[4200];
        ts_plot_clean_tmp(ts_path_join(dir, sizeof dir, rep->dir, "plots"));
    } else {
        snprintf(rep->plots_status, sizeof rep->plots_status, "made");
        rep->plots_made = 1;
    }
}

ts_status ts_report_save(ts_report *rep) {
    char path[4200];
    decide_plots(rep);
    ts_status st =
        ts_report_write_csv(rep, ts_path_join(path, sizeof path, rep->dir, "summary.csv"));
    if (st == TS_OK) {
        st = ts_write_json_atomic(ts_path_join(path, sizeof path, rep->dir, "summary.json"),
                                  ts_report_json(rep));
    }
    if (st == TS_OK && rep->plots_made) st = ts_report_plots(rep);
    /* last: summary.md links the plots that exist */
    if (st == TS_OK)
        st = ts_report_write_md(rep, ts_path_join(path, sizeof path, rep->dir, "summary.md"));
    if (st == TS_OK && rep->opt.html)
        st = ts_report_write_html(rep, ts_path_join(path, sizeof path, rep->dir, "report.html"));
    return st;
}

ts_status ts_report_write(const char *dir, const ts_report_options *opt) {
    ts_report rep;
    ts_status st = ts_report_build(dir, opt, &rep);
    if (st == TS_OK) st = ts_report_save(&rep);
    ts_report_free(&rep);
    return st;
}
