/*
 * results.c — finds and parses result.json files (schema tunescale.run/1).
 *
 * A result set is whatever a sweep or a hand-run train left on disk, possibly half-written by a
 * crashed machine or produced by a newer build, so every field is optional here and a bad file
 * costs one warning, never the report.
 */
#include "analysis/results.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/result_json.h"
#include "util/fsutil.h"
#include "util/sysinfo.h"

int ts_run_ok(const ts_run *r) {
    return !strcmp(r->status, "ok");
}

int ts_run_invalid(const ts_run *r) {
    return !strncmp(r->status, "invalid", 7);
}

/* A string field as an owned copy, "" when absent. */
static char *str(const cJSON *o, const char *key) {
    const char *v = ts_result_string(o, key);
    return strdup(v ? v : "");
}

/* The sweep lays runs out as .../runs/<backend>/<run>/result.json: the fallback backend name
 * for a run that failed before it had a device. */
static char *backend_from_path(const char *path) {
    const char *p = strstr(path, "/runs/");
    const char *start = p ? p + 6 : !strncmp(path, "runs/", 5) ? path + 5 : NULL;
    if (!start) return strdup("");
    const char *end = strchr(start, '/');
    if (!end || !strchr(end + 1, '/')) return strdup("");
    return strndup(start, (size_t)(end - start));
}

/* curve.points rows are [step, tokens, train_loss, lr, grad_norm]; columns named in
 * curve.columns win over that order. A non-finite loss was written as null. */
static ts_status read_curve(const cJSON *curve, ts_run *r) {
    int tok_col = 1, loss_col = 2, i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(curve, "columns")) {
        if (cJSON_IsString(c) && !strcmp(c->valuestring, "tokens")) tok_col = i;
        if (cJSON_IsString(c) && !strcmp(c->valuestring, "train_loss")) loss_col = i;
        i++;
    }
    const cJSON *points = cJSON_GetObjectItemCaseSensitive(curve, "points");
    int n = cJSON_IsArray(points) ? cJSON_GetArraySize(points) : 0;
    if (n <= 0) return TS_OK;
    r->curve_tokens = malloc(sizeof(double) * (size_t)n);
    r->curve_loss = malloc(sizeof(double) * (size_t)n);
    if (!r->curve_tokens || !r->curve_loss) return ts_set_error("out of host memory");
    const cJSON *p;
    cJSON_ArrayForEach(p, points) {
        const cJSON *t = cJSON_GetArrayItem(p, tok_col), *l = cJSON_GetArrayItem(p, loss_col);
        if (!cJSON_IsNumber(t)) continue;
        r->curve_tokens[r->n_curve] = t->valuedouble;
        r->curve_loss[r->n_curve] = cJSON_IsNumber(l) ? l->valuedouble : NAN;
        r->n_curve++;
    }
    return TS_OK;
}

/* The training conditions a scaling fit must hold fixed, as one comparable string. Precision
 * is fp32 unless the file says otherwise (every backend trains in fp32 today). */
static char *regime_of(const cJSON *root) {
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hyperparameters");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "dataset");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(ds, "dataset_hash");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "precision");
    char buf[512];
    snprintf(buf, sizeof buf, "dataset %.12s, %.0f tokens, lr %g warmup %.0f of %.0f steps, %s",
             cJSON_IsString(h) ? h->valuestring : "?", ts_result_number(root, "tokens"),
             ts_result_number(hp, "lr"), ts_result_number(hp, "warmup_steps"),
             ts_result_number(hp, "total_steps"), cJSON_IsString(p) ? p->valuestring : "fp32");
    return strdup(buf);
}

/* "vulkan" -> "vulkan-fp16" for a reduced-precision run: every grouping keyed on the backend
 * (fits, comparisons, curve plots, table rows) then keeps precisions apart, and every label
 * names the one it shows. fp32 (or no "precision": older runs) leaves the name alone. */
static ts_status with_precision(const cJSON *root, char **backend) {
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "precision"));
    if (!p || !strcmp(p, "fp32")) return TS_OK;
    size_t n = strlen(*backend) + strlen(p) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s-%s", *backend, p);
    free(*backend);
    *backend = s;
    return s ? TS_OK : TS_ERR;
}

ts_status ts_run_parse(const char *path, const char *text, ts_run *r) {
    memset(r, 0, sizeof *r);
    cJSON *root;
    ts_status st = ts_result_parse(path, text, &root);
    if (st != TS_OK) return st;
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    r->path = strdup(path);
    r->status = str(root, "status");
    r->backend = str(dev, "backend");
    if (r->backend && !*r->backend) {
        free(r->backend);
        r->backend = backend_from_path(path);
    }
    if (r->backend && with_precision(root, &r->backend) != TS_OK) r->backend = NULL;
    r->device = str(dev, "name");
    r->model = str(model, "name");
    r->family = str(model, "family");
    r->params = ts_result_number(model, "params");
    r->params_non_embedding = ts_result_number(model, "params_non_embedding");
    r->tokens = ts_result_number(root, "tokens");
    r->train_loss = ts_result_number(root, "train_loss");
    r->val_loss = ts_result_number(root, "val_loss");
    r->val_perplexity = ts_result_number(root, "val_perplexity");
    if (isnan(r->val_perplexity) && isfinite(r->val_loss)) r->val_perplexity = exp(r->val_loss);
    r->wall_time_s = ts_result_number(root, "wall_time_s");
    r->tokens_per_s = ts_result_number(root, "tokens_per_s");
    r->achieved_gflops = ts_result_number(root, "achieved_gflops");
    r->peak_gflops = ts_result_number(dev, "peak_gflops");
    r->peak_gflops_measured = ts_result_number(dev, "peak_gflops_measured");
    /* GPU runs often lack a nominal peak in their device facts (NVIDIA's drivers do not say):
     * the table of known GPUs fills it, so their MFU is not blank */
    if (!(r->peak_gflops > 0) && ts_sysinfo_known_peak(r->device) > 0)
        r->peak_gflops = ts_sysinfo_known_peak(r->device);
    r->mfu = ts_result_number(root, "mfu");
    if (isnan(r->mfu) && r->peak_gflops > 0) r->mfu = r->achieved_gflops / r->peak_gflops;
    r->mfu_measured =
        r->peak_gflops_measured > 0 ? r->achieved_gflops / r->peak_gflops_measured : NAN;
    r->peak_memory_bytes = ts_result_number(root, "peak_memory_bytes");
    r->commit = str(cJSON_GetObjectItemCaseSensitive(root, "tunescale"), "commit");
    r->regime = regime_of(root);
    if (!r->path || !r->status || !r->backend || !r->device || !r->model || !r->family ||
        !r->commit || !r->regime)
        st = ts_set_error("out of host memory");
    if (st == TS_OK) st = read_curve(cJSON_GetObjectItemCaseSensitive(root, "curve"), r);
    cJSON_Delete(root);
    if (st != TS_OK) ts_run_free(r);
    return st;
}

void ts_run_free(ts_run *r) {
    free(r->path);
    free(r->status);
    free(r->backend);
    free(r->device);
    free(r->model);
    free(r->family);
    free(r->commit);
    free(r->regime);
    free(r->curve_tokens);
    free(r->curve_loss);
    memset(r, 0, sizeof *r);
}

/* ---- scanning ---- */

typedef struct {
    ts_run_set *set;
    int quiet;
    size_t found;
} scan;

static ts_status add_file(scan *s, const char *path) {
    s->found++;
    char *text = NULL;
    size_t len;
    ts_run r;
    ts_status st = ts_read_file(path, &text, &len);
    if (st == TS_OK) st = ts_run_parse(path, text, &r);
    free(text);
    if (st != TS_OK) {
        if (!s->quiet) ts_warn("%s; skipped", ts_last_error());
        s->set->n_unreadable++;
        return TS_OK; /* one bad file never stops the report */
    }
    ts_run_set *set = s->set;
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        ts_run *grown = realloc(set->runs, cap * sizeof *grown);
        if (!grown) {
            ts_run_free(&r);
            return ts_set_error("out of host memory");
        }
        set->runs = grown;
        set->cap = cap;
    }
    set->runs[set->n++] = r;
    return TS_OK;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Depth-first in name order, so the warnings and the unsorted order are reproducible. */
static ts_status walk(scan *s, const char *dir, int depth) {
    if (depth > 32) return TS_OK; /* deeper than any layout tunescale writes */
    DIR *d = opendir(dir);
    if (!d) {
        if (!s->quiet) ts_warn("%s: cannot list (%s); skipped", dir, strerror(errno));
        return TS_OK;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    ts_status st = TS_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., and hidden or temporary files */
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                st = ts_set_error("out of host memory");
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name))) {
            st = ts_set_error("out of host memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (names) qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n && st == TS_OK; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) continue;
        struct stat sb;
        if (lstat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode))
            st = walk(s, path, depth + 1);
        else if (!strcmp(names[i], "result.json") && (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)))
            st = add_file(s, path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

ts_status ts_results_load(const char *dir, int quiet, ts_run_set *set) {
    if (!ts_is_dir(dir)) return ts_set_error("%s: no such folder", dir);
    scan s = {set, quiet, 0};
    size_t before = set->n;
    /* "DIR/" and "DIR" should name files the same way */
    char root[4096];
    snprintf(root, sizeof root, "%s", dir);
    for (size_t len = strlen(root); len > 1 && root[len - 1] == '/'; len--)
        root[len - 1] = '\0';
    ts_status st = walk(&s, root, 0);
    if (st != TS_OK) return st;
    if (s.found == 0)
        return ts_set_error("%s: no result.json found (searched all subfolders)", dir);
    if (set->n == before)
        return ts_set_error("%s: none of its %zu result.json files could be read", dir, s.found);
    return TS_OK;
}

static int cmp_run(const void *pa, const void *pb) {
    const ts_run *a = pa, *b = pb;
    int c = strcmp(a->backend, b->backend);
    if (!c) c = strcmp(a->family, b->family);
    if (!c) {
        double x = isnan(a->params) ? INFINITY : a->params;
        double y = isnan(b->params) ? INFINITY : b->params;
        c = x < y ? -1 : x > y;
    }
    if (!c) c = strcmp(a->model, b->model);
    if (!c) c = strcmp(a->path, b->path);
    return c;
}

void ts_run_set_sort(ts_run_set *set) {
    if (set->n) qsort(set->runs, set->n, sizeof *set->runs, cmp_run);
}

void ts_run_set_free(ts_run_set *set) {
    for (size_t i = 0; i < set->n; i++)
        ts_run_free(&set->runs[i]);
    free(set->runs);
    memset(set, 0, sizeof *set);
}
