/*
 * compare_write.c — a comparison's files: compare.md (one wide table, a column group per set),
 * compare.csv (long form: one row per model and set), compare.json and the throughput plot.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/format.h"
#include "analysis/plot.h"
#include "analysis/report.h"
#include "util/fsutil.h"

static ts_status write_md(const ts_compare *c, const char *path) {
    ts_atomic_file af;
    ts_status st = ts_atomic_open(&af, path);
    if (st != TS_OK) return st;
    FILE *f = af.fp;
    fprintf(f, "# tunescale compare\n\nSets (ratios × are against set 1):\n\n");
    for (size_t s = 0; s < c->n_sets; s++)
        fprintf(f, "%zu. `%s` — %s\n", s + 1, c->sets[s].label,
                *c->sets[s].device ? c->sets[s].device : "unknown device");
    fprintf(f, "\n| family | model | params |");
    for (size_t s = 0; s < c->n_sets; s++) {
        fprintf(f, " %zu: val loss | %zu: tokens/s |", s + 1, s + 1);
        if (s) fprintf(f, " %zu: × tokens/s |", s + 1);
        fprintf(f, " %zu: peak memory |", s + 1);
        if (s) fprintf(f, " %zu: × memory |", s + 1);
    }
    fprintf(f, "\n|---|---|--:|");
    for (size_t s = 0; s < c->n_sets; s++)
        fprintf(f, "%s", s ? "--:|--:|--:|--:|--:|" : "--:|--:|--:|");
    fprintf(f, "\n");
    for (size_t k = 0; k < c->n_rows; k++) {
        char p[32];
        fprintf(f, "| %s | %s | %s |", c->rows[k].family, c->rows[k].model,
                ts_fmt_si(c->rows[k].params, p, sizeof p));
        for (size_t s = 0; s < c->n_sets; s++) {
            const ts_run *r = c->cell[k * c->n_sets + s];
            char loss[32], tps[32], tr[32], mem[32], mr[32];
            if (!r || !ts_run_ok(r)) {
                /* the status stands in the loss column, the rest stay empty */
                fputc(' ', f);
                ts_md_str(f, r ? r->status : "no run");
                fprintf(f, " | - |%s - |%s", s ? " - |" : "", s ? " - |" : "");
                continue;
            }
            fprintf(f, " %s | %s |", ts_fmt_num(r->val_loss, "%.4f", loss, sizeof loss),
                    ts_fmt_si(r->tokens_per_s, tps, sizeof tps));
            if (s) fprintf(f, " %s |", ts_fmt_num(ts_compare_ratio(c, k, s, 0), "%.2f", tr, 32));
            fprintf(f, " %s |", ts_fmt_bytes(r->peak_memory_bytes, mem, sizeof mem));
            if (s) fprintf(f, " %s |", ts_fmt_num(ts_compare_ratio(c, k, s, 1), "%.2f", mr, 32));
        }
        fprintf(f, "\n");
    }
    if (ferror(f)) {
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed", path);
    }
    return ts_atomic_commit(&af);
}

static ts_status write_csv(const ts_compare *c, const char *path) {
    ts_atomic_file af;
    ts_status st = ts_atomic_open(&af, path);
    if (st != TS_OK) return st;
    FILE *f = af.fp;
    fprintf(f, "family,model,params,set,dir,backend,device,status,val_loss,tokens_per_s,"
               "peak_memory_bytes,tokens_per_s_ratio,memory_ratio\n");
    for (size_t k = 0; k < c->n_rows; k++)
        for (size_t s = 0; s < c->n_sets; s++) {
            const ts_run *r = c->cell[k * c->n_sets + s];
            const char *strs[] = {c->rows[k].family, c->rows[k].model};
            for (int i = 0; i < 2; i++) {
                ts_csv_str(f, strs[i]);
                fputc(',', f);
            }
            ts_csv_num(f, c->rows[k].params);
            const char *set[] = {c->sets[s].label, ts_public_path(c->sets[s].dir),
                                 c->sets[s].backend, c->sets[s].device, r ? r->status : "no run"};
            for (int i = 0; i < 5; i++) {
                fputc(',', f);
                ts_csv_str(f, set[i]);
            }
            int ok = r && ts_run_ok(r);
            const double nums[] = {ok ? r->val_loss : NAN, ok ? r->tokens_per_s : NAN,
                                   ok ? r->peak_memory_bytes : NAN, ts_compare_ratio(c, k, s, 0),
                                   ts_compare_ratio(c, k, s, 1)};
            for (int i = 0; i < 5; i++) {
                fputc(',', f);
                ts_csv_num(f, nums[i]);
            }
            fputc('\n', f);
        }
    if (ferror(f)) {
        ts_atomic_abort(&af);
        return ts_set_error("%s: write failed", path);
    }
    return ts_atomic_commit(&af);
}

static ts_status write_plot(const ts_compare *c, const char *out_dir) {
    const char **cats = malloc(sizeof(char *) * (c->n_rows + 1));
    const char **labels = malloc(sizeof(char *) * (c->n_sets + 1));
    double *vals = malloc(sizeof(double) * (c->n_rows * c->n_sets + 1));
    ts_status st = TS_OK;
    if (!cats || !labels || !vals) {
        st = ts_set_error("out of host memory");
        goto done;
    }
    size_t n = 0;
    for (size_t k = 0; k < c->n_rows; k++) {
        int any = 0;
        for (size_t s = 0; s < c->n_sets; s++) {
            const ts_run *r = c->cell[k * c->n_sets + s];
            vals[n * c->n_sets + s] = r && ts_run_ok(r) ? r->tokens_per_s : NAN;
            any |= r && ts_run_ok(r) && r->tokens_per_s > 0;
        }
        if (any) cats[n++] = c->rows[k].model; /* a model no set could run is left out */
    }
    for (size_t s = 0; s < c->n_sets; s++)
        labels[s] = c->sets[s].label;
    if (n) {
        ts_bar_chart chart = {"Training throughput across result sets",
                              "tokens per second (log scale)",
                              n,
                              c->n_sets,
                              cats,
                              labels,
                              vals,
                              1};
        char base[4300];
        snprintf(base, sizeof base, "%s/plots/compare_tokens_per_s", out_dir);
        st = ts_plot_bars(base, &chart);
    }
done:
    free(cats), free(labels), free(vals);
    return st;
}

ts_status ts_compare_save(const ts_compare *c, const char *out_dir, int plots) {
    ts_status st = ts_mkdir_p(out_dir);
    char path[4300];
    if (st == TS_OK) st = write_csv(c, ts_path_join(path, sizeof path, out_dir, "compare.csv"));
    if (st == TS_OK) st = write_md(c, ts_path_join(path, sizeof path, out_dir, "compare.md"));
    if (st == TS_OK) {
        st = ts_write_json_atomic(ts_path_join(path, sizeof path, out_dir, "compare.json"),
                                  ts_compare_json(c));
    }
    const char *why = NULL;
    if (st == TS_OK && plots && !ts_plot_available(&why)) {
        /* plots are an extra: a missing PLplot driver costs one warning, not the tables */
        fprintf(stderr, "tunescale: plots skipped: %s\n", why);
        char dir[4300];
        ts_plot_clean_tmp(ts_path_join(dir, sizeof dir, out_dir, "plots"));
        plots = 0;
    }
    if (st == TS_OK && plots) st = write_plot(c, out_dir);
    return st;
}
