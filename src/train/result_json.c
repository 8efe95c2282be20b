/* result_json.c — reading and writing result.json (see result_json.h). */
#include "train/result_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

#define SCHEMA_PREFIX "tunescale.run/"
#define SCHEMA_MAJOR  1

/* "tunescale.run/1" and "tunescale.run/1.x" are major version 1. */
static ts_status check_schema(const char *path, const cJSON *root) {
    const char *s = ts_result_string(root, "schema");
    if (!s || strncmp(s, SCHEMA_PREFIX, strlen(SCHEMA_PREFIX)))
        return ts_set_error("%s: not a tunescale run result (no \"schema\": \"%s%d\")", path,
                            SCHEMA_PREFIX, SCHEMA_MAJOR);
    const char *ver = s + strlen(SCHEMA_PREFIX);
    char *end;
    long major = strtol(ver, &end, 10);
    if (end == ver || (*end && *end != '.') || major != SCHEMA_MAJOR)
        return ts_set_error("%s: schema \"%s\" is not supported; this build reads %s%d "
                            "(refusing the file)",
                            path, s, SCHEMA_PREFIX, SCHEMA_MAJOR);
    return TS_OK;
}

ts_status ts_result_parse(const char *path, const char *text, cJSON **out) {
    *out = NULL;
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ts_set_error("%s: not valid JSON", path);
    }
    ts_status st = check_schema(path, root);
    if (st != TS_OK) {
        cJSON_Delete(root);
        return st;
    }
    *out = root;
    return TS_OK;
}

ts_status ts_result_read(const char *run_dir, cJSON **out) {
    char path[4200], *text;
    size_t len;
    *out = NULL;
    ts_path_join(path, sizeof path, run_dir, "result.json");
    if (!ts_is_file(path)) return ts_set_error("%s: no result.json", run_dir);
    if (ts_read_file(path, &text, &len) != TS_OK) return TS_ERR;
    ts_status st = ts_result_parse(path, text, out);
    free(text);
    return st;
}

cJSON *ts_result_new(void) {
    cJSON *doc = cJSON_CreateObject();
    if (doc && !cJSON_AddStringToObject(doc, "schema", TS_RESULT_SCHEMA)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

ts_status ts_result_write(const char *run_dir, const cJSON *doc) {
    char path[4200];
    ts_path_join(path, sizeof path, run_dir, "result.json");
    if (check_schema(path, doc) != TS_OK) /* a document not made by ts_result_new */
        return ts_set_error("%s: not written: the document lacks its schema", path);
    char *text = cJSON_Print(doc);
    ts_status st = text ? ts_write_file_atomic(path, text, strlen(text))
                        : ts_set_error("out of host memory writing %s", path);
    free(text);
    return st;
}

double ts_result_number(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *ts_result_string(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
