/*
 * cmd_invalidate.c — `tunescale invalidate RUN --reason TEXT`: marks a finished run as wrong
 * (a backend bug found later, a machine that was not idle) without deleting it.
 *
 * The run's result.json keeps every figure; its status becomes "invalid: TEXT" and the old
 * status moves to "status_before_invalid", so report and compare list the run with its reason
 * and leave it out of fits and plots. A sweep's manifest that names the run is updated too, and
 * a re-run of the sweep keeps the run as it is (--force trains it again).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "util/fsutil.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale invalidate RUN --reason TEXT\n\n"
            "Marks a finished run as invalid: RUN is its folder (the one holding result.json).\n"
            "Its status becomes \"invalid: TEXT\"; every figure stays in the file, the previous\n"
            "status is kept as status_before_invalid, and the sweep manifest (sweep.json two\n"
            "folders up, runs/BACKEND/RUN) is updated. report and compare list the run with its\n"
            "reason and leave it out of fits and plots; a sweep re-run keeps it (--force trains\n"
            "it again). Invalidating again replaces the reason.\n\n"
            "options:\n"
            "  --reason TEXT   why the run is wrong (one line, required)\n"
            "  -h, --help      this text\n\n"
            "exit codes: 0 ok, 1 runtime failure (no result.json, unreadable), 2 usage\n");
}

static ts_status write_json(const char *path, const cJSON *j) {
    char *text = cJSON_Print(j);
    if (!text) return ts_set_error("out of host memory");
    size_t len = strlen(text);
    char *nl = realloc(text, len + 2);
    if (!nl) {
        free(text);
        return ts_set_error("out of host memory");
    }
    nl[len] = '\n';
    ts_status st = ts_write_file_atomic(path, nl, len + 1);
    free(nl);
    return st;
}

/* In place when the key exists, so the file keeps its order and a diff shows one line. */
static void set_string(cJSON *o, const char *key, const char *value) {
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(value));
    else
        cJSON_AddStringToObject(o, key, value);
}

/* The manifest of the sweep the run belongs to: RUN = SWEEP/runs/BACKEND/NAME. */
static ts_status update_manifest(const char *run_dir, const char *status) {
    char buf[4200], *rel;
    snprintf(buf, sizeof buf, "%s", run_dir);
    for (size_t len = strlen(buf); len > 1 && buf[len - 1] == '/'; len--)
        buf[len - 1] = '\0';
    char *runs = strstr(buf, "/runs/");
    if (runs) {
        *runs = '\0';
        rel = runs + 1;
    } else if (!strncmp(buf, "runs/", 5)) {
        memmove(buf + 2, buf, strlen(buf) + 1); /* "./" as the sweep folder */
        buf[0] = '.', buf[1] = '\0';
        rel = buf + 2;
    } else {
        return TS_OK; /* not inside a sweep */
    }
    char manifest[4300];
    ts_path_join(manifest, sizeof manifest, buf, "sweep.json");
    if (!ts_is_file(manifest)) return TS_OK;
    cJSON *m = ts_read_json(manifest);
    if (!m) return TS_ERR;
    int found = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(m, "runs")) {
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "dir"));
        if (d && !strcmp(d, rel)) {
            set_string(r, "status", status);
            found = 1;
        }
    }
    ts_status st = found ? write_json(manifest, m) : TS_OK;
    if (found && st == TS_OK) fprintf(stderr, "tunescale invalidate: updated %s\n", manifest);
    cJSON_Delete(m);
    return st;
}

int cmd_invalidate(int argc, char **argv) {
    const char *run = NULL, *reason = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--reason")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tunescale invalidate: --reason needs a text (see --help)\n");
                return 2;
            }
            reason = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tunescale invalidate: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (run) {
            fprintf(stderr, "tunescale invalidate: one RUN only (got '%s' and '%s')\n", run, a);
            return 2;
        } else {
            run = a;
        }
    }
    if (!run || !reason) {
        fprintf(stderr, "tunescale invalidate: %s (see --help)\n",
                !run ? "missing RUN (a run's folder)" : "missing --reason TEXT: say why");
        return 2;
    }
    if (!*reason || strpbrk(reason, "\r\n") || strlen(reason) > 400) {
        fprintf(stderr, "tunescale invalidate: --reason takes one line of 1 to 400 characters\n");
        return 2;
    }
    char path[4200];
    ts_path_join(path, sizeof path, run, "result.json");
    if (!ts_is_file(path)) {
        fprintf(stderr, "tunescale invalidate: %s: no result.json (RUN is a run's folder)\n", run);
        return 1;
    }
    cJSON *j = ts_read_json(path);
    const char *schema = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "schema"));
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    if (!j || !schema || strncmp(schema, "tunescale.run/1", 15) || !old) {
        fprintf(stderr, "tunescale invalidate: %s: not a tunescale run result\n", path);
        cJSON_Delete(j);
        return 1;
    }
    char status[512];
    snprintf(status, sizeof status, "invalid: %s", reason);
    if (strncmp(old, "invalid: ", 9)) set_string(j, "status_before_invalid", old);
    set_string(j, "status", status);
    ts_status st = write_json(path, j);
    cJSON_Delete(j);
    if (st == TS_OK) st = update_manifest(run, status);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: invalidate: %s\n", ts_last_error());
        return 1;
    }
    printf("%s: %s\n", run, status);
    return 0;
}
