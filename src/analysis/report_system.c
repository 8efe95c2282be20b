/*
 * report_system.c — the system description of a result set: the host and build from the
 * runs' own "system" record (util/sysinfo.h), and one device entry per backend. Results
 * written before the record existed give what their "machine" and "device" fields hold, and
 * say so ("source": "legacy fields").
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"
#include "util/fsutil.h"
#include "util/sysinfo.h"

static cJSON *read_json(const char *path) {
    char *text = NULL;
    size_t len;
    if (ts_read_file(path, &text, &len) != TS_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

/* A legacy result's host: only what it recorded (no machine paths, no host name). */
static cJSON *legacy_host(const cJSON *run) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(run, "machine");
    cJSON *h = cJSON_CreateObject();
    const char *os = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "os"));
    if (os) cJSON_AddStringToObject(h, "kernel", os);
    const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(m, "cpus");
    if (cJSON_IsNumber(cpus)) cJSON_AddNumberToObject(h, "cores", cpus->valuedouble);
    return h;
}

static cJSON *legacy_build(const cJSON *run) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(run, "tunescale");
    const char *commit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "commit"));
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "commit", commit ? commit : "unknown");
    cJSON_AddBoolToObject(b, "dirty", commit && strstr(commit, "-dirty"));
    return b;
}

cJSON *ts_report_system(const char *dir, const ts_run_set *set) {
    (void)dir;
    cJSON *sys = cJSON_CreateObject();
    if (!sys) return NULL;
    cJSON *devices = cJSON_CreateArray();
    int have_host = 0;
    for (size_t i = 0; i < set->n; i++) {
        const ts_run *r = &set->runs[i];
        if (i && !strcmp(r->backend, set->runs[i - 1].backend)) continue; /* one per backend */
        cJSON *run = read_json(r->path);
        if (!run) continue;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(run, "system");
        if (!have_host) {
            have_host = 1;
            if (cJSON_IsObject(s)) {
                cJSON_AddStringToObject(sys, "source", "result.json system record");
                cJSON_AddItemToObject(
                    sys, "host", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s, "host"), 1));
                cJSON_AddItemToObject(
                    sys, "build", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s, "build"), 1));
            } else {
                cJSON_AddStringToObject(sys, "source",
                                        "legacy fields (written before the system record)");
                cJSON_AddItemToObject(sys, "host", legacy_host(run));
                cJSON_AddItemToObject(sys, "build", legacy_build(run));
            }
        }
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(s, "device");
        cJSON *d = cJSON_IsObject(dev) ? cJSON_Duplicate(dev, 1) : NULL;
        if (!d) { /* rebuilt from the legacy device fields */
            cJSON *tmp = ts_sysinfo_json(cJSON_GetObjectItemCaseSensitive(run, "device"));
            d = cJSON_DetachItemFromObjectCaseSensitive(tmp, "device");
            cJSON_Delete(tmp);
        }
        if (d) cJSON_AddItemToArray(devices, d);
        cJSON_Delete(run);
    }
    cJSON_AddItemToObject(sys, "devices", devices);
    return sys;
}

const char *ts_public_path(const char *path) {
    if (path[0] != '/') return path;
    const char *base = strrchr(path, '/');
    return base[1] ? base + 1 : path;
}

void ts_report_sweep_command(const ts_report *rep, char *buf, size_t cap) {
    buf[0] = '\0';
    if (!rep->manifest) return;
    const char *preset =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep->manifest, "preset"));
    const char *data =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep->manifest, "data"));
    const char *backends =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rep->manifest, "backends"));
    if (!preset || !data || !backends) return;
    snprintf(buf, cap, "tunescale sweep --preset %s --data %s --backend %s --out %s", preset,
             ts_public_path(data), backends, ts_public_path(rep->dir));
}
