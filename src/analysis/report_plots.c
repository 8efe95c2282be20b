/*
 * report_plots.c — the report's figures, into DIR/plots/ as .svg and .png:
 *
 *   val_loss_vs_params            validation loss vs parameters (log x), points + fitted laws
 *   perplexity_vs_params          the same as perplexity, log-log
 *   train_loss_vs_tokens_<backend> training loss vs tokens, one curve per run
 *   tokens_per_s                  training throughput per model, one bar per backend
 *
 * Colour tells the family apart and marker/line style the backend, so one figure holds every
 * (backend, family) fit of the report. A figure without data is not written.
 */
#include <math.h>
#include <plplot/plplot.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/format.h"
#include "analysis/plot.h"
#include "analysis/report.h"

/* ---- helpers ---- */

static int usable(const ts_run *r) {
    return ts_run_ok(r) && isfinite(r->val_loss) && r->params > 0;
}

/* Index of s in a list of distinct strings, appending it when new. */
static int intern(const char **list, int *n, const char *s) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(list[i], s)) return i;
    list[*n] = s;
    return (*n)++;
}

void ts_report_curve_plot_name(const char *backend, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "train_loss_vs_tokens_%s", *backend ? backend : "unknown");
    /* a backend name is a file name here: keep it to [A-Za-z0-9_-] */
    for (int i = 21; i < n && (size_t)i < cap; i++) {
        char c = buf[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            buf[i] = '_';
    }
}

static void plot_path(const ts_report *rep, const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/plots/%s", rep->dir, name);
}

/* ---- loss and perplexity vs parameters ---- */

typedef struct {
    const ts_report *rep;
    int perplexity;
    int height; /* pixels: the legend sits below the axes, one line per fit */
} size_plot;

enum { size_plot_axes_px = 560, legend_line_px = 34 };

static double y_of(const size_plot *p, double loss) {
    return p->perplexity ? log10(exp(loss)) : loss;
}

static void fit_label(const ts_family_fit *g, int many_backends, char *buf, size_t cap) {
    char who[200];
    if (many_backends)
        snprintf(who, sizeof who, "%s (%s)", g->family, g->backend);
    else
        snprintf(who, sizeof who, "%s", g->family);
    const ts_power_fit *f = &g->fit;
    if (!f->ok)
        snprintf(buf, cap, "%s: no fit (see the summary)", who);
    else if (f->flagged)
        snprintf(buf, cap, "%s: flagged (α = %.3f, c = %.3g)", who, f->alpha, f->c);
    else if (f->point_only)
        snprintf(buf, cap, "%s: α = %.3f (point fit, no interval)", who, f->alpha);
    else if (isfinite(f->alpha_lo))
        snprintf(buf, cap, "%s: α = %.3f [%.3f, %.3f], R² = %.4f", who, f->alpha, f->alpha_lo,
                 f->alpha_hi, f->r2);
    else
        snprintf(buf, cap, "%s: α = %.3f, R² = %.4f", who, f->alpha, f->r2);
}

static void draw_size_plot(void *ctx) {
    const size_plot *p = ctx;
    const ts_report *rep = p->rep;
    size_t n = rep->set.n;
    double *xs = calloc(n + 1, sizeof(double)), *ys = calloc(n + 1, sizeof(double));
    const char **fams = malloc(sizeof(char *) * (rep->n_fits + 1));
    const char **backs = malloc(sizeof(char *) * (rep->n_fits + 1));
    ts_legend_entry *leg = calloc(rep->n_fits + 1, sizeof *leg);
    char(*labels)[400] = calloc(rep->n_fits + 1, sizeof *labels);
    if (!xs || !ys || !fams || !backs || !leg || !labels) goto done;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (usable(&rep->set.runs[i])) {
            xs[m] = rep->set.runs[i].params;
            ys[m++] = rep->set.runs[i].val_loss;
        }
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    ts_plot_range(xs, m, 1, 0.08, &x0, &x1);
    if (p->perplexity) {
        for (size_t i = 0; i < m; i++)
            ys[i] = exp(ys[i]);
        ts_plot_range(ys, m, 1, 0.12, &y0, &y1);
    } else {
        ts_plot_range(ys, m, 0, 0.12, &y0, &y1);
    }
    ts_plot_axes ax = {.xmin = x0,
                       .xmax = x1,
                       .ymin = y0,
                       .ymax = y1,
                       .logx = 1,
                       .logy = p->perplexity,
                       .xlabel = "parameters N (log scale)"};
    ax.title = p->perplexity ? "Validation perplexity vs model size"
                             : "Validation loss vs model size: L(N) = a·N#u−α#d + c";
    ax.ylabel = p->perplexity ? "validation perplexity (per character, log scale)"
                              : "validation loss (nats per character)";
    /* the legend goes under the axes: inside, it would hide points whatever the corner */
    double h = p->height;
    ax.vp_top = 1.0 - 60.0 / h;
    ax.vp_bottom = 1.0 - (60.0 + size_plot_axes_px) / h;
    ts_plot_draw_axes(&ax);

    int nf = 0, nb = 0;
    for (size_t g = 0; g < rep->n_fits; g++) {
        intern(fams, &nf, rep->fits[g].family);
        intern(backs, &nb, rep->fits[g].backend);
    }
    int ne = 0;
    for (size_t g = 0; g < rep->n_fits; g++) {
        const ts_family_fit *fit = &rep->fits[g];
        int color = ts_plot_color(intern(fams, &nf, fit->family));
        int b = intern(backs, &nb, fit->backend);
        const char *marker = ts_plot_marker(b);
        double lo = INFINITY, hi = -INFINITY;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const ts_run *r = &rep->set.runs[i];
            if (!usable(r) || strcmp(r->backend, fit->backend) || strcmp(r->family, fit->family))
                continue;
            xs[k] = log10(r->params);
            ys[k++] = y_of(p, r->val_loss);
            lo = fmin(lo, xs[k - 1]);
            hi = fmax(hi, xs[k - 1]);
        }
        if (!k) continue;
        plcol0(color);
        if (fit->fit.ok) {
            enum { steps = 160 };
            PLFLT cx[steps], cy[steps];
            double a = lo - 0.15 * (hi - lo), z = hi + 0.15 * (hi - lo);
            for (int s = 0; s < steps; s++) {
                cx[s] = a + (z - a) * s / (steps - 1);
                cy[s] = y_of(p, ts_power_law_eval(&fit->fit, pow(10, cx[s])));
            }
            plwidth(2.5);
            pllsty(1 + b % 8);
            plline(steps, cx, cy);
            pllsty(1);
            plwidth(1.0);
        }
        ts_plot_text(1.2);
        plstring((PLINT)k, xs, ys, marker);
        ts_plot_text(1.0);
        fit_label(fit, nb > 1, labels[ne], sizeof labels[ne]);
        leg[ne] = (ts_legend_entry){labels[ne], color, fit->fit.ok ? 1 + b % 8 : 0, marker, 0};
        ne++;
    }
    ts_plot_legend(leg, ne, PL_POSITION_BOTTOM | PL_POSITION_OUTSIDE, 0.0,
                   85.0 / size_plot_axes_px);
done:
    free(xs), free(ys), free(fams), free(backs), free(leg), free(labels);
}

/* ---- training loss vs tokens ---- */

typedef struct {
    const ts_report *rep;
    const char *backend;
} curve_plot;

/* Means of the curve in equal-width bins of log10(tokens): every early step shows on a log
 * axis, the later thousands average out. Returns the number of points written. */
enum { curve_bins = 150 };
static int bin_curve(const ts_run *r, double *bx, double *by) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->n_curve; i++)
        if (r->curve_tokens[i] > 0 && isfinite(r->curve_loss[i])) {
            lo = fmin(lo, log10(r->curve_tokens[i]));
            hi = fmax(hi, log10(r->curve_tokens[i]));
        }
    if (lo > hi) return 0;
    double sx[curve_bins] = {0}, sy[curve_bins] = {0}, cnt[curve_bins] = {0};
    double w = hi > lo ? (hi - lo) / curve_bins : 1;
    for (size_t i = 0; i < r->n_curve; i++) {
        if (!(r->curve_tokens[i] > 0) || !isfinite(r->curve_loss[i])) continue;
        double lx = log10(r->curve_tokens[i]);
        int b = (int)((lx - lo) / w);
        if (b >= curve_bins) b = curve_bins - 1;
        sx[b] += lx;
        sy[b] += r->curve_loss[i];
        cnt[b]++;
    }
    int n = 0;
    for (int b = 0; b < curve_bins; b++)
        if (cnt[b] > 0) {
            bx[n] = sx[b] / cnt[b];
            by[n++] = sy[b] / cnt[b];
        }
    return n;
}

static int curve_run(const curve_plot *p, const ts_run *r) {
    return ts_run_ok(r) && r->n_curve > 0 && !strcmp(r->backend, p->backend);
}

static void draw_curves(void *ctx) {
    const curve_plot *p = ctx;
    const ts_report *rep = p->rep;
    size_t n = rep->set.n, nr = 0;
    double *bx = malloc(sizeof(double) * curve_bins * (n + 1));
    double *by = malloc(sizeof(double) * curve_bins * (n + 1));
    int *len = calloc(n + 1, sizeof(int));
    ts_legend_entry *leg = calloc(n + 1, sizeof *leg);
    const char **fams = malloc(sizeof(char *) * (n + 1));
    if (!bx || !by || !len || !leg || !fams) goto done;
    for (size_t i = 0; i < n; i++)
        if (curve_run(p, &rep->set.runs[i]))
            len[nr] = bin_curve(&rep->set.runs[i], bx + nr * curve_bins, by + nr * curve_bins),
            nr++;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1, lo = INFINITY, hi = -INFINITY, ylo = INFINITY,
           yhi = -INFINITY;
    for (size_t k = 0; k < nr; k++)
        for (int j = 0; j < len[k]; j++) {
            lo = fmin(lo, bx[k * curve_bins + j]), hi = fmax(hi, bx[k * curve_bins + j]);
            ylo = fmin(ylo, by[k * curve_bins + j]), yhi = fmax(yhi, by[k * curve_bins + j]);
        }
    if (lo <= hi) x0 = lo - 0.03 * (hi - lo + 1e-9), x1 = hi + 0.03 * (hi - lo + 1e-9);
    if (ylo <= yhi) y0 = ylo - 0.05 * (yhi - ylo + 1e-9), y1 = yhi + 0.05 * (yhi - ylo + 1e-9);
    char title[200];
    snprintf(title, sizeof title, "Training loss vs tokens seen (%s)", p->backend);
    ts_plot_axes ax = {.xmin = x0,
                       .xmax = x1,
                       .ymin = y0,
                       .ymax = y1,
                       .logx = 1,
                       .title = title,
                       .xlabel = "tokens seen (log scale)",
                       .ylabel = "training loss (nats per character)"};
    ts_plot_draw_axes(&ax);
    int nf = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ts_run *r = &rep->set.runs[i];
        if (!curve_run(p, r)) continue;
        int style = 1 + intern(fams, &nf, r->family) % 8;
        plcol0(ts_plot_color((int)k));
        plwidth(2.0);
        pllsty(style);
        if (len[k] > 1) plline(len[k], bx + k * curve_bins, by + k * curve_bins);
        pllsty(1);
        plwidth(1.0);
        leg[k] = (ts_legend_entry){r->model, ts_plot_color((int)k), style, NULL, 0};
        k++;
    }
    ts_plot_legend(leg, (int)nr, PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE, 0.02,
                   0.02);
done:
    free(bx), free(by), free(len), free(leg), free(fams);
}

/* ---- throughput ---- */

static int cmp_model(const void *pa, const void *pb) {
    const ts_run *a = *(const ts_run *const *)pa, *b = *(const ts_run *const *)pb;
    int c = strcmp(a->family, b->family);
    if (!c) c = a->params < b->params ? -1 : a->params > b->params;
    if (!c) c = strcmp(a->model, b->model);
    return c;
}

static ts_status throughput_plot(const ts_report *rep) {
    size_t n = rep->set.n;
    const ts_run **models = malloc(sizeof(ts_run *) * (n + 1));
    const char **backs = malloc(sizeof(char *) * (n + 1)),
               **cats = malloc(sizeof(char *) * (n + 1));
    double *vals = malloc(sizeof(double) * (n + 1) * (n + 1));
    ts_status st = TS_OK;
    if (!models || !backs || !cats || !vals) {
        st = ts_set_error("out of host memory");
        goto done;
    }
    /* categories: distinct (family, model) with a measured rate, small to large per family */
    size_t nm = 0;
    int nb = 0;
    for (size_t i = 0; i < n; i++) {
        const ts_run *r = &rep->set.runs[i];
        if (!ts_run_ok(r) || !(r->tokens_per_s > 0)) continue;
        intern(backs, &nb, r->backend);
        size_t k = 0;
        while (k < nm &&
               (strcmp(models[k]->model, r->model) || strcmp(models[k]->family, r->family)))
            k++;
        if (k == nm) models[nm++] = r;
    }
    if (!nm) goto done;
    qsort(models, nm, sizeof *models, cmp_model);
    for (size_t k = 0; k < nm * (size_t)nb; k++)
        vals[k] = NAN;
    for (size_t k = 0; k < nm; k++) {
        cats[k] = models[k]->model;
        for (size_t i = 0; i < n; i++) {
            const ts_run *r = &rep->set.runs[i];
            if (!ts_run_ok(r) || !(r->tokens_per_s > 0) || strcmp(r->model, models[k]->model) ||
                strcmp(r->family, models[k]->family))
                continue;
            double *v = &vals[k * (size_t)nb + (size_t)intern(backs, &nb, r->backend)];
            if (isnan(*v)) *v = r->tokens_per_s; /* the first run of a (model, backend) */
        }
    }
    ts_bar_chart c = {"Training throughput per backend",
                      "tokens per second (log scale)",
                      nm,
                      (size_t)nb,
                      cats,
                      backs,
                      vals,
                      1};
    char path[4600];
    plot_path(rep, "tokens_per_s", path, sizeof path);
    st = ts_plot_bars(path, &c);
done:
    free(models), free(backs), free(cats), free(vals);
    return st;
}

/* ---- all of them ---- */

ts_status ts_report_plots(const ts_report *rep) {
    char path[4600];
    int any = 0;
    for (size_t i = 0; i < rep->set.n; i++)
        any |= usable(&rep->set.runs[i]);
    ts_status st = TS_OK;
    if (any) {
        int h = 60 + size_plot_axes_px + 145 + legend_line_px * (int)rep->n_fits;
        size_plot loss = {rep, 0, h}, ppl = {rep, 1, h};
        plot_path(rep, "val_loss_vs_params", path, sizeof path);
        st = ts_plot_render(path, 1100, h, draw_size_plot, &loss);
        plot_path(rep, "perplexity_vs_params", path, sizeof path);
        if (st == TS_OK) st = ts_plot_render(path, 1100, h, draw_size_plot, &ppl);
    }
    /* one curve plot per backend: fits are grouped by backend, so the fit list names them */
    for (size_t g = 0; g < rep->n_fits && st == TS_OK; g++) {
        if (g && !strcmp(rep->fits[g].backend, rep->fits[g - 1].backend)) continue;
        curve_plot cp = {rep, rep->fits[g].backend};
        int has = 0;
        for (size_t i = 0; i < rep->set.n; i++)
            has |= curve_run(&cp, &rep->set.runs[i]);
        if (!has) continue;
        char name[300];
        ts_report_curve_plot_name(cp.backend, name, sizeof name);
        plot_path(rep, name, path, sizeof path);
        st = ts_plot_render(path, 1100, 720, draw_curves, &cp);
    }
    if (st == TS_OK) st = throughput_plot(rep);
    /* L(N, D) figures: report_nd_plots.c */
    if (st == TS_OK && rep->nd.n_groups) st = ts_nd_report_plots(&rep->nd, &rep->set, rep->dir);
    return st;
}
