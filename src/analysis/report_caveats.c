/*
 * report_caveats.c — what a reader must know before quoting a result set: invalid runs and
 * why, fits that are flagged, point fits or not made, MFU above 100% (an error in the data:
 * no device exceeds its peak), runs from a dirty build, files left out of the set.
 * summary.md, summary.json, the terminal view and report.html all print this one list.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"

static void add(ts_report_caveats *c, const char *fmt, ...) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **grown = realloc(c->items, cap * sizeof *grown);
        if (!grown) return; /* a caveat lost to host memory: the tables still stand */
        c->items = grown;
        c->cap = cap;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (s) c->items[c->n++] = s;
}

int ts_run_mfu_error(const ts_run *r) {
    return (isfinite(r->mfu) && r->mfu > 1.0) ||
           (isfinite(r->mfu_measured) && r->mfu_measured > 1.0);
}

static void fit_caveat(ts_report_caveats *c, const ts_family_fit *g, const ts_power_fit *f,
                       const char *measure) {
    if (!f->ok)
        add(c, "%s %s (N = %s): no fit: %s", g->backend, g->family, measure, f->why);
    else if (f->flagged)
        add(c, "%s %s (N = %s): flagged, not a scaling law: %s (alpha %.4f, c %.4g)", g->backend,
            g->family, measure, f->note, f->alpha, f->c);
    else if (f->point_only)
        add(c, "%s %s (N = %s): point fit from %zu sizes, no interval (an interval needs %d)",
            g->backend, g->family, measure, f->n_sizes, TS_FIT_MIN_SIZES_CI);
}

void ts_report_caveats_build(const ts_report *rep, ts_report_caveats *c) {
    memset(c, 0, sizeof *c);
    const ts_run_set *set = &rep->set;
    for (size_t i = 0; i < set->n; i++) {
        const ts_run *r = &set->runs[i];
        if (ts_run_invalid(r))
            add(c, "%s %s: %s (kept in the files, left out of fits and plots)", r->backend,
                r->model, r->status);
        else if (!ts_run_ok(r))
            add(c, "%s %s: %s (not in fits or plots)", r->backend, r->model, r->status);
        if (ts_run_mfu_error(r))
            add(c,
                "%s %s: MFU above 100%% (nominal %.1f%%, measured-peak %.1f%%) is an error in the "
                "data: the peak it is measured against or the timing is wrong",
                r->backend, r->model, r->mfu * 100, r->mfu_measured * 100);
    }
    for (size_t i = 0; i < rep->n_fits; i++) {
        fit_caveat(c, &rep->fits[i], &rep->fits[i].fit, "params");
        fit_caveat(c, &rep->fits[i], &rep->fits[i].fit_ne, "non-embedding params");
    }
    if (rep->n_dirty)
        add(c,
            "%zu run%s trained by a build with local edits (commit ...-dirty), published with "
            "--allow-dirty",
            rep->n_dirty, rep->n_dirty == 1 ? " was" : "s were");
    if (set->n_unlisted)
        add(c,
            "%zu result.json file%s below the folder %s not named by its sweep manifest and "
            "left out",
            set->n_unlisted, set->n_unlisted == 1 ? "" : "s", set->n_unlisted == 1 ? "is" : "are");
    if (set->n_finalize)
        add(c,
            "%zu finalize retraining%s (final/train) left out: longer training belongs to no "
            "sweep's fit",
            set->n_finalize, set->n_finalize == 1 ? "" : "s");
    if (set->n_unreadable)
        add(c, "%zu result.json file%s could not be read and %s skipped", set->n_unreadable,
            set->n_unreadable == 1 ? "" : "s", set->n_unreadable == 1 ? "was" : "were");
}

void ts_report_caveats_free(ts_report_caveats *c) {
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i]);
    free(c->items);
    memset(c, 0, sizeof *c);
}
