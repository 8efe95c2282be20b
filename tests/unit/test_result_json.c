/*
 * test_result_json.c — the one reader and writer of result.json: a document from
 * ts_result_new written with ts_result_write reads back with its schema first and its fields;
 * a file that is not JSON, has no schema or another major version is refused with one line
 * naming it; a document without the schema is not written; the accessors give NAN / NULL for
 * missing or wrong-typed fields.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "train/result_json.h"

static int setup(void **state) {
    char *dir = strdup("/tmp/ts_result_json_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state) {
    char path[256];
    snprintf(path, sizeof path, "%s/result.json", (char *)*state);
    unlink(path);
    rmdir(*state);
    free(*state);
    return 0;
}

static void round_trip(void **state) {
    const char *dir = *state;
    cJSON *doc = ts_result_new();
    cJSON_AddStringToObject(doc, "status", "ok");
    cJSON_AddNumberToObject(doc, "val_loss", 1.25);
    assert_int_equal(ts_result_write(dir, doc), TS_OK);
    cJSON_Delete(doc);
    cJSON *back = NULL;
    assert_int_equal(ts_result_read(dir, &back), TS_OK);
    assert_string_equal(back->child->string, "schema"); /* first in the file */
    assert_string_equal(ts_result_string(back, "schema"), TS_RESULT_SCHEMA);
    assert_string_equal(ts_result_string(back, "status"), "ok");
    assert_true(ts_result_number(back, "val_loss") == 1.25);
    assert_true(isnan(ts_result_number(back, "status")));  /* a string, not a number */
    assert_true(isnan(ts_result_number(back, "missing"))); /* absent */
    assert_null(ts_result_string(back, "val_loss"));
    assert_null(ts_result_string(NULL, "status"));
    cJSON_Delete(back);
}

static void refuses(const char *text, const char *expect) {
    cJSON *doc = (cJSON *)1;
    assert_int_equal(ts_result_parse("x/result.json", text, &doc), TS_ERR);
    assert_null(doc);
    const char *msg = ts_last_error();
    if (!strstr(msg, "x/result.json") || !strstr(msg, expect) || strchr(msg, '\n'))
        fail_msg("'%s': message '%s' lacks the path or '%s'", text, msg, expect);
}

static void bad_files_refused(void **state) {
    (void)state;
    refuses("{\"status\": \"ok\"", "not valid JSON");
    refuses("[1, 2]", "not valid JSON");
    refuses("{\"status\": \"ok\"}", "not a tunescale run result");
    refuses("{\"schema\": \"tunescale.run/2\"}", "not supported");
    refuses("{\"schema\": \"tunescale.run/10\"}", "not supported");
    refuses("{\"schema\": \"tunescale.dataset/1\"}", "not a tunescale run result");
    cJSON *doc = NULL;
    assert_int_equal(ts_result_parse("p", "{\"schema\": \"tunescale.run/1.3\"}", &doc), TS_OK);
    cJSON_Delete(doc);
}

static void unschema_not_written(void **state) {
    const char *dir = *state;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "status", "ok");
    assert_int_equal(ts_result_write(dir, doc), TS_ERR);
    cJSON_Delete(doc);
    char path[256];
    snprintf(path, sizeof path, "%s/result.json", dir);
    assert_int_equal(access(path, F_OK), -1);
    cJSON *none = (cJSON *)1;
    assert_int_equal(ts_result_read(dir, &none), TS_ERR);
    assert_null(none);
    assert_non_null(strstr(ts_last_error(), "no result.json"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test(bad_files_refused),
        cmocka_unit_test_setup_teardown(unschema_not_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
