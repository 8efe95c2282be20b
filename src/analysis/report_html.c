/*
 * report_html.c — report.html: the whole report in one self-contained file to share, read on a
 * phone or print. Inline CSS, the plots embedded as data: URIs of their SVG files (inlining
 * the SVG markup itself would mix the cairo glyph ids of several figures in one document), no
 * script and no network. Sections: summary, commands, system, caveats, fits, runs, plots,
 * compare. Every table cell that holds a figure carries data-k="<field>" so a browser test can
 * read the table back and check it against the result files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/format.h"
#include "analysis/report.h"
#include "util/fsutil.h"

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void base64(FILE *f, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        fputc(tab[v >> 18 & 63], f);
        fputc(tab[v >> 12 & 63], f);
        fputc(i + 1 < n ? tab[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? tab[v & 63] : '=', f);
    }
}

static const char css[] =
    "body{font:16px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#fff;margin:0 auto;"
    "max-width:72rem;padding:0 1rem 3rem}"
    "h1{font-size:1.6rem;margin:1.2rem 0 .4rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;"
    "border-bottom:1px solid #ddd;padding-bottom:.2rem}"
    ".wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}"
    "table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #d0d0d0;padding:.25rem .45rem;text-align:right;white-space:nowrap}"
    "th{background:#f2f2f2}td.t,th.t{text-align:left}"
    "pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap;"
    "word-break:break-all;font-size:.85rem}"
    ".err{color:#a00000;font-weight:600}.flag{color:#8a5a00}.flag s{color:#777}"
    "ul.cav li{margin:.2rem 0}"
    "figure{margin:1rem 0;break-inside:avoid}figure img{max-width:100%;height:auto;"
    "border:1px solid #eee}figcaption{font-size:.9rem;color:#444}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
    "@media (max-width:40rem){body{font-size:15px}dl{grid-template-columns:1fr}}"
    "@media print{body{max-width:none;font-size:11pt}.wrap{overflow:visible}"
    "table{font-size:8pt}h2{break-after:avoid}a{color:inherit;text-decoration:none}}";

static void cell(FILE *f, const char *key, const char *text, int bad) {
    fprintf(f, "<td data-k=\"%s\"%s>", key, bad ? " class=\"err\"" : "");
    esc(f, text);
    fputs("</td>", f);
}

static void tcell(FILE *f, const char *key, const char *text) {
    fprintf(f, "<td class=\"t\" data-k=\"%s\">", key);
    esc(f, text);
    fputs("</td>", f);
}

static void html_system(FILE *f, const ts_report *rep) {
    fputs("<h2 id=\"system\">System</h2><dl>", f);
    const char *secs[] = {"host", "build"};
    for (int s = 0; s < 2; s++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(rep->system, secs[s]), *it;
        cJSON_ArrayForEach(it, o) {
            fprintf(f, "<dt>%s %s</dt><dd>", secs[s], it->string);
            if (cJSON_IsString(it))
                esc(f, it->valuestring);
            else if (cJSON_IsBool(it))
                fputs(cJSON_IsTrue(it) ? "yes" : "no", f);
            else if (cJSON_IsNumber(it) && !strcmp(it->string, "memory_bytes")) {
                char b[32];
                fputs(ts_fmt_bytes(it->valuedouble, b, sizeof b), f);
            } else if (cJSON_IsNumber(it))
                fprintf(f, "%g", it->valuedouble);
            fputs("</dd>", f);
        }
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(rep->system, "devices")) {
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(d, "peak_gflops");
        fputs("<dt>device ", f);
        esc(f, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "backend")));
        fputs("</dt><dd>", f);
        const char *keys[] = {"name", "driver", "api_version"};
        for (int k = 0; k < 3; k++) {
            esc(f, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, keys[k])));
            fputs(k < 2 ? "; " : "", f);
        }
        if (cJSON_IsNumber(pk))
            fprintf(f, "; nominal peak %.0f GFLOP/s (", pk->valuedouble);
        else
            fputs("; nominal peak unknown (", f);
        esc(f, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "peak_source")));
        fputs(")</dd>", f);
    }
    fputs("</dl><p>From the ", f);
    esc(f, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep->system, "source")));
    fputs(".</p>", f);
}

static void fit_row(FILE *f, const ts_family_fit *g, const ts_power_fit *fit, const char *n) {
    char a[32], c[32], r2[32], al[64], ci[96];
    fputs("<tr>", f);
    tcell(f, "backend", g->backend);
    tcell(f, "family", g->family);
    tcell(f, "n", n);
    snprintf(al, sizeof al, "%zu", fit->n_sizes);
    cell(f, "sizes", al, 0);
    if (!fit->ok) {
        fputs("<td class=\"t flag\" colspan=\"6\" data-k=\"reason\">no fit: ", f);
        esc(f, fit->why);
        fputs("</td></tr>\n", f);
        return;
    }
    snprintf(al, sizeof al, "%.4f", fit->alpha);
    if (isfinite(fit->alpha_lo))
        snprintf(ci, sizeof ci, "[%.4f, %.4f]", fit->alpha_lo, fit->alpha_hi);
    else
        snprintf(ci, sizeof ci, "%s", fit->point_only ? "point fit: no interval" : "none");
    if (fit->flagged)
        fprintf(f, "<td class=\"flag\" data-k=\"alpha\"><s>%s</s></td>", al);
    else
        cell(f, "alpha", al, 0);
    cell(f, "alpha_ci95", ci, 0);
    cell(f, "a", ts_fmt_num(fit->a, "%.4g", a, sizeof a), 0);
    cell(f, "c", ts_fmt_num(fit->c, "%.4f", c, sizeof c), 0);
    cell(f, "r2", ts_fmt_num(fit->r2, "%.4f", r2, sizeof r2), 0);
    fprintf(f, "<td class=\"t%s\" data-k=\"note\">%s", fit->flagged ? " flag" : "",
            fit->flagged ? "flagged, not a law: " : "");
    esc(f, fit->note);
    fputs("</td></tr>\n", f);
}

static void html_runs(FILE *f, const ts_report *rep) {
    fputs("<h2 id=\"runs\">Runs</h2><div class=\"wrap\"><table id=\"run-table\"><thead><tr>"
          "<th class=\"t\">backend</th><th class=\"t\">model</th><th>params</th>"
          "<th>tokens</th><th>val loss</th><th>val ppl</th><th>wall (s)</th><th>tokens/s</th>"
          "<th>GFLOP/s</th><th>MFU</th><th>MFU (measured peak)</th><th>peak memory</th>"
          "<th class=\"t\">status</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < rep->set.n; i++) {
        const ts_run *r = &rep->set.runs[i];
        char b[12][48];
        fputs("<tr>", f);
        tcell(f, "backend", r->backend);
        tcell(f, "model", r->model);
        cell(f, "params", ts_fmt_si(r->params, b[0], 48), 0);
        cell(f, "tokens", ts_fmt_si(r->tokens, b[1], 48), 0);
        cell(f, "val_loss", ts_fmt_num(r->val_loss, "%.4f", b[2], 48), 0);
        cell(f, "val_perplexity", ts_fmt_num(r->val_perplexity, "%.3f", b[3], 48), 0);
        cell(f, "wall_time_s", ts_fmt_num(r->wall_time_s, "%.1f", b[4], 48), 0);
        cell(f, "tokens_per_s", ts_fmt_si(r->tokens_per_s, b[5], 48), 0);
        cell(f, "achieved_gflops", ts_fmt_num(r->achieved_gflops, "%.1f", b[6], 48), 0);
        cell(f, "mfu",
             ts_fmt_num(r->mfu * 100, r->mfu > 1 ? "%.1f%% data error" : "%.1f%%", b[7], 48),
             r->mfu > 1);
        cell(f, "mfu_measured",
             ts_fmt_num(r->mfu_measured * 100, r->mfu_measured > 1 ? "%.1f%% data error" : "%.1f%%",
                        b[8], 48),
             r->mfu_measured > 1);
        cell(f, "peak_memory", ts_fmt_bytes(r->peak_memory_bytes, b[9], 48), 0);
        tcell(f, "status", r->status);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div><p>MFU is achieved FLOP/s over the device's nominal peak (see "
          "System) and over the peak <code>tunescale bench peak</code> measured, where recorded. "
          "Above 100% is impossible: such a figure is an error in the data.</p>\n",
          f);
}

/* A plot of plots/, embedded; nothing when the report made no such figure. */
static void html_plot(FILE *f, const ts_report *rep, const char *name, const char *caption) {
    char rel[400], path[4600], *data = NULL;
    size_t len;
    snprintf(rel, sizeof rel, "plots/%s.svg", name);
    ts_path_join(path, sizeof path, rep->dir, rel);
    if (!ts_is_file(path) || ts_read_file(path, &data, &len) != TS_OK) return;
    fprintf(f, "<figure><img class=\"plot\" data-name=\"%s\" alt=\"", name);
    esc(f, caption);
    fputs("\" src=\"data:image/svg+xml;base64,", f);
    base64(f, (const unsigned char *)data, len);
    fputs("\"><figcaption>", f);
    esc(f, caption);
    fputs("</figcaption></figure>\n", f);
    free(data);
}

static void html_plots(FILE *f, const ts_report *rep) {
    fputs("<h2 id=\"plots\">Plots</h2>\n", f);
    if (!rep->plots_made) {
        fputs("<p class=\"flag\">No plots: ", f);
        esc(f, rep->plots_status);
        fputs("</p>\n", f);
        return;
    }
    html_plot(f, rep, "val_loss_vs_params", "Validation loss vs parameters, with the fits");
    html_plot(f, rep, "perplexity_vs_params", "Validation perplexity vs parameters");
    for (size_t i = 0; i < rep->n_fits; i++) {
        if (i && !strcmp(rep->fits[i].backend, rep->fits[i - 1].backend)) continue;
        char name[300], cap[400];
        ts_report_curve_plot_name(rep->fits[i].backend, name, sizeof name);
        snprintf(cap, sizeof cap, "Training loss vs tokens (%s)", rep->fits[i].backend);
        html_plot(f, rep, name, cap);
    }
    html_plot(f, rep, "tokens_per_s", "Training throughput per backend and model");
}

/* The L(N, D) section (report_nd.c builds it): only a set that trains sizes at several token
 * budgets has one. The same tables as summary.md, and its plots. */
static void html_nd(FILE *f, const ts_report *rep) {
    const ts_nd_report *nd = &rep->nd;
    if (!nd->n_groups) return;
    fputs("<h2 id=\"nd\">Loss over parameters and tokens</h2><p>L(N, D) = E + "
          "A&middot;N<sup>&minus;&alpha;</sup> + B&middot;D<sup>&minus;&beta;</sup> per backend "
          "and family, 95% bootstrap intervals in brackets; the compute-optimal frontier follows "
          "with C = k&middot;N&middot;D (N<sub>opt</sub> &prop; C<sup>a</sup>, D<sub>opt</sub> "
          "&prop; C<sup>b</sup>).</p><div class=\"wrap\"><table id=\"nd-fit-table\"><thead><tr>"
          "<th class=\"t\">backend</th><th class=\"t\">family</th><th>points</th><th>E</th>"
          "<th>A</th><th>&alpha;</th><th>B</th><th>&beta;</th><th>a</th><th>b</th>"
          "<th>R&sup2;</th><th class=\"t\">note</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_group *g = &nd->groups[i];
        const ts_nd_fit *t = &g->fit;
        char b[9][96];
        fputs("<tr>", f);
        tcell(f, "backend", g->backend);
        tcell(f, "family", g->family);
        snprintf(b[0], sizeof b[0], "%zu", t->n_points);
        cell(f, "points", b[0], 0);
        if (!t->ok) {
            fputs("<td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td>", f);
            tcell(f, "note", t->why);
            fputs("</tr>\n", f);
            continue;
        }
        cell(f, "E", ts_nd_fmt_ci(t->law.E, t->lo.E, t->hi.E, "%.4g", b[1], 96), 0);
        cell(f, "A", ts_nd_fmt_ci(t->law.A, t->lo.A, t->hi.A, "%.4g", b[2], 96), 0);
        cell(f, "alpha", ts_nd_fmt_ci(t->law.alpha, t->lo.alpha, t->hi.alpha, "%.3f", b[3], 96), 0);
        cell(f, "B", ts_nd_fmt_ci(t->law.B, t->lo.B, t->hi.B, "%.4g", b[4], 96), 0);
        cell(f, "beta", ts_nd_fmt_ci(t->law.beta, t->lo.beta, t->hi.beta, "%.3f", b[5], 96), 0);
        cell(f, "a", ts_nd_fmt_ci(t->a, t->a_lo, t->a_hi, "%.3f", b[6], 96), 0);
        cell(f, "b", ts_nd_fmt_ci(t->b, t->b_lo, t->b_hi, "%.3f", b[7], 96), 0);
        cell(f, "r2", ts_fmt_num(t->r2, "%.4f", b[8], 96), 0);
        tcell(f, "note", t->note);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div><div class=\"wrap\"><table id=\"nd-frontier-table\"><thead>"
          "<tr><th class=\"t\">backend</th><th class=\"t\">family</th><th>C (FLOP)</th>"
          "<th>N<sub>opt</sub></th><th>D<sub>opt</sub></th><th>loss</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < nd->n_groups; i++) {
        const ts_nd_group *g = &nd->groups[i];
        const ts_nd_fit *t = &g->fit;
        if (!t->ok) continue;
        for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
            char c[32], n[96], d[96], l[32];
            snprintf(c, sizeof c, "%.0e", t->budget[j]);
            fputs("<tr>", f);
            tcell(f, "backend", g->backend);
            tcell(f, "family", g->family);
            cell(f, "C", c, 0);
            cell(f, "n_opt", ts_nd_fmt_si_ci(t->n_opt[j], t->n_lo[j], t->n_hi[j], n, sizeof n), 0);
            cell(f, "d_opt", ts_nd_fmt_si_ci(t->d_opt[j], t->d_lo[j], t->d_hi[j], d, sizeof d), 0);
            cell(f, "loss", ts_fmt_num(t->loss_opt[j], "%.3f", l, sizeof l), 0);
            fputs("</tr>\n", f);
        }
    }
    fputs("</tbody></table></div>\n", f);
    if (!rep->plots_made) return;
    ts_nd_plot_ref plots[3 * TS_ND_MAX_PLOT_GROUPS];
    size_t n = ts_nd_plot_list(nd, plots, sizeof plots / sizeof plots[0]);
    for (size_t i = 0; i < n; i++)
        html_plot(f, rep, plots[i].name, plots[i].caption);
}

/* The backends of this set side by side: tokens/s and its ratio to the first backend. */
static void html_compare(FILE *f, const ts_report *rep) {
    const char *dirs[] = {rep->dir};
    ts_compare c;
    if (ts_compare_build(dirs, 1, 1, &c) != TS_OK || c.n_sets < 2) {
        ts_compare_free(&c);
        return;
    }
    fputs("<h2 id=\"compare\">Compare</h2><p>Tokens/s per backend, and the ratio to the "
          "first.</p><div class=\"wrap\"><table id=\"compare-table\"><thead><tr>"
          "<th class=\"t\">model</th>",
          f);
    for (size_t s = 0; s < c.n_sets; s++) {
        fputs("<th>", f);
        esc(f, c.sets[s].backend);
        fputs(" tokens/s</th>", f);
        if (s) fputs("<th>ratio</th>", f);
    }
    fputs("</tr></thead><tbody>\n", f);
    for (size_t k = 0; k < c.n_rows; k++) {
        fputs("<tr>", f);
        tcell(f, "model", c.rows[k].model);
        for (size_t s = 0; s < c.n_sets; s++) {
            const ts_run *r = c.cell[k * c.n_sets + s];
            char b[48];
            if (r && ts_run_ok(r))
                cell(f, "tokens_per_s", ts_fmt_si(r->tokens_per_s, b, sizeof b), 0);
            else
                tcell(f, "status", r ? r->status : "-");
            if (s) cell(f, "ratio", ts_fmt_num(ts_compare_ratio(&c, k, s, 0), "%.2f", b, 48), 0);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
    ts_compare_free(&c);
}

static void html_body(FILE *f, const ts_report *rep) {
    const char *name = ts_public_path(rep->dir);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<title>tunescale report: ",
          f);
    esc(f, name);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>tunescale report: ", css);
    esc(f, name);
    size_t ok = 0, invalid = 0;
    for (size_t i = 0; i < rep->set.n; i++) {
        ok += ts_run_ok(&rep->set.runs[i]);
        invalid += ts_run_invalid(&rep->set.runs[i]);
    }
    fprintf(f,
            "</h1>\n<p id=\"counts\"><span data-k=\"runs\">%zu</span> runs, "
            "<span data-k=\"ok\">%zu</span> ok, <span data-k=\"invalid\">%zu</span> invalid; "
            "%s.</p>\n",
            rep->set.n, ok, invalid,
            rep->from_manifest ? "the runs its sweep manifest (sweep.json) names"
                               : "every result.json below the folder");
    char cmd[1200];
    ts_report_sweep_command(rep, cmd, sizeof cmd);
    fputs("<h2 id=\"commands\">Commands</h2><pre>", f);
    if (cmd[0]) {
        esc(f, cmd);
        fputc('\n', f);
    }
    fputs("tunescale report ", f);
    esc(f, name);
    fputs(" --html</pre><p>Each run's exact <code>tunescale train</code> command is the first "
          "line of its <code>train.log</code>.</p>\n",
          f);
    html_system(f, rep);
    ts_report_caveats cv;
    ts_report_caveats_build(rep, &cv);
    fputs("<h2 id=\"caveats\">Caveats</h2>", f);
    if (!cv.n)
        fputs("<p>None.</p>", f);
    else
        fputs("<ul class=\"cav\">", f);
    for (size_t i = 0; i < cv.n; i++) {
        fputs("<li>", f);
        esc(f, cv.items[i]);
        fputs("</li>", f);
    }
    if (cv.n) fputs("</ul>\n", f);
    ts_report_caveats_free(&cv);
    fputs("<h2 id=\"fits\">Scaling-law fits</h2><p>L(N) = a&middot;N<sup>&minus;&alpha;</sup> "
          "+ c fitted to the validation loss per backend and family. ",
          f);
    if (rep->opt.bootstrap)
        fprintf(f,
                "The 95%% interval of &alpha; is the 2.5&ndash;97.5 percentile range of %d "
                "bootstrap resamples (seed %llu), drawn with at least %d sizes only. ",
                rep->opt.bootstrap, (unsigned long long)rep->opt.seed, TS_FIT_MIN_SIZES_CI);
    fputs("A fit with &alpha; &le; 0 or c &lt; 0 is flagged and struck through: not a "
          "law.</p><div class=\"wrap\"><table id=\"fit-table\"><thead><tr>"
          "<th class=\"t\">backend</th><th class=\"t\">family</th><th class=\"t\">N</th>"
          "<th>sizes</th><th>&alpha;</th><th>95% interval of &alpha;</th><th>a</th><th>c</th>"
          "<th>R&sup2;</th><th class=\"t\">note</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < rep->n_fits; i++) {
        fit_row(f, &rep->fits[i], &rep->fits[i].fit, "params");
        fit_row(f, &rep->fits[i], &rep->fits[i].fit_ne, "non-embedding");
    }
    fputs("</tbody></table></div>\n", f);
    html_runs(f, rep);
    html_plots(f, rep);
    html_nd(f, rep);
    html_compare(f, rep);
    fputs("<p><small>Written by <code>tunescale report --html</code>; the same figures are in "
          "summary.json and summary.csv beside this file.</small></p>\n</body></html>\n",
          f);
}

ts_status ts_report_write_html(const ts_report *rep, const char *path) {
    ts_atomic_file af;
    ts_status st = ts_atomic_open(&af, path);
    if (st != TS_OK) return st;
    html_body(af.fp, rep);
    if (ferror(af.fp)) {
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed", path);
    }
    return ts_atomic_commit(&af);
}
