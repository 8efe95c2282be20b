/*
 * summary.c — a report's tables: summary.csv (one row per run), summary.json (fits + runs),
 * summary.md (fits with alpha ± 95% CI and R², the run table, the plots) and the terminal view.
 */
#include <math.h>
#include <string.h>

#include "analysis/format.h"
#include "analysis/report.h"
#include "util/fsutil.h"

/* ---- counting ---- */

typedef struct {
    size_t ok, oom, failed, invalid, other;
} status_counts;

static status_counts count_status(const ts_run_set *set) {
    status_counts c = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < set->n; i++) {
        const char *s = set->runs[i].status;
        if (!strcmp(s, "ok"))
            c.ok++;
        else if (!strncmp(s, "skipped", 7))
            c.oom++;
        else if (!strncmp(s, "failed", 6))
            c.failed++;
        else if (!strncmp(s, "invalid", 7))
            c.invalid++;
        else
            c.other++;
    }
    return c;
}

/* ---- CSV ---- */

static const char *const csv_columns[] = {"backend",         "device",
                                          "family",          "model",
                                          "params",          "params_non_embedding",
                                          "tokens",          "train_loss",
                                          "val_loss",        "val_perplexity",
                                          "wall_time_s",     "tokens_per_s",
                                          "achieved_gflops", "mfu",
                                          "mfu_measured",    "peak_memory_bytes",
                                          "status",          "path"};

ts_status ts_report_write_csv(const ts_report *rep, const char *path) {
    ts_atomic_file af;
    ts_status st = ts_atomic_open(&af, path);
    if (st != TS_OK) return st;
    FILE *f = af.fp;
    size_t nc = sizeof csv_columns / sizeof csv_columns[0];
    for (size_t i = 0; i < nc; i++)
        fprintf(f, "%s%s", csv_columns[i], i + 1 < nc ? "," : "\n");
    for (size_t i = 0; i < rep->set.n; i++) {
        const ts_run *r = &rep->set.runs[i];
        const char *strs[] = {r->backend, r->device, r->family, r->model};
        for (int k = 0; k < 4; k++) {
            ts_csv_str(f, strs[k]);
            fputc(',', f);
        }
        const double nums[] = {r->params,          r->params_non_embedding,
                               r->tokens,          r->train_loss,
                               r->val_loss,        r->val_perplexity,
                               r->wall_time_s,     r->tokens_per_s,
                               r->achieved_gflops, r->mfu,
                               r->mfu_measured,    r->peak_memory_bytes};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
            ts_csv_num(f, nums[k]);
            fputc(',', f);
        }
        ts_csv_str(f, r->status);
        fputc(',', f);
        ts_csv_str(f, ts_relpath(r->path, rep->dir));
        fputc('\n', f);
    }
    if (ferror(f)) {
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed", path);
    }
    return ts_atomic_commit(&af);
}

/* ---- JSON ---- */

static cJSON *fit_json(const ts_family_fit *g, const ts_power_fit *f, const char *measure) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", g->backend);
    cJSON_AddStringToObject(o, "family", g->family);
    cJSON_AddStringToObject(o, "n", measure);
    cJSON_AddBoolToObject(o, "ok", f->ok);
    if (!f->ok) cJSON_AddStringToObject(o, "reason", f->why);
    if (f->note[0]) cJSON_AddStringToObject(o, "note", f->note);
    cJSON_AddBoolToObject(o, "flagged", f->flagged);
    cJSON_AddBoolToObject(o, "point_fit", f->point_only);
    cJSON_AddNumberToObject(o, "points", (double)f->n_points);
    cJSON_AddNumberToObject(o, "sizes", (double)f->n_sizes);
    ts_json_num(o, "a", f->a);
    ts_json_num(o, "alpha", f->alpha);
    ts_json_num(o, "c", f->c);
    ts_json_num(o, "r2", f->r2);
    ts_json_num(o, "rmse", f->rmse);
    cJSON *ci = cJSON_AddArrayToObject(o, "alpha_ci95");
    cJSON_AddItemToArray(ci, isfinite(f->alpha_lo) ? cJSON_CreateNumber(f->alpha_lo)
                                                   : cJSON_CreateNull());
    cJSON_AddItemToArray(ci, isfinite(f->alpha_hi) ? cJSON_CreateNumber(f->alpha_hi)
                                                   : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "bootstrap_resamples", f->boot_asked);
    cJSON_AddNumberToObject(o, "bootstrap_used", f->boot_used);
    return o;
}

static cJSON *run_json(const ts_report *rep, const ts_run *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", ts_relpath(r->path, rep->dir));
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddStringToObject(o, "backend", r->backend);
    cJSON_AddStringToObject(o, "device", r->device);
    cJSON_AddStringToObject(o, "family", r->family);
    cJSON_AddStringToObject(o, "model", r->model);
    ts_json_num(o, "params", r->params);
    ts_json_num(o, "params_non_embedding", r->params_non_embedding);
    ts_json_num(o, "tokens", r->tokens);
    ts_json_num(o, "train_loss", r->train_loss);
    ts_json_num(o, "val_loss", r->val_loss);
    ts_json_num(o, "val_perplexity", r->val_perplexity);
    ts_json_num(o, "wall_time_s", r->wall_time_s);
    ts_json_num(o, "tokens_per_s", r->tokens_per_s);
    ts_json_num(o, "achieved_gflops", r->achieved_gflops);
    ts_json_num(o, "peak_gflops", r->peak_gflops);
    ts_json_num(o, "peak_gflops_measured", r->peak_gflops_measured);
    ts_json_num(o, "mfu", r->mfu);
    ts_json_num(o, "mfu_measured", r->mfu_measured);
    ts_json_num(o, "peak_memory_bytes", r->peak_memory_bytes);
    cJSON_AddBoolToObject(o, "mfu_data_error", ts_run_mfu_error(r));
    cJSON_AddStringToObject(o, "commit", r->commit);
    cJSON_AddStringToObject(o, "regime", r->regime);
    return o;
}

cJSON *ts_report_json(const ts_report *rep) {
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return NULL;
    cJSON_AddStringToObject(doc, "schema", "tunescale.summary/1");
    cJSON_AddStringToObject(doc, "dir", ts_public_path(rep->dir));
    cJSON_AddStringToObject(doc, "runs_from",
                            rep->from_manifest ? "sweep.json (the sweep's manifest)"
                                               : "every result.json below dir");
    if (rep->manifest) {
        cJSON *m = cJSON_AddObjectToObject(doc, "sweep");
        const char *keys[] = {"preset", "data", "dataset_hash", "backends", "commit"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *v =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep->manifest, keys[k]));
            if (v) cJSON_AddStringToObject(m, keys[k], v);
        }
    }
    if (rep->system) cJSON_AddItemToObject(doc, "system", cJSON_Duplicate(rep->system, 1));
    cJSON_AddStringToObject(doc, "law", "L(N) = a * N^(-alpha) + c, L = val_loss");
    cJSON_AddStringToObject(doc, "grouping", "one fit per (backend, family)");
    cJSON *boot = cJSON_AddObjectToObject(doc, "bootstrap");
    cJSON_AddNumberToObject(boot, "resamples", rep->opt.bootstrap);
    cJSON_AddNumberToObject(boot, "seed", (double)rep->opt.seed);
    cJSON_AddNumberToObject(boot, "interval", 0.95);
    status_counts c = count_status(&rep->set);
    cJSON *counts = cJSON_AddObjectToObject(doc, "counts");
    cJSON_AddNumberToObject(counts, "runs", (double)rep->set.n);
    cJSON_AddNumberToObject(counts, "ok", (double)c.ok);
    cJSON_AddNumberToObject(counts, "skipped", (double)c.oom);
    cJSON_AddNumberToObject(counts, "failed", (double)c.failed);
    cJSON_AddNumberToObject(counts, "invalid", (double)c.invalid);
    cJSON_AddNumberToObject(counts, "finalize_left_out", (double)rep->set.n_finalize);
    cJSON_AddNumberToObject(counts, "not_in_manifest", (double)rep->set.n_unlisted);
    cJSON_AddNumberToObject(counts, "unreadable_files", (double)rep->set.n_unreadable);
    cJSON *plots = cJSON_AddObjectToObject(doc, "plots");
    cJSON_AddBoolToObject(plots, "made", rep->plots_made);
    cJSON_AddStringToObject(plots, "status", rep->plots_status[0] ? rep->plots_status : "not made");
    cJSON *fits = cJSON_AddArrayToObject(doc, "fits");
    for (size_t i = 0; i < rep->n_fits; i++) {
        cJSON_AddItemToArray(fits, fit_json(&rep->fits[i], &rep->fits[i].fit, "params"));
        cJSON_AddItemToArray(fits,
                             fit_json(&rep->fits[i], &rep->fits[i].fit_ne, "params_non_embedding"));
    }
    ts_report_caveats cv;
    ts_report_caveats_build(rep, &cv);
    cJSON *caveats = cJSON_AddArrayToObject(doc, "caveats");
    for (size_t i = 0; i < cv.n; i++)
        cJSON_AddItemToArray(caveats, cJSON_CreateString(cv.items[i]));
    ts_report_caveats_free(&cv);
    cJSON *nd = ts_nd_report_json(&rep->nd, &rep->set, rep->dir); /* L(N, D): report_nd.c */
    if (nd) cJSON_AddItemToObject(doc, "nd", nd);
    cJSON *runs = cJSON_AddArrayToObject(doc, "runs");
    for (size_t i = 0; i < rep->set.n; i++)
        cJSON_AddItemToArray(runs, run_json(rep, &rep->set.runs[i]));
    return doc;
}

/* ---- Markdown ---- */

static void md_fit_row(FILE *f, const ts_family_fit *g, const ts_power_fit *fit,
                       const char *measure) {
    char a[32], b[32], c[32];
    fprintf(f, "| %s | %s | %s | %zu | %zu | ", g->backend, g->family, measure, fit->n_points,
            fit->n_sizes);
    if (!fit->ok) {
        fprintf(f, "%s | | | | | |\n", fit->why);
        return;
    }
    fprintf(f, "%s%.4f%s | ", fit->flagged ? "~~" : "", fit->alpha, fit->flagged ? "~~" : "");
    if (isfinite(fit->alpha_lo))
        fprintf(f, "[%.4f, %.4f] | ", fit->alpha_lo, fit->alpha_hi);
    else
        fprintf(f, "%s | ", fit->point_only ? "point fit: no interval" : "no interval");
    fprintf(f, "%s | %s | %s | %s", ts_fmt_num(fit->a, "%.4g", a, sizeof a),
            ts_fmt_num(fit->c, "%.4f", b, sizeof b), ts_fmt_num(fit->r2, "%.4f", c, sizeof c),
            fit->flagged ? "**flagged, not a law**: " : "");
    fprintf(f, "%s |\n", fit->note);
}

static void md_runs(FILE *f, const ts_report *rep) {
    fprintf(f, "| backend | device | model | params | non-emb. params | tokens | train loss | "
               "val loss | val ppl | wall (s) | tokens/s | GFLOP/s | MFU (nominal peak) | "
               "MFU (measured peak) | peak memory | status |\n");
    fprintf(f, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for (size_t i = 0; i < rep->set.n; i++) {
        const ts_run *r = &rep->set.runs[i];
        char p[32], ne[32], tok[32], tl[32], vl[32], pp[32], w[32], ts[32], gf[32], m1[48], m2[48],
            mem[32];
        fprintf(
            f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | ",
            r->backend, r->device, r->model, ts_fmt_si(r->params, p, sizeof p),
            ts_fmt_si(r->params_non_embedding, ne, sizeof ne),
            ts_fmt_si(r->tokens, tok, sizeof tok), ts_fmt_num(r->train_loss, "%.4f", tl, sizeof tl),
            ts_fmt_num(r->val_loss, "%.4f", vl, sizeof vl),
            ts_fmt_num(r->val_perplexity, "%.3f", pp, sizeof pp),
            ts_fmt_num(r->wall_time_s, "%.1f", w, sizeof w),
            ts_fmt_si(r->tokens_per_s, ts, sizeof ts),
            ts_fmt_num(r->achieved_gflops, "%.1f", gf, sizeof gf),
            ts_fmt_num(r->mfu * 100, r->mfu > 1 ? "**%.1f%% (data error)**" : "%.1f%%", m1,
                       sizeof m1),
            ts_fmt_num(r->mfu_measured * 100,
                       r->mfu_measured > 1 ? "**%.1f%% (data error)**" : "%.1f%%", m2, sizeof m2),
            ts_fmt_bytes(r->peak_memory_bytes, mem, sizeof mem));
        ts_md_str(f, r->status); /* "failed: <reason>" is free text */
        fprintf(f, " |\n");
    }
}

static void md_plot(FILE *f, const ts_report *rep, const char *name, const char *caption) {
    char rel[600], full[4800];
    snprintf(rel, sizeof rel, "plots/%s.png", name);
    ts_path_join(full, sizeof full, rep->dir, rel);
    if (ts_is_file(full))
        fprintf(f, "![%s](plots/%s.png) ([SVG](plots/%s.svg))\n\n", caption, name, name);
}

/* The system description as a short list (the full record is in summary.json). */
static void md_system(FILE *f, const ts_report *rep) {
    fprintf(f, "## System\n\n");
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(rep->system, "host");
    const cJSON *build = cJSON_GetObjectItemCaseSensitive(rep->system, "build");
    const char *hk[] = {"cpu", "os_release", "kernel"},
               *bk[] = {"compiler", "flags", "options", "commit"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(host, hk[i]));
        if (v) fprintf(f, "- %s: %s\n", hk[i], v);
    }
    const cJSON *cores = cJSON_GetObjectItemCaseSensitive(host, "cores");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(host, "memory_bytes");
    if (cJSON_IsNumber(cores)) fprintf(f, "- cores: %.0f\n", cores->valuedouble);
    char b[32];
    if (cJSON_IsNumber(mem))
        fprintf(f, "- memory: %s\n", ts_fmt_bytes(mem->valuedouble, b, sizeof b));
    for (size_t i = 0; i < 4; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(build, bk[i]));
        if (v) fprintf(f, "- %s: %s\n", bk[i], v);
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(rep->system, "devices")) {
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(d, "peak_gflops");
        char peak[64] = "unknown";
        if (cJSON_IsNumber(pk)) snprintf(peak, sizeof peak, "%.0f GFLOP/s", pk->valuedouble);
        fprintf(f, "- device (%s): %s, driver %s, API %s, nominal peak %s (%s)\n",
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "backend")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "name")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "driver")),
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "api_version")), peak,
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "peak_source")));
    }
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep->system, "source"));
    fprintf(f, "\nFrom the %s; the whole record is in summary.json.\n\n", src ? src : "runs");
}

ts_status ts_report_write_md(const ts_report *rep, const char *path) {
    ts_atomic_file af;
    ts_status st = ts_atomic_open(&af, path);
    if (st != TS_OK) return st;
    FILE *f = af.fp;
    status_counts c = count_status(&rep->set);
    fprintf(f, "# tunescale report\n\n");
    fprintf(f, "Result set `%s`: %zu runs (%zu ok, %zu skipped, %zu failed, %zu invalid",
            ts_public_path(rep->dir), rep->set.n, c.ok, c.oom, c.failed, c.invalid);
    if (rep->set.n_unreadable)
        fprintf(f, "; %zu unreadable result.json skipped", rep->set.n_unreadable);
    fprintf(f, "), %s.\n\n",
            rep->from_manifest ? "the runs its sweep manifest (sweep.json) names"
                               : "every result.json below the folder");
    if (rep->opt.html) fprintf(f, "The whole report in one file: [report.html](report.html).\n\n");
    char cmd[1200];
    ts_report_sweep_command(rep, cmd, sizeof cmd);
    fprintf(f, "## Commands\n\n");
    if (cmd[0]) fprintf(f, "    %s\n", cmd);
    fprintf(f,
            "    tunescale report %s%s\n\nEach run's exact train command is the first line of "
            "its train.log.\n\n",
            ts_public_path(rep->dir), rep->opt.html ? " --html" : "");
    md_system(f, rep);
    ts_report_caveats cv;
    ts_report_caveats_build(rep, &cv);
    fprintf(f, "## Caveats\n\n");
    if (!cv.n) fprintf(f, "None.\n");
    for (size_t i = 0; i < cv.n; i++) {
        fprintf(f, "- ");
        ts_md_str(f, cv.items[i]);
        fputc('\n', f);
    }
    ts_report_caveats_free(&cv);
    fprintf(f, "\n## Scaling-law fits\n\n");
    fprintf(f, "L(N) = a·N^(−α) + c, fitted to the validation loss by Levenberg–Marquardt "
               "(MINPACK lmder), one fit per backend and model family, on all parameters and on "
               "non-embedding parameters. Only runs with status `ok` count. ");
    if (rep->opt.bootstrap)
        fprintf(f,
                "The 95%% interval for α is the 2.5–97.5 percentile range of %d bootstrap "
                "resamples of the points (seed %llu), drawn only with at least %d sizes; fewer "
                "sizes give a point fit without an interval. A fit with α ≤ 0 or c < 0 is "
                "flagged and struck through: it is not a scaling law.\n\n",
                rep->opt.bootstrap, (unsigned long long)rep->opt.seed, TS_FIT_MIN_SIZES_CI);
    else
        fprintf(f, "No bootstrap interval was asked for.\n\n");
    fprintf(f,
            "| backend | family | N | points | sizes | α | 95%% CI of α | a | c | R² | note |\n");
    fprintf(f, "|---|---|---|--:|--:|--:|---|--:|--:|--:|---|\n");
    for (size_t i = 0; i < rep->n_fits; i++) {
        md_fit_row(f, &rep->fits[i], &rep->fits[i].fit, "params");
        md_fit_row(f, &rep->fits[i], &rep->fits[i].fit_ne, "non-embedding");
    }
    fprintf(f, "\n");
    ts_nd_report_write_md(f, &rep->nd, &rep->set, rep->dir, rep->plots_made); /* report_nd.c */
    fprintf(f, "## Runs\n\n");
    md_runs(f, rep);
    fprintf(f, "\nMFU is achieved FLOP/s over the device's peak: the nominal peak from "
               "`tunescale devices`, and the measured one from `tunescale bench peak` where the "
               "result records it.\n\n");
    fprintf(f, "## Plots\n\nplots: %s\n\n", rep->plots_status[0] ? rep->plots_status : "not made");
    if (rep->plots_made) {
        md_plot(f, rep, "val_loss_vs_params", "validation loss vs parameters");
        md_plot(f, rep, "perplexity_vs_params", "validation perplexity vs parameters");
        for (size_t i = 0; i < rep->n_fits; i++) {
            if (i && !strcmp(rep->fits[i].backend, rep->fits[i - 1].backend)) continue;
            char name[300], cap[400];
            ts_report_curve_plot_name(rep->fits[i].backend, name, sizeof name);
            snprintf(cap, sizeof cap, "training loss vs tokens (%s)", rep->fits[i].backend);
            md_plot(f, rep, name, cap);
        }
        md_plot(f, rep, "tokens_per_s", "training throughput per backend and model");
    }
    if (ferror(f)) {
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed", path);
    }
    return ts_atomic_commit(&af);
}

/* ---- terminal ---- */

static void print_fit(FILE *out, const ts_family_fit *g, const ts_power_fit *f,
                      const char *measure) {
    fprintf(out, "  %-8s %-12s %-14s %3zu  ", g->backend, g->family, measure, f->n_points);
    if (!f->ok) {
        fprintf(out, "%s\n", f->why);
        return;
    }
    char ci[64] = "(no interval)";
    if (isfinite(f->alpha_lo)) snprintf(ci, sizeof ci, "[%.4f, %.4f]", f->alpha_lo, f->alpha_hi);
    fprintf(out, "%8.4f  %-18s %10.4g %8.4g %8.4f%s%s%s\n", f->alpha, ci, f->a, f->c, f->r2,
            f->note[0] || f->flagged ? "  " : "", f->flagged ? "FLAGGED, not a law: " : "",
            f->note);
}

void ts_report_print(FILE *out, const ts_report *rep) {
    status_counts c = count_status(&rep->set);
    fprintf(out, "%s: %zu runs (%zu ok, %zu skipped, %zu failed, %zu invalid) from %s\n\n",
            rep->dir, rep->set.n, c.ok, c.oom, c.failed, c.invalid,
            rep->from_manifest ? "its sweep manifest" : "every result.json below it");
    fprintf(out, "fits of L(N) = a*N^-alpha + c to val loss (95%% CI: %d bootstrap resamples)\n",
            rep->opt.bootstrap);
    fprintf(out, "  %-8s %-12s %-14s %3s  %8s  %-18s %10s %8s %8s\n", "backend", "family", "N",
            "pts", "alpha", "95% CI", "a", "c", "R2");
    for (size_t i = 0; i < rep->n_fits; i++) {
        print_fit(out, &rep->fits[i], &rep->fits[i].fit, "params");
        print_fit(out, &rep->fits[i], &rep->fits[i].fit_ne, "non-embedding");
    }
    ts_nd_report_print(out, &rep->nd); /* L(N, D): report_nd.c */
    fprintf(out, "\nruns\n  %-8s %-18s %8s %9s %9s %9s %11s %s\n", "backend", "model", "params",
            "val loss", "val ppl", "tokens/s", "peak mem", "status");
    for (size_t i = 0; i < rep->set.n; i++) {
        const ts_run *r = &rep->set.runs[i];
        char p[32], vl[32], pp[32], ts[32], mem[32];
        fprintf(out, "  %-8s %-18s %8s %9s %9s %9s %11s %s\n", r->backend, r->model,
                ts_fmt_si(r->params, p, sizeof p), ts_fmt_num(r->val_loss, "%.4f", vl, sizeof vl),
                ts_fmt_num(r->val_perplexity, "%.3f", pp, sizeof pp),
                ts_fmt_si(r->tokens_per_s, ts, sizeof ts),
                ts_fmt_bytes(r->peak_memory_bytes, mem, sizeof mem), r->status);
    }
    ts_report_caveats cv;
    ts_report_caveats_build(rep, &cv);
    if (cv.n) fprintf(out, "\ncaveats\n");
    for (size_t i = 0; i < cv.n; i++)
        fprintf(out, "  - %s\n", cv.items[i]);
    ts_report_caveats_free(&cv);
}
