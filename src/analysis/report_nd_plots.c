/*
 * report_nd_plots.c — the L(N, D) section's figures, into DIR/plots/ as .svg and .png:
 *
 *   nd_loss_vs_tokens_<backend>_<family>  val loss vs tokens, one colour per size, with the
 *                                         fitted L(N, D) curve of each size
 *   nd_isoloss_<backend>_<family>         contours of the fitted L over (N, D), the runs, and
 *                                         the compute-optimal frontier
 *   nd_frontier_<backend>                 N_opt(C) and D_opt(C) per family with the bootstrap
 *                                         intervals at the table's budgets
 *
 * A group whose fit failed gets no figure.
 */
#include <math.h>
#include <plplot/plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/format.h"
#include "analysis/plot.h"
#include "analysis/report_nd.h"

void ts_nd_plot_name(const char *kind, const char *backend, const char *family, char *buf,
                     size_t cap) {
    int n = snprintf(buf, cap, "%s_%s%s%s", kind, *backend ? backend : "unknown", family ? "_" : "",
                     family ? family : "");
    /* backend and family become a file name: keep it to [A-Za-z0-9_-] */
    for (int i = (int)strlen(kind); i < n && (size_t)i < cap; i++) {
        char c = buf[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            buf[i] = '_';
    }
}

typedef struct {
    const ts_nd_report *nd;
    const ts_run_set *set;
    const ts_nd_group *g;
    const char *backend; /* the frontier plot: every group of this backend */
} nd_plot;

static int in_group(const ts_run *r, const ts_nd_group *g) {
    return ts_run_ok(r) && isfinite(r->val_loss) && r->params > 0 && r->tokens > 0 &&
           !strcmp(r->backend, g->backend) && !strcmp(r->family, g->family);
}

/* The group's distinct sizes, ascending; returns how many (at most cap). */
static int sizes_of(const nd_plot *p, double *sizes, int cap) {
    int k = 0;
    for (size_t i = 0; i < p->set->n; i++) {
        const ts_run *r = &p->set->runs[i];
        if (!in_group(r, p->g)) continue;
        int j = 0;
        while (j < k && sizes[j] != r->params)
            j++;
        if (j == k && k < cap) sizes[k++] = r->params;
    }
    for (int a = 1; a < k; a++) /* insertion sort: a handful of sizes */
        for (int b = a; b > 0 && sizes[b] < sizes[b - 1]; b--) {
            double t = sizes[b];
            sizes[b] = sizes[b - 1];
            sizes[b - 1] = t;
        }
    return k;
}

/* log10 ranges of the group's N and D (and loss range), over its runs. */
static void group_ranges(const nd_plot *p, double r[6]) {
    r[0] = r[2] = r[4] = INFINITY;
    r[1] = r[3] = r[5] = -INFINITY;
    for (size_t i = 0; i < p->set->n; i++) {
        const ts_run *x = &p->set->runs[i];
        if (!in_group(x, p->g)) continue;
        r[0] = fmin(r[0], log10(x->params)), r[1] = fmax(r[1], log10(x->params));
        r[2] = fmin(r[2], log10(x->tokens)), r[3] = fmax(r[3], log10(x->tokens));
        r[4] = fmin(r[4], x->val_loss), r[5] = fmax(r[5], x->val_loss);
    }
}

enum { max_sizes = 32 };

static void draw_loss_vs_tokens(void *ctx) {
    const nd_plot *p = ctx;
    const ts_nd_fit *f = &p->g->fit;
    double sizes[max_sizes], rg[6];
    int ns = sizes_of(p, sizes, max_sizes);
    group_ranges(p, rg);
    double pad = 0.1 * (rg[3] - rg[2] + 0.1), x0 = rg[2] - pad, x1 = rg[3] + pad;
    enum { steps = 120 };
    PLFLT cx[steps], cy[steps][max_sizes];
    double ylo = rg[4], yhi = rg[5];
    for (int s = 0; s < steps; s++) {
        cx[s] = x0 + (x1 - x0) * s / (steps - 1);
        for (int k = 0; k < ns; k++) {
            cy[s][k] = ts_nd_law_eval(&f->law, sizes[k], pow(10, cx[s]));
            ylo = fmin(ylo, cy[s][k]), yhi = fmax(yhi, cy[s][k]);
        }
    }
    char title[300];
    snprintf(title, sizeof title, "Validation loss vs tokens, fitted L(N, D): %s (%s)",
             p->g->family, p->g->backend);
    ts_plot_axes ax = {.xmin = x0,
                       .xmax = x1,
                       .ymin = ylo - 0.05 * (yhi - ylo + 1e-9),
                       .ymax = yhi + 0.05 * (yhi - ylo + 1e-9),
                       .logx = 1,
                       .title = title,
                       .xlabel = "tokens trained D (log scale)",
                       .ylabel = "validation loss (nats per character)"};
    ts_plot_draw_axes(&ax);
    ts_legend_entry leg[max_sizes];
    char labels[max_sizes][64];
    for (int k = 0; k < ns; k++) {
        int color = ts_plot_color(k);
        PLFLT line[steps];
        for (int s = 0; s < steps; s++)
            line[s] = cy[s][k];
        plcol0(color);
        plwidth(2.0);
        plline(steps, cx, line);
        plwidth(1.0);
        PLFLT px[64], py[64];
        int m = 0;
        for (size_t i = 0; i < p->set->n && m < 64; i++) {
            const ts_run *r = &p->set->runs[i];
            if (!in_group(r, p->g) || r->params != sizes[k]) continue;
            px[m] = log10(r->tokens), py[m++] = r->val_loss;
        }
        ts_plot_text(1.2);
        plstring(m, px, py, ts_plot_marker(k));
        ts_plot_text(1.0);
        char si[32];
        snprintf(labels[k], sizeof labels[k], "N = %s", ts_fmt_si(sizes[k], si, sizeof si));
        leg[k] = (ts_legend_entry){labels[k], color, 1, ts_plot_marker(k), 0};
    }
    ts_plot_legend(leg, ns, PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE, 0.02, 0.02);
}

/* plcont's coordinate transform: grid indices to the log10 axes. */
static void grid_to_axes(PLFLT i, PLFLT j, PLFLT *x, PLFLT *y, PLPointer data) {
    const double *r = data; /* x0, dx, y0, dy */
    *x = r[0] + i * r[1];
    *y = r[2] + j * r[3];
}

static void draw_isoloss(void *ctx) {
    const nd_plot *p = ctx;
    const ts_nd_fit *f = &p->g->fit;
    double rg[6];
    group_ranges(p, rg);
    /* half a decade around the runs either way: the law is a fit, not a forecast */
    double x0 = rg[0] - 0.5, x1 = rg[1] + 0.5, y0 = rg[2] - 0.5, y1 = rg[3] + 0.5;
    enum { nx = 80, ny = 80, n_levels = 12 };
    PLFLT **z;
    plAlloc2dGrid(&z, nx, ny);
    double zlo = INFINITY, zhi = -INFINITY;
    double tr[4] = {x0, (x1 - x0) / (nx - 1), y0, (y1 - y0) / (ny - 1)};
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++) {
            z[i][j] = ts_nd_law_eval(&f->law, pow(10, x0 + i * tr[1]), pow(10, y0 + j * tr[3]));
            if (isfinite(z[i][j])) zlo = fmin(zlo, z[i][j]), zhi = fmax(zhi, z[i][j]);
        }
    char title[300];
    snprintf(title, sizeof title, "Iso-loss contours of the fitted L(N, D), %s (%s)", p->g->family,
             p->g->backend);
    ts_plot_axes ax = {.xmin = x0,
                       .xmax = x1,
                       .ymin = y0,
                       .ymax = y1,
                       .logx = 1,
                       .logy = 1,
                       .title = title,
                       .xlabel = "parameters N (log scale)",
                       .ylabel = "tokens D (log scale)"};
    ts_plot_draw_axes(&ax);
    if (zlo < zhi) {
        /* levels spaced in log of the reducible loss, so the slow far corner is not crowded */
        PLFLT levels[n_levels];
        double base = isfinite(f->law.E) && f->law.E < zlo ? f->law.E : zlo - 0.01;
        for (int k = 0; k < n_levels; k++)
            levels[k] =
                base + (zlo - base) * pow((zhi - base) / (zlo - base), (k + 0.5) / n_levels);
        plcol0(TS_COL_TEXT2);
        pl_setcontlabelformat(3, 3);
        pl_setcontlabelparam(0.006, 0.45, 0.25, 1);
        plcont((PLFLT_MATRIX)z, nx, ny, 1, nx, 1, ny, levels, n_levels, grid_to_axes, tr);
        pl_setcontlabelparam(0.006, 0.45, 0.25, 0);
    }
    plFree2dGrid(z, nx, ny);
    /* the frontier across the plotted area */
    enum { steps = 100 };
    PLFLT fx[steps], fy[steps];
    int m = 0;
    for (int s = 0; s < steps; s++) {
        /* N·D on the frontier spans the corners of the plot */
        double lc = log10(f->k) + x0 + y0 + (x1 + y1 - x0 - y0) * s / (steps - 1), n, d;
        if (!ts_nd_frontier(&f->law, f->k, pow(10, lc), &n, &d)) break;
        if (log10(n) < x0 || log10(n) > x1 || log10(d) < y0 || log10(d) > y1) continue;
        fx[m] = log10(n), fy[m++] = log10(d);
    }
    ts_legend_entry leg[2];
    int nl = 0;
    if (m > 1) {
        plcol0(ts_plot_color(1));
        plwidth(3.0);
        plline(m, fx, fy);
        plwidth(1.0);
        leg[nl++] = (ts_legend_entry){"compute-optimal frontier", ts_plot_color(1), 1, NULL, 0};
    }
    PLFLT px[256], py[256];
    int k = 0;
    for (size_t i = 0; i < p->set->n && k < 256; i++) {
        const ts_run *r = &p->set->runs[i];
        if (in_group(r, p->g)) px[k] = log10(r->params), py[k++] = log10(r->tokens);
    }
    plcol0(ts_plot_color(0));
    ts_plot_text(1.2);
    plstring(k, px, py, ts_plot_marker(0));
    ts_plot_text(1.0);
    leg[nl++] = (ts_legend_entry){"runs", ts_plot_color(0), 0, ts_plot_marker(0), 0};
    ts_plot_legend(leg, nl, PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE, 0.02, 0.02);
}

static void draw_frontier(void *ctx) {
    const nd_plot *p = ctx;
    const ts_nd_report *nd = p->nd;
    /* x in PFLOP (log10 C − 15): SI labels beyond peta would read "1e+03P" */
    const double c0 = 15, c1 = 19;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_fit *f = &nd->groups[i].fit;
        if (strcmp(nd->groups[i].backend, p->backend)) continue;
        for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
            const double v[] = {f->n_opt[j], f->d_opt[j], f->n_lo[j],
                                f->n_hi[j],  f->d_lo[j],  f->d_hi[j]};
            for (int q = 0; q < 6; q++)
                if (v[q] > 0 && isfinite(v[q]))
                    lo = fmin(lo, log10(v[q])), hi = fmax(hi, log10(v[q]));
        }
    }
    if (!(lo <= hi)) lo = 0, hi = 1;
    char title[200];
    snprintf(title, sizeof title, "Compute-optimal model size and tokens (%s)", p->backend);
    ts_plot_axes ax = {.xmin = c0 - 15 - 0.2,
                       .xmax = c1 - 15 + 0.2,
                       .ymin = lo - 0.05 * (hi - lo + 0.1),
                       .ymax = hi + 0.05 * (hi - lo + 0.1),
                       .logx = 1,
                       .logy = 1,
                       .title = title,
                       .xlabel = "training compute C (PFLOP = 1e15 FLOP, log scale)",
                       .ylabel = "N_opt (solid), D_opt (dashed)"};
    ts_plot_draw_axes(&ax);
    ts_legend_entry leg[16];
    char labels[16][200];
    int nl = 0, fam = 0;
    for (size_t i = 0; i < nd->n_groups && nl < 15; i++) {
        const ts_nd_group *g = &nd->groups[i];
        const ts_nd_fit *f = &g->fit;
        if (strcmp(g->backend, p->backend)) continue;
        int color = ts_plot_color(fam++);
        enum { steps = 60 };
        PLFLT cx[steps], ny[steps], dy[steps];
        int m = 0;
        for (int s = 0; s < steps; s++) {
            double lc = c0 + (c1 - c0) * s / (steps - 1), n, d;
            if (!ts_nd_frontier(&f->law, g->k, pow(10, lc), &n, &d)) break;
            cx[m] = lc - 15, ny[m] = log10(n), dy[m++] = log10(d);
        }
        if (m < 2) continue;
        plcol0(color);
        plwidth(2.5);
        plline(m, cx, ny);
        pllsty(2);
        plline(m, cx, dy);
        pllsty(1);
        plwidth(1.5);
        /* bootstrap intervals at the table's budgets */
        PLFLT bx[TS_ND_N_BUDGETS], nlo[TS_ND_N_BUDGETS], nhi[TS_ND_N_BUDGETS], dlo[TS_ND_N_BUDGETS],
            dhi[TS_ND_N_BUDGETS];
        int nb = 0;
        for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
            if (!(f->n_lo[j] > 0 && f->n_hi[j] > 0 && f->d_lo[j] > 0 && f->d_hi[j] > 0)) continue;
            bx[nb] = log10(f->budget[j]) - 15;
            nlo[nb] = log10(f->n_lo[j]), nhi[nb] = log10(f->n_hi[j]);
            dlo[nb] = log10(f->d_lo[j]), dhi[nb++] = log10(f->d_hi[j]);
        }
        if (nb) {
            plerry(nb, bx, nlo, nhi);
            plerry(nb, bx, dlo, dhi);
        }
        plwidth(1.0);
        snprintf(labels[nl], sizeof labels[nl], "%s: N_opt ∝ C^%.3f", g->family, f->a);
        leg[nl] = (ts_legend_entry){labels[nl], color, 1, NULL, 0};
        nl++;
        snprintf(labels[nl], sizeof labels[nl], "%s: D_opt ∝ C^%.3f", g->family, f->b);
        leg[nl] = (ts_legend_entry){labels[nl], color, 2, NULL, 0};
        nl++;
    }
    ts_plot_legend(leg, nl, PL_POSITION_LEFT | PL_POSITION_TOP | PL_POSITION_INSIDE, 0.02, 0.02);
}

ts_status ts_nd_report_plots(const ts_nd_report *nd, const ts_run_set *set, const char *dir) {
    char name[300], path[4600];
    ts_status st = TS_OK;
    for (size_t i = 0; i < nd->n_groups && st == TS_OK; i++) {
        const ts_nd_group *g = &nd->groups[i];
        nd_plot p = {nd, set, g, g->backend};
        if (g->fit.ok) {
            ts_nd_plot_name("nd_loss_vs_tokens", g->backend, g->family, name, sizeof name);
            snprintf(path, sizeof path, "%s/plots/%s", dir, name);
            st = ts_plot_render(path, 1100, 720, draw_loss_vs_tokens, &p);
            ts_nd_plot_name("nd_isoloss", g->backend, g->family, name, sizeof name);
            snprintf(path, sizeof path, "%s/plots/%s", dir, name);
            if (st == TS_OK) st = ts_plot_render(path, 1000, 860, draw_isoloss, &p);
        }
        /* one frontier figure per backend, after its last group, when some fit has one */
        if (st != TS_OK || (i + 1 < nd->n_groups && !strcmp(nd->groups[i + 1].backend, g->backend)))
            continue;
        int any = 0;
        for (size_t j = 0; j < nd->n_groups; j++)
            any |= !strcmp(nd->groups[j].backend, g->backend) && isfinite(nd->groups[j].fit.a);
        if (!any) continue;
        ts_nd_plot_name("nd_frontier", g->backend, NULL, name, sizeof name);
        snprintf(path, sizeof path, "%s/plots/%s", dir, name);
        st = ts_plot_render(path, 1100, 760, draw_frontier, &p);
    }
    return st;
}
