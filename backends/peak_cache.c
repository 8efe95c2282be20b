/*
 * peak_cache.c — the per-device record of measured peaks (see peak_cache.h).
 */
#include "backends/peak_cache.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/fsutil.h"

#define PEAK_FORMAT 1

/* <cache>/<sub> into out; 0 when there is no base to put it under. */
static int cache_sub_dir(const char *sub, char *out, size_t cap) {
    const char *env = getenv("TUNESCALE_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (env && *env)
        n = snprintf(out, cap, "%s/%s", env, sub);
    else if (xdg && *xdg)
        n = snprintf(out, cap, "%s/tunescale/%s", xdg, sub);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.cache/tunescale/%s", home, sub);
    else
        return 0;
    return n > 0 && (size_t)n < cap;
}

int ts_peak_cache_path(const char *backend, const char *device_name, char *out, size_t cap) {
    return ts_cache_file_path("peak", backend, device_name, out, cap);
}

int ts_cache_file_path(const char *sub, const char *backend, const char *device_name, char *out,
                       size_t cap) {
    char dir[4096];
    if (!cache_sub_dir(sub, dir, sizeof dir)) return 0;
    /* Device names carry spaces, parentheses and slashes ("llvmpipe (LLVM 15.0.6, 256
     * bits)"): keep a portable file name, and cut it so it stays well under NAME_MAX. */
    char name[160];
    size_t k = 0;
    for (const char *s = device_name; *s && k < sizeof name - 1; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-';
        if (!ok) c = '_';
        if (c == '_' && k > 0 && name[k - 1] == '_') continue; /* one '_' per run */
        name[k++] = c;
    }
    while (k > 0 && name[k - 1] == '_')
        k--;
    name[k] = '\0';
    int n = snprintf(out, cap, "%s/%s-%s.json", dir, backend, k ? name : "unnamed");
    return n > 0 && (size_t)n < cap;
}

ts_status ts_cache_record_begin(const char *sub, int format, const char *backend,
                                const char *device_name, char *path, size_t cap, cJSON **doc) {
    *doc = NULL;
    char dir[4096];
    if (!ts_cache_file_path(sub, backend, device_name, path, cap) ||
        !cache_sub_dir(sub, dir, sizeof dir))
        return ts_set_error("%s cache: no cache directory (set TUNESCALE_CACHE or HOME)", sub);
    ts_status st = ts_mkdir_p(dir);
    if (st != TS_OK) return st;
    cJSON *j = cJSON_CreateObject();
    if (!j) return ts_set_error_status(TS_ENOMEM, "out of memory writing %s", path);
    cJSON_AddNumberToObject(j, "format", format);
    cJSON_AddStringToObject(j, "backend", backend);
    cJSON_AddStringToObject(j, "device", device_name);
    *doc = j;
    return TS_OK;
}

ts_status ts_peak_cache_store(const char *backend, const char *device_name, double gflops,
                              double gbs) {
    char path[4096];
    cJSON *j;
    ts_status st =
        ts_cache_record_begin("peak", PEAK_FORMAT, backend, device_name, path, sizeof path, &j);
    if (st != TS_OK) return st;
    cJSON_AddNumberToObject(j, "gflops", gflops);
    cJSON_AddNumberToObject(j, "gbs", gbs);
    cJSON_AddNumberToObject(j, "measured_at", (double)time(NULL));
    return ts_write_json_atomic(path, j);
}

int ts_peak_cache_lookup(const char *backend, const char *device_name, double *gflops,
                         double *gbs) {
    char path[4096];
    if (!ts_peak_cache_path(backend, device_name, path, sizeof path) || !ts_is_file(path)) return 0;
    cJSON *j = ts_read_json(path);
    if (!j) ts_clear_error(); /* an unreadable or corrupt record is the same as none */
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "backend");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "device");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "gflops");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "gbs");
    /* Two device names can sanitise to one file: only the exact device's record counts. */
    int found = cJSON_IsString(b) && cJSON_IsString(d) && cJSON_IsNumber(f) && cJSON_IsNumber(g) &&
                !strcmp(b->valuestring, backend) && !strcmp(d->valuestring, device_name) &&
                f->valuedouble > 0 && g->valuedouble > 0;
    if (found) {
        *gflops = f->valuedouble;
        *gbs = g->valuedouble;
    }
    cJSON_Delete(j);
    return found;
}
