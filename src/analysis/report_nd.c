/*
 * report_nd.c — builds the report's L(N, D) section and writes it as Markdown, JSON and terminal
 * lines (report_nd.h). The figures are in report_nd_plots.c.
 */
#include "analysis/report_nd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/format.h"
#include "util/fsutil.h"

static int usable(const ts_run *r) {
    return ts_run_ok(r) && isfinite(r->val_loss) && r->params > 0 && r->tokens > 0;
}

/* The two facts the section needs that ts_run does not carry. */
static void read_extra(const ts_run *r, ts_nd_run *x) {
    x->train_tokens = x->flops_per_token = NAN;
    char *text;
    size_t len;
    if (!r->path || ts_read_file(r->path, &text, &len) != TS_OK) return;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(ds, "train_tokens");
    const cJSON *fpt = cJSON_GetObjectItemCaseSensitive(j, "flops_per_token");
    if (cJSON_IsNumber(tt) && tt->valuedouble > 0) x->train_tokens = tt->valuedouble;
    if (cJSON_IsNumber(fpt) && fpt->valuedouble > 0) x->flops_per_token = fpt->valuedouble;
    cJSON_Delete(j);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int same_group(const ts_run *r, const char *backend, const char *family) {
    return !strcmp(r->backend, backend) && !strcmp(r->family, family);
}

/* Fits one (backend, family) on its usable runs that do not repeat data. */
static ts_status fit_group(const ts_run_set *set, ts_nd_report *nd, ts_nd_group *g, int bootstrap,
                           uint64_t seed) {
    size_t cap = set->n + 1;
    double *buf = malloc(sizeof(double) * cap * 4);
    g->points = malloc(sizeof(size_t) * cap);
    if (!buf || !g->points) {
        free(buf);
        return ts_set_error("out of host memory");
    }
    double *n = buf, *d = buf + cap, *loss = buf + 2 * cap, *ks = buf + 3 * cap;
    size_t m = 0, nk = 0;
    g->max_run_flops = NAN;
    for (size_t i = 0; i < set->n; i++) {
        const ts_run *r = &set->runs[i];
        ts_nd_run *x = &nd->runs[i];
        if (!same_group(r, g->backend, g->family) || !usable(r) || x->repeated) continue;
        n[m] = r->params, d[m] = r->tokens, loss[m] = r->val_loss;
        g->points[m++] = i;
        if (isfinite(x->flops_per_token)) {
            ks[nk++] = x->flops_per_token / r->params;
            double c = x->flops_per_token * r->tokens;
            if (!(c <= g->max_run_flops)) g->max_run_flops = c;
        }
    }
    /* k from the runs' own FLOP counts (attention included for the Transformer); the plain
     * 6 when no result recorded one */
    g->k = 6.0, g->k_min = g->k_max = NAN;
    if (nk) {
        qsort(ks, nk, sizeof(double), cmp_double);
        g->k = nk % 2 ? ks[nk / 2] : 0.5 * (ks[nk / 2 - 1] + ks[nk / 2]);
        g->k_min = ks[0], g->k_max = ks[nk - 1];
    }
    ts_status st = ts_fit_nd(n, d, loss, m, g->k, bootstrap, seed, &g->fit);
    if (st == TS_OK && g->fit.ok)
        for (size_t p = 0; p < m; p++) {
            nd->runs[g->points[p]].fitted = 1;
            nd->runs[g->points[p]].residual = g->fit.residuals[p];
        }
    free(buf);
    return st;
}

/* Whether some group trained two or more budgets: only then is there an L(N, D) to fit. */
static int has_budgets(const ts_run_set *set, const char *backend, const char *family) {
    double first = NAN;
    for (size_t i = 0; i < set->n; i++) {
        const ts_run *r = &set->runs[i];
        if (!same_group(r, backend, family) || !usable(r)) continue;
        if (isnan(first))
            first = r->tokens;
        else if (r->tokens != first)
            return 1;
    }
    return 0;
}

ts_status ts_nd_report_build(const ts_run_set *set, int bootstrap, uint64_t seed,
                             ts_nd_report *nd) {
    memset(nd, 0, sizeof *nd);
    nd->runs = calloc(set->n + 1, sizeof *nd->runs);
    nd->groups = calloc(set->n + 1, sizeof *nd->groups);
    if (!nd->runs || !nd->groups) return ts_set_error("out of host memory");
    nd->n_runs = set->n;
    int any = 0;
    for (size_t i = 0; i < set->n && !any; i++)
        any = has_budgets(set, set->runs[i].backend, set->runs[i].family);
    if (!any) return TS_OK; /* one budget per group: no section, and no file read again */
    for (size_t i = 0; i < set->n; i++) {
        const ts_run *r = &set->runs[i];
        ts_nd_run *x = &nd->runs[i];
        x->residual = NAN;
        read_extra(r, x);
        x->tokens_per_param = r->params > 0 ? r->tokens / r->params : NAN;
        x->epochs = x->train_tokens > 0 ? r->tokens / x->train_tokens : NAN;
        x->repeated = x->epochs > 1.0 + 1e-9;
        x->few_tokens = x->tokens_per_param < TS_ND_MIN_TOKENS_PER_PARAM;
    }
    ts_status st = TS_OK;
    for (size_t i = 0; i < set->n && st == TS_OK; i++) {
        const ts_run *r = &set->runs[i];
        int known = 0;
        for (size_t g = 0; g < nd->n_groups; g++)
            known |= same_group(r, nd->groups[g].backend, nd->groups[g].family);
        if (known || !has_budgets(set, r->backend, r->family)) continue;
        ts_nd_group *g = &nd->groups[nd->n_groups++];
        g->backend = strdup(r->backend);
        g->family = strdup(r->family);
        if (!g->backend || !g->family) return ts_set_error("out of host memory");
        st = fit_group(set, nd, g, bootstrap, seed);
    }
    return st;
}

void ts_nd_report_free(ts_nd_report *nd) {
    for (size_t g = 0; g < nd->n_groups; g++) {
        free(nd->groups[g].backend);
        free(nd->groups[g].family);
        free(nd->groups[g].points);
        ts_nd_fit_free(&nd->groups[g].fit);
    }
    free(nd->groups);
    free(nd->runs);
    memset(nd, 0, sizeof *nd);
}

/* ---- Markdown ---- */

/* "0.340 [0.331, 0.360]" with the precision fmt, or the value alone without an interval. */
const char *ts_nd_fmt_ci(double v, double lo, double hi, const char *fmt, char *buf, size_t cap) {
    char a[40], b[40], c[40];
    ts_fmt_num(v, fmt, a, sizeof a);
    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, cap, "%s [%s, %s]", a, ts_fmt_num(lo, fmt, b, sizeof b),
                 ts_fmt_num(hi, fmt, c, sizeof c));
    else
        snprintf(buf, cap, "%s", a);
    return buf;
}

const char *ts_nd_fmt_si_ci(double v, double lo, double hi, char *buf, size_t cap) {
    char a[32], b[32], c[32];
    ts_fmt_si(v, a, sizeof a);
    if (isfinite(lo) && isfinite(hi))
        snprintf(buf, cap, "%s [%s, %s]", a, ts_fmt_si(lo, b, sizeof b),
                 ts_fmt_si(hi, c, sizeof c));
    else
        snprintf(buf, cap, "%s", a);
    return buf;
}

static void md_plot(FILE *f, const char *dir, const char *name, const char *caption) {
    char rel[600], full[4800];
    /* a name too long for a path has no plot file either */
    if (snprintf(rel, sizeof rel, "plots/%s.png", name) >= (int)sizeof rel) return;
    ts_path_join(full, sizeof full, dir, rel);
    if (ts_is_file(full))
        fprintf(f, "![%s](plots/%s.png) ([SVG](plots/%s.svg))\n\n", caption, name, name);
}

static void md_fits(FILE *f, const ts_nd_report *nd) {
    fprintf(f, "| backend | family | points | sizes | budgets | E | A | α | B | β | R² | RMSE | "
               "note |\n|---|---|--:|--:|--:|---|---|---|---|---|--:|--:|---|\n");
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_group *g = &nd->groups[i];
        const ts_nd_fit *t = &g->fit;
        fprintf(f, "| %s | %s | %zu | %zu | %zu | ", g->backend, g->family, t->n_points, t->n_sizes,
                t->n_budgets);
        if (!t->ok) {
            fprintf(f, "%s | | | | | | | |\n", t->why);
            continue;
        }
        char e[96], a[96], al[96], b[96], be[96], r2[32], rm[32];
        fprintf(f, "%s | %s | %s | %s | %s | %s | %s | %s |\n",
                ts_nd_fmt_ci(t->law.E, t->lo.E, t->hi.E, "%.4g", e, sizeof e),
                ts_nd_fmt_ci(t->law.A, t->lo.A, t->hi.A, "%.4g", a, sizeof a),
                ts_nd_fmt_ci(t->law.alpha, t->lo.alpha, t->hi.alpha, "%.3f", al, sizeof al),
                ts_nd_fmt_ci(t->law.B, t->lo.B, t->hi.B, "%.4g", b, sizeof b),
                ts_nd_fmt_ci(t->law.beta, t->lo.beta, t->hi.beta, "%.3f", be, sizeof be),
                ts_fmt_num(t->r2, "%.4f", r2, sizeof r2),
                ts_fmt_num(t->rmse, "%.4f", rm, sizeof rm), t->note);
    }
}

static void md_frontier(FILE *f, const ts_nd_report *nd) {
    fprintf(f, "| backend | family | k (FLOP per param·token) | a (N_opt ∝ C^a) | b (D_opt ∝ "
               "C^b) | largest run (FLOP) |\n|---|---|--:|---|---|--:|\n");
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_group *g = &nd->groups[i];
        char k[32], k0[32], k1[32], a[96], b[96], c[32];
        fprintf(f, "| %s | %s | %s", g->backend, g->family, ts_fmt_num(g->k, "%.2f", k, sizeof k));
        if (isfinite(g->k_min) && g->k_max > g->k_min)
            fprintf(f, " (%s–%s)", ts_fmt_num(g->k_min, "%.2f", k0, sizeof k0),
                    ts_fmt_num(g->k_max, "%.2f", k1, sizeof k1));
        fprintf(f, " | %s | %s | %s |\n",
                ts_nd_fmt_ci(g->fit.a, g->fit.a_lo, g->fit.a_hi, "%.3f", a, sizeof a),
                ts_nd_fmt_ci(g->fit.b, g->fit.b_lo, g->fit.b_hi, "%.3f", b, sizeof b),
                ts_fmt_num(g->max_run_flops, "%.3g", c, sizeof c));
    }
    fprintf(f, "\n| backend | family | C (FLOP) | N_opt [95%% CI] | D_opt [95%% CI] | D/N | L at "
               "optimum |\n|---|---|--:|---|---|--:|--:|\n");
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_group *g = &nd->groups[i];
        const ts_nd_fit *t = &g->fit;
        for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
            char n[96], d[96], r[32], l[32];
            fprintf(f, "| %s | %s | %.0e | %s | %s | %s | %s |\n", g->backend, g->family,
                    t->budget[j], ts_nd_fmt_si_ci(t->n_opt[j], t->n_lo[j], t->n_hi[j], n, sizeof n),
                    ts_nd_fmt_si_ci(t->d_opt[j], t->d_lo[j], t->d_hi[j], d, sizeof d),
                    ts_fmt_num(t->d_opt[j] / t->n_opt[j], "%.3g", r, sizeof r),
                    ts_fmt_num(t->loss_opt[j], "%.3f", l, sizeof l));
        }
    }
}

/* The set is sorted by folder path, where "-d131072" comes before "-d65536": the table goes
 * by size, then budget. */
static const ts_run_set *sort_set;
static int cmp_budget_order(const void *pa, const void *pb) {
    const ts_run *a = &sort_set->runs[*(const size_t *)pa],
                 *b = &sort_set->runs[*(const size_t *)pb];
    int c = strcmp(a->backend, b->backend);
    if (!c) c = strcmp(a->family, b->family);
    if (!c) c = a->params < b->params ? -1 : a->params > b->params;
    if (!c) c = strcmp(a->model, b->model);
    if (!c) c = a->tokens < b->tokens ? -1 : a->tokens > b->tokens;
    return c;
}

static void md_runs(FILE *f, const ts_nd_report *nd, const ts_run_set *set) {
    fprintf(f, "| backend | model | params N | tokens D | D/N | epochs | val loss | residual | "
               "flags |\n|---|---|--:|--:|--:|--:|--:|--:|---|\n");
    size_t *order = malloc(sizeof(size_t) * (set->n + 1));
    for (size_t i = 0; order && i < set->n; i++)
        order[i] = i;
    if (order) {
        sort_set = set;
        qsort(order, set->n, sizeof *order, cmp_budget_order);
    }
    for (size_t k = 0; k < set->n; k++) {
        size_t i = order ? order[k] : k; /* no memory for the order: the set's own */
        const ts_run *r = &set->runs[i];
        const ts_nd_run *x = &nd->runs[i];
        char p[32], t[32], dn[32], ep[32], vl[32], rs[32];
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | ", r->backend, r->model,
                ts_fmt_si(r->params, p, sizeof p), ts_fmt_si(r->tokens, t, sizeof t),
                ts_fmt_num(x->tokens_per_param, "%.3g", dn, sizeof dn),
                ts_fmt_num(x->epochs, "%.3g", ep, sizeof ep),
                ts_fmt_num(r->val_loss, "%.4f", vl, sizeof vl),
                ts_fmt_num(x->residual, "%+.4f", rs, sizeof rs));
        const char *sep = "";
        if (x->few_tokens) fprintf(f, "D/N < %g", TS_ND_MIN_TOKENS_PER_PARAM), sep = "; ";
        if (x->repeated) fprintf(f, "%srepeats data (not fitted)", sep), sep = "; ";
        if (!ts_run_ok(r)) fprintf(f, "%snot ok (not fitted)", sep);
        fprintf(f, " |\n");
    }
    free(order);
}

void ts_nd_report_write_md(FILE *f, const ts_nd_report *nd, const ts_run_set *set, const char *dir,
                           int plots_made) {
    if (!nd || !nd->n_groups) return;
    fprintf(f, "## L(N, D): loss vs parameters and tokens, compute-optimal frontier\n\n");
    fprintf(f, "L(N, D) = E + A·N^(−α) + B·D^(−β) (the Chinchilla paper's form), fitted to the "
               "validation loss by least squares on log L (Levenberg–Marquardt, MINPACK lmder, "
               "best of 64 starts), one fit per backend and family that trained two or more "
               "token budgets; N = all parameters, D = tokens trained. Runs that repeat data "
               "(more tokens than the corpus's train split) are left out: the law assumes "
               "unique data. ");
    if (nd->n_groups && nd->groups[0].fit.boot_asked)
        fprintf(f,
                "95%% intervals: 2.5–97.5 percentiles of %d bootstrap resamples of the "
                "points; resamples with fewer than %d sizes or budgets are skipped.\n\n",
                nd->groups[0].fit.boot_asked, TS_ND_MIN_SIZES);
    else
        fprintf(f, "No bootstrap interval was asked for.\n\n");
    md_fits(f, nd);
    fprintf(f, "\n### Compute-optimal frontier\n\n");
    fprintf(f, "Training compute C = k·N·D, k FLOPs per parameter and token: the median over the "
               "group's runs of their flops_per_token / N (6·N_non-embedding/N, plus the "
               "attention's 12·L·d·T/N for the Transformer; range in brackets). Minimising L on "
               "N·D = C/k gives N_opt = G·(C/k)^a and D_opt = (C/k)^b / G with a = β/(α+β), "
               "b = α/(α+β), G = (αA/(βB))^(1/(α+β)). Intervals come from the same bootstrap. "
               "Budgets far above the largest run are extrapolations of the law.\n\n");
    md_frontier(f, nd);
    fprintf(f, "\n### Tokens per parameter\n\n");
    fprintf(f,
            "Flags: `D/N < %g`: fewer training tokens than parameters (the Chinchilla paper's "
            "compute-optimal models see about 20 per parameter; these are deep in the "
            "data-limited regime); `repeats data`: D is larger than the corpus's train split, "
            "so the run saw some data more than once (epochs > 1). Residual: observed − "
            "fitted val loss.\n\n",
            TS_ND_MIN_TOKENS_PER_PARAM);
    md_runs(f, nd, set);
    fprintf(f, "\n");
    if (!plots_made) return;
    ts_nd_plot_ref plots[3 * TS_ND_MAX_PLOT_GROUPS];
    size_t n = ts_nd_plot_list(nd, plots, sizeof plots / sizeof plots[0]);
    for (size_t i = 0; i < n; i++)
        md_plot(f, dir, plots[i].name, plots[i].caption);
}

size_t ts_nd_plot_list(const ts_nd_report *nd, ts_nd_plot_ref *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < nd->n_groups && n + 3 <= cap; i++) {
        const ts_nd_group *g = &nd->groups[i];
        ts_nd_plot_name("nd_loss_vs_tokens", g->backend, g->family, out[n].name,
                        sizeof out[n].name);
        snprintf(out[n++].caption, sizeof out->caption,
                 "validation loss vs tokens per size with L(N, D) (%s, %s)", g->family, g->backend);
        ts_nd_plot_name("nd_isoloss", g->backend, g->family, out[n].name, sizeof out[n].name);
        snprintf(out[n++].caption, sizeof out->caption, "iso-loss contours of L(N, D) (%s, %s)",
                 g->family, g->backend);
        /* one frontier plot per backend, after its last family */
        if (i + 1 < nd->n_groups && !strcmp(nd->groups[i + 1].backend, g->backend)) continue;
        ts_nd_plot_name("nd_frontier", g->backend, NULL, out[n].name, sizeof out[n].name);
        snprintf(out[n++].caption, sizeof out->caption, "compute-optimal N and D vs compute (%s)",
                 g->backend);
    }
    return n;
}

/* ---- JSON ---- */

static void json_ci(cJSON *o, const char *key, double v, double lo, double hi) {
    cJSON *x = cJSON_AddObjectToObject(o, key);
    ts_json_num(x, "value", v);
    ts_json_num(x, "lo", lo);
    ts_json_num(x, "hi", hi);
}

static cJSON *group_json(const ts_nd_group *g) {
    const ts_nd_fit *t = &g->fit;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", g->backend);
    cJSON_AddStringToObject(o, "family", g->family);
    cJSON_AddBoolToObject(o, "ok", t->ok);
    if (!t->ok) cJSON_AddStringToObject(o, "why", t->why);
    if (t->note[0]) cJSON_AddStringToObject(o, "note", t->note);
    cJSON_AddNumberToObject(o, "points", (double)t->n_points);
    cJSON_AddNumberToObject(o, "sizes", (double)t->n_sizes);
    cJSON_AddNumberToObject(o, "budgets", (double)t->n_budgets);
    cJSON_AddNumberToObject(o, "bootstrap_used", t->boot_used);
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    json_ci(p, "E", t->law.E, t->lo.E, t->hi.E);
    json_ci(p, "A", t->law.A, t->lo.A, t->hi.A);
    json_ci(p, "alpha", t->law.alpha, t->lo.alpha, t->hi.alpha);
    json_ci(p, "B", t->law.B, t->lo.B, t->hi.B);
    json_ci(p, "beta", t->law.beta, t->lo.beta, t->hi.beta);
    ts_json_num(o, "r2", t->r2);
    ts_json_num(o, "rmse", t->rmse);
    cJSON *fr = cJSON_AddObjectToObject(o, "frontier");
    ts_json_num(fr, "k", g->k);
    ts_json_num(fr, "k_min", g->k_min);
    ts_json_num(fr, "k_max", g->k_max);
    ts_json_num(fr, "largest_run_flops", g->max_run_flops);
    json_ci(fr, "a", t->a, t->a_lo, t->a_hi);
    json_ci(fr, "b", t->b, t->b_lo, t->b_hi);
    cJSON *table = cJSON_AddArrayToObject(fr, "table");
    for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
        cJSON *row = cJSON_CreateObject();
        ts_json_num(row, "flops", t->budget[j]);
        json_ci(row, "n_opt", t->n_opt[j], t->n_lo[j], t->n_hi[j]);
        json_ci(row, "d_opt", t->d_opt[j], t->d_lo[j], t->d_hi[j]);
        ts_json_num(row, "loss", t->loss_opt[j]);
        cJSON_AddItemToArray(table, row);
    }
    return o;
}

cJSON *ts_nd_report_json(const ts_nd_report *nd, const ts_run_set *set, const char *dir) {
    if (!nd || !nd->n_groups) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "law",
                            "L(N, D) = E + A * N^(-alpha) + B * D^(-beta), L = val_loss, "
                            "N = params, D = tokens");
    cJSON_AddStringToObject(o, "method",
                            "least squares on log L, Levenberg-Marquardt (MINPACK "
                            "lmder), best of 64 starts; runs repeating data left out");
    cJSON_AddStringToObject(o, "compute", "C = k * N * D, k = median flops_per_token / params");
    cJSON_AddNumberToObject(o, "min_tokens_per_param", TS_ND_MIN_TOKENS_PER_PARAM);
    cJSON *fits = cJSON_AddArrayToObject(o, "fits");
    for (size_t i = 0; i < nd->n_groups; i++)
        cJSON_AddItemToArray(fits, group_json(&nd->groups[i]));
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (size_t i = 0; i < set->n; i++) {
        const ts_run *r = &set->runs[i];
        const ts_nd_run *x = &nd->runs[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "result", ts_relpath(r->path, dir));
        cJSON_AddStringToObject(j, "backend", r->backend);
        cJSON_AddStringToObject(j, "model", r->model);
        ts_json_num(j, "params", r->params);
        ts_json_num(j, "tokens", r->tokens);
        ts_json_num(j, "tokens_per_param", x->tokens_per_param);
        ts_json_num(j, "epochs", x->epochs);
        cJSON_AddBoolToObject(j, "fitted", x->fitted);
        ts_json_num(j, "residual", x->residual);
        cJSON *fl = cJSON_AddArrayToObject(j, "flags");
        if (x->few_tokens) cJSON_AddItemToArray(fl, cJSON_CreateString("few_tokens_per_param"));
        if (x->repeated) cJSON_AddItemToArray(fl, cJSON_CreateString("repeated_data"));
        cJSON_AddItemToArray(runs, j);
    }
    return o;
}

/* ---- terminal ---- */

void ts_nd_report_print(FILE *out, const ts_nd_report *nd) {
    if (!nd || !nd->n_groups) return;
    fprintf(out, "\nfits of L(N, D) = E + A*N^-alpha + B*D^-beta (95%% CI), frontier C = k*N*D\n");
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_group *g = &nd->groups[i];
        const ts_nd_fit *t = &g->fit;
        fprintf(out, "  %-8s %-12s %3zu pts  ", g->backend, g->family, t->n_points);
        if (!t->ok) {
            fprintf(out, "%s\n", t->why);
            continue;
        }
        char al[96], be[96], e[96], a[96], b[96];
        fprintf(out, "E %s  alpha %s  beta %s  a %s  b %s%s%s\n",
                ts_nd_fmt_ci(t->law.E, t->lo.E, t->hi.E, "%.4g", e, sizeof e),
                ts_nd_fmt_ci(t->law.alpha, t->lo.alpha, t->hi.alpha, "%.3f", al, sizeof al),
                ts_nd_fmt_ci(t->law.beta, t->lo.beta, t->hi.beta, "%.3f", be, sizeof be),
                ts_nd_fmt_ci(t->a, t->a_lo, t->a_hi, "%.3f", a, sizeof a),
                ts_nd_fmt_ci(t->b, t->b_lo, t->b_hi, "%.3f", b, sizeof b), t->note[0] ? "  " : "",
                t->note);
    }
}
