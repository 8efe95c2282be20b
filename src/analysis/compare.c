/*
 * compare.c — matching result sets: which sets there are, which models, which run per cell.
 */
#include "analysis/compare.h"
#include "analysis/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/format.h"

static int same_set(const ts_compare_set *s, const char *dir, const ts_run *r) {
    return s->dir == dir && !strcmp(s->backend, r->backend) && !strcmp(s->device, r->device);
}

static size_t find_set(const ts_compare *c, const char *dir, const ts_run *r) {
    for (size_t s = 0; s < c->n_sets; s++)
        if (same_set(&c->sets[s], dir, r)) return s;
    return c->n_sets;
}

static size_t find_row(const ts_compare *c, const ts_run *r) {
    for (size_t k = 0; k < c->n_rows; k++)
        if (!strcmp(c->rows[k].family, r->family) && !strcmp(c->rows[k].model, r->model)) return k;
    return c->n_rows;
}

static int cmp_row(const void *pa, const void *pb) {
    const ts_compare_row *a = pa, *b = pb;
    int d = strcmp(a->family, b->family);
    if (!d) {
        double x = isnan(a->params) ? INFINITY : a->params;
        double y = isnan(b->params) ? INFINITY : b->params;
        d = x < y ? -1 : x > y;
    }
    return d ? d : strcmp(a->model, b->model);
}

/* A set's name: the --label given for its folder, else the folder's last component (a whole
 * path is a machine's layout, not a name to publish). */
static const char *set_name(const ts_compare *c, const char *dir) {
    for (size_t d = 0; d < c->n_dirs; d++)
        if (c->dirs[d] == dir && c->names && c->names[d]) return c->names[d];
    const char *end = dir + strlen(dir);
    while (end > dir + 1 && end[-1] == '/')
        end--;
    const char *start = end;
    while (start > dir && start[-1] != '/')
        start--;
    static char buf[4][256]; /* the label is copied at once; a few at a time suffice */
    static int next;
    char *out = buf[next++ % 4];
    snprintf(out, sizeof buf[0], "%.*s", (int)(end - start), start);
    return out;
}

/* "NAME:backend", and the device when the same folder and backend ran on several devices. */
static ts_status label_sets(ts_compare *c) {
    for (size_t s = 0; s < c->n_sets; s++) {
        ts_compare_set *set = &c->sets[s];
        int shared = 0;
        for (size_t t = 0; t < c->n_sets; t++)
            shared |=
                t != s && c->sets[t].dir == set->dir && !strcmp(c->sets[t].backend, set->backend);
        const char *b = *set->backend ? set->backend : "unknown";
        const char *name = set_name(c, set->dir);
        size_t len = strlen(name) + strlen(b) + strlen(set->device) + 8;
        if (!(set->label = malloc(len))) return ts_set_error("out of host memory");
        if (shared)
            snprintf(set->label, len, "%s:%s [%s]", name, b, set->device);
        else
            snprintf(set->label, len, "%s:%s", name, b);
    }
    return TS_OK;
}

ts_status ts_compare_build(const char *const *dirs, size_t n_dirs, int quiet, ts_compare *c) {
    return ts_compare_build_named(dirs, NULL, n_dirs, quiet, c);
}

ts_status ts_compare_build_named(const char *const *dirs, const char *const *names, size_t n_dirs,
                                 int quiet, ts_compare *c) {
    memset(c, 0, sizeof *c);
    c->dirs = dirs;
    c->names = names;
    if (!(c->loaded = calloc(n_dirs + 1, sizeof *c->loaded))) return ts_set_error("out of memory");
    size_t total = 0;
    for (size_t d = 0; d < n_dirs; d++) {
        c->n_dirs = d + 1; /* so ts_compare_free releases a half-loaded set too */
        int manifest;      /* a sweep's own runs only, as in the report */
        ts_status st = ts_result_set_load(dirs[d], quiet, &c->loaded[d], &manifest);
        if (st != TS_OK) return st;
        ts_run_set_sort(&c->loaded[d]);
        total += c->loaded[d].n;
    }
    c->sets = calloc(total + 1, sizeof *c->sets);
    c->rows = calloc(total + 1, sizeof *c->rows);
    if (!c->sets || !c->rows) return ts_set_error("out of host memory");
    for (size_t d = 0; d < n_dirs; d++)
        for (size_t i = 0; i < c->loaded[d].n; i++) {
            const ts_run *r = &c->loaded[d].runs[i];
            if (find_set(c, dirs[d], r) == c->n_sets)
                c->sets[c->n_sets++] = (ts_compare_set){NULL, dirs[d], r->backend, r->device};
            if (find_row(c, r) == c->n_rows)
                c->rows[c->n_rows++] = (ts_compare_row){r->family, r->model, r->params};
        }
    qsort(c->rows, c->n_rows, sizeof *c->rows, cmp_row);
    if (!(c->cell = calloc(c->n_rows * c->n_sets + 1, sizeof *c->cell)))
        return ts_set_error("out of host memory");
    for (size_t d = 0; d < n_dirs; d++)
        for (size_t i = 0; i < c->loaded[d].n; i++) {
            const ts_run *r = &c->loaded[d].runs[i];
            const ts_run **cell = &c->cell[find_row(c, r) * c->n_sets + find_set(c, dirs[d], r)];
            /* an ok run beats anything; otherwise the first one found */
            if (!*cell || (!ts_run_ok(*cell) && ts_run_ok(r))) *cell = r;
        }
    return label_sets(c);
}

void ts_compare_free(ts_compare *c) {
    for (size_t d = 0; d < c->n_dirs; d++)
        ts_run_set_free(&c->loaded[d]);
    for (size_t s = 0; s < c->n_sets; s++)
        free(c->sets[s].label);
    free(c->loaded);
    free(c->sets);
    free(c->rows);
    free(c->cell);
    memset(c, 0, sizeof *c);
}

static double figure(const ts_run *r, int what) {
    if (!r || !ts_run_ok(r)) return NAN;
    return what ? r->peak_memory_bytes : r->tokens_per_s;
}

double ts_compare_ratio(const ts_compare *c, size_t row, size_t set, int what) {
    double base = figure(c->cell[row * c->n_sets], what);
    double v = figure(c->cell[row * c->n_sets + set], what);
    return base > 0 && isfinite(v) ? v / base : NAN;
}

cJSON *ts_compare_json(const ts_compare *c) {
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return NULL;
    cJSON_AddStringToObject(doc, "schema", "tunescale.compare/1");
    cJSON_AddStringToObject(doc, "ratios_against", c->n_sets ? c->sets[0].label : "");
    cJSON *sets = cJSON_AddArrayToObject(doc, "sets");
    for (size_t s = 0; s < c->n_sets; s++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "label", c->sets[s].label);
        cJSON_AddStringToObject(o, "dir", ts_public_path(c->sets[s].dir));
        cJSON_AddStringToObject(o, "backend", c->sets[s].backend);
        cJSON_AddStringToObject(o, "device", c->sets[s].device);
        cJSON_AddItemToArray(sets, o);
    }
    cJSON *rows = cJSON_AddArrayToObject(doc, "rows");
    for (size_t k = 0; k < c->n_rows; k++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "family", c->rows[k].family);
        cJSON_AddStringToObject(row, "model", c->rows[k].model);
        ts_json_num(row, "params", c->rows[k].params);
        cJSON *cells = cJSON_AddArrayToObject(row, "sets");
        for (size_t s = 0; s < c->n_sets; s++) {
            const ts_run *r = c->cell[k * c->n_sets + s];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "set", c->sets[s].label);
            cJSON_AddStringToObject(o, "status", r ? r->status : "no run");
            ts_json_num(o, "val_loss", r && ts_run_ok(r) ? r->val_loss : NAN);
            ts_json_num(o, "tokens_per_s", figure(r, 0));
            ts_json_num(o, "peak_memory_bytes", figure(r, 1));
            ts_json_num(o, "tokens_per_s_ratio", ts_compare_ratio(c, k, s, 0));
            ts_json_num(o, "memory_ratio", ts_compare_ratio(c, k, s, 1));
            cJSON_AddItemToArray(cells, o);
        }
        cJSON_AddItemToArray(rows, row);
    }
    return doc;
}

void ts_compare_print(FILE *out, const ts_compare *c) {
    fprintf(out, "sets (ratios are against set 1):\n");
    for (size_t s = 0; s < c->n_sets; s++)
        fprintf(out, "  %zu  %s  (%s)\n", s + 1, c->sets[s].label,
                *c->sets[s].device ? c->sets[s].device : "unknown device");
    fprintf(out, "\n%-18s", "model");
    for (size_t s = 0; s < c->n_sets; s++) {
        char head[32];
        snprintf(head, sizeof head, "%zu:", s + 1);
        fprintf(out, " | %-3s %4s %9s %7s %10s %6s", head, "loss", "tokens/s", "x", "peak mem",
                "x");
    }
    fprintf(out, "\n");
    for (size_t k = 0; k < c->n_rows; k++) {
        fprintf(out, "%-18s", c->rows[k].model);
        for (size_t s = 0; s < c->n_sets; s++) {
            const ts_run *r = c->cell[k * c->n_sets + s];
            char loss[32], tps[32], tr[32], mem[32], mr[32], head[32];
            snprintf(head, sizeof head, "%zu:", s + 1);
            if (r && !ts_run_ok(r)) {
                fprintf(out, " | %-3s %-40.40s", head, r->status);
                continue;
            }
            fprintf(out, " | %-3s %4s %9s %7s %10s %6s", head,
                    ts_fmt_num(r ? r->val_loss : NAN, "%.2f", loss, sizeof loss),
                    ts_fmt_si(figure(r, 0), tps, sizeof tps),
                    ts_fmt_num(ts_compare_ratio(c, k, s, 0), "%.2fx", tr, sizeof tr),
                    ts_fmt_bytes(figure(r, 1), mem, sizeof mem),
                    ts_fmt_num(ts_compare_ratio(c, k, s, 1), "%.2fx", mr, sizeof mr));
        }
        fprintf(out, "\n");
    }
}
