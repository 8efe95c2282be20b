/*
 * result_json.h — the one reader and writer of a run's result.json (schema tunescale.run/1,
 * results/README.md). The trainer and the sweep write through it; the sweep, the report's
 * result sets, finalize and the checkpoint loader read through it.
 *
 * A result set may hold files half-written by a crashed machine or made by a newer build, so a
 * reader gets the document once its JSON and schema are good and then asks for each field with
 * the accessors below, which treat a missing or wrong-typed field as absent (NAN / NULL).
 */
#ifndef TS_TRAIN_RESULT_JSON_H
#define TS_TRAIN_RESULT_JSON_H

#include <cjson/cJSON.h>

#include "util/error.h"

#define TS_RESULT_SCHEMA "tunescale.run/1"

/* Parses the text of `path` and checks its schema ("tunescale.run/1" or "tunescale.run/1.x"):
 * TS_OK and *out (cJSON_Delete it), else TS_ERR with one line naming path. */
ts_status ts_result_parse(const char *path, const char *text, cJSON **out);
/* Reads RUN_DIR/result.json; no file is TS_ERR "no result.json". */
ts_status ts_result_read(const char *run_dir, cJSON **out);

/* A new document holding only the schema this build writes (NULL when out of memory); the
 * writer adds its fields, then ts_result_write. */
cJSON *ts_result_new(void);
/* Writes doc (from ts_result_new) as RUN_DIR/result.json, atomically. */
ts_status ts_result_write(const char *run_dir, const cJSON *doc);

/* obj.key as a number, NAN when absent or not a number (obj may be NULL). */
double ts_result_number(const cJSON *obj, const char *key);
/* obj.key as a string, NULL when absent or not a string (obj may be NULL). */
const char *ts_result_string(const cJSON *obj, const char *key);

#endif
