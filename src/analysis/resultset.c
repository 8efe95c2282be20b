/*
 * resultset.c — which result.json files make up a result set.
 *
 * A folder is not a result set by itself: a finalize retraining, a second sweep written into
 * the same folder or a hand-copied run would otherwise enter the fits unnoticed. A sweep's
 * manifest (sweep.json) says which runs belong together, so it decides when present.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/results.h"
#include "util/fsutil.h"

/* path = .../X/train/result.json with .../X/final.json beside train/: finalize's layout. */
static int is_finalize_run(const char *path) {
    char buf[4200];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash) return 0;
    *slash = '\0'; /* .../X/train */
    slash = strrchr(buf, '/');
    if (!slash || strcmp(slash + 1, "train")) return 0;
    *slash = '\0'; /* .../X */
    size_t len = strlen(buf);
    if (len + sizeof "/final.json" > sizeof buf) return 0;
    memcpy(buf + len, "/final.json", sizeof "/final.json");
    return ts_is_file(buf);
}

static void drop_finalize_runs(ts_run_set *set) {
    size_t kept = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (is_finalize_run(set->runs[i].path)) {
            ts_run_free(&set->runs[i]);
            set->n_finalize++;
        } else {
            set->runs[kept++] = set->runs[i];
        }
    }
    set->n = kept;
}

/* Counts the result.json files below dir the manifest did not name, so the report can say
 * that the folder holds more than the set. */
static void count_unlisted(const char *dir, ts_run_set *set) {
    ts_run_set all;
    memset(&all, 0, sizeof all);
    if (ts_results_load(dir, 1, &all) == TS_OK) {
        drop_finalize_runs(&all);
        set->n_finalize = all.n_finalize;
        if (all.n > set->n) set->n_unlisted = all.n - set->n;
    }
    ts_run_set_free(&all);
}

static ts_status load_manifest(const char *dir, const char *path, int quiet, ts_run_set *set) {
    char *text = NULL;
    size_t len;
    if (ts_read_file(path, &text, &len) != TS_OK) return TS_ERR;
    cJSON *m = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(m, "runs");
    if (!cJSON_IsArray(runs)) {
        cJSON_Delete(m);
        return ts_set_error("%s: not a tunescale sweep manifest (no \"runs\" list); move it "
                            "away to report every result.json below %s",
                            path, dir);
    }
    ts_status st = TS_OK;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "dir");
        if (!cJSON_IsString(d) || strstr(d->valuestring, "..") || d->valuestring[0] == '/')
            continue; /* a manifest names folders inside its own sweep only */
        char run_dir[4200], file[4400];
        ts_path_join(run_dir, sizeof run_dir, dir, d->valuestring);
        ts_path_join(file, sizeof file, run_dir, "result.json");
        if (!ts_is_file(file)) continue; /* pending: not trained yet */
        if ((st = ts_results_load(run_dir, quiet, set)) != TS_OK) {
            if (!quiet) ts_warn("%s; skipped", ts_last_error());
            set->n_unreadable++;
            st = TS_OK;
        }
    }
    cJSON_Delete(m);
    if (set->n == 0)
        return ts_set_error("%s: its manifest names no finished run with a readable "
                            "result.json",
                            dir);
    return st;
}

ts_status ts_result_set_load(const char *dir, int quiet, ts_run_set *set, int *manifest) {
    char path[4200];
    *manifest = 0;
    if (!ts_is_dir(dir)) return ts_set_error("%s: no such folder", dir);
    ts_path_join(path, sizeof path, dir, "sweep.json");
    if (ts_is_file(path)) {
        *manifest = 1;
        ts_status st = load_manifest(dir, path, quiet, set);
        if (st == TS_OK) count_unlisted(dir, set);
        return st;
    }
    ts_status st = ts_results_load(dir, quiet, set);
    if (st != TS_OK) return st;
    drop_finalize_runs(set);
    if (set->n == 0)
        return ts_set_error("%s: holds only finalize retrainings, no result set to report", dir);
    return TS_OK;
}
