/*
 * test_dataset_json.c — the one reader of dataset.json: a document written through
 * ts_dataset_write reads back field by field; every field it hands out, when missing or of the
 * wrong type, is a one-line error naming the file and the key (never a crash); no file is a
 * usage error that says to run data prepare.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/dataset_json.h"

static const char *good =
    "{\"schema\": \"tunescale.dataset/1\", \"cache_key\": \"ck\", \"dataset_hash\": \"dh\","
    " \"options\": {\"framing\": \"newline\"}, \"vocab_size\": 97,"
    " \"splits\": {\"train\": {\"tokens\": 1000}, \"val\": {\"tokens\": 50},"
    "              \"test\": {\"tokens\": 7}},"
    " \"files\": {\"vocab\": {\"file\": \"vocab.json\", \"sha256\": \"a\"},"
    "            \"train\": {\"file\": \"train.bin\", \"sha256\": \"b\"},"
    "            \"val\": {\"file\": \"val.bin\", \"sha256\": \"c\"},"
    "            \"test\": {\"file\": \"test.bin\", \"sha256\": \"d\"},"
    "            \"index\": {\"file\": \"splits.tsv\", \"sha256\": \"e\"}}}";

static int setup(void **state) {
    char *dir = strdup("/tmp/ts_dataset_json_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state) {
    char path[256];
    snprintf(path, sizeof path, "%s/dataset.json", (char *)*state);
    unlink(path);
    rmdir(*state);
    free(*state);
    return 0;
}

/* Writes `doc` (parsed, then through the owner's writer) and reads it back. */
static ts_status write_read(const char *dir, const char *doc, ts_dataset *d) {
    cJSON *j = cJSON_Parse(doc);
    if (j) assert_int_equal(ts_dataset_write(dir, j), TS_OK);
    cJSON_Delete(j);
    if (!j) { /* not JSON at all: written as text */
        char path[256];
        snprintf(path, sizeof path, "%s/dataset.json", dir);
        FILE *f = fopen(path, "w");
        fputs(doc, f);
        fclose(f);
    }
    return ts_dataset_read(dir, d);
}

static void reads_back(void **state) {
    ts_dataset d;
    assert_int_equal(write_read(*state, good, &d), TS_OK);
    assert_int_equal(d.vocab_size, 97);
    assert_string_equal(d.hash, "dh");
    assert_string_equal(d.cache_key, "ck");
    assert_int_equal(d.newline_framing, 1);
    assert_true(d.split_tokens[TS_SPLIT_TRAIN] == 1000 && d.split_tokens[TS_SPLIT_VAL] == 50 &&
                d.split_tokens[TS_SPLIT_TEST] == 7);
    assert_string_equal(d.file_name[TS_DATASET_INDEX], "splits.tsv");
    assert_string_equal(d.file_sha256[TS_DATASET_TEST], "d");
    ts_dataset_free(&d);
}

/* `from` replaced by `to` in the good document must fail with a message holding `key`. */
static void expect_error(const char *dir, const char *from, const char *to, const char *key) {
    char doc[2048];
    const char *at = strstr(good, from);
    assert_non_null(at);
    snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    ts_dataset d;
    assert_int_equal(write_read(dir, doc, &d), TS_ERR);
    const char *msg = ts_last_error();
    if (!strstr(msg, key) || !strstr(msg, "dataset.json") || strchr(msg, '\n'))
        fail_msg("for %s -> %s: message '%s' does not name dataset.json and %s", from, to, msg,
                 key);
    assert_null(d.doc);
}

static void every_field_checked(void **state) {
    const char *dir = *state;
    expect_error(dir, "\"vocab_size\": 97", "\"vocab_size\": \"97\"", "\"vocab_size\"");
    expect_error(dir, "\"vocab_size\": 97", "\"vocab\": 97", "\"vocab_size\"");
    expect_error(dir, "\"vocab_size\": 97", "\"vocab_size\": 3", "\"vocab_size\"");
    expect_error(dir, "\"vocab_size\": 97", "\"vocab_size\": 9.5", "\"vocab_size\"");
    expect_error(dir, "\"dataset_hash\": \"dh\"", "\"dataset_hash\": 5", "\"dataset_hash\"");
    expect_error(dir, "\"cache_key\": \"ck\"", "\"cache\": \"ck\"", "\"cache_key\"");
    expect_error(dir, "{\"framing\": \"newline\"}", "{}", "\"options.framing\"");
    expect_error(dir, "\"options\": {", "\"opts\": {", "\"options\"");
    /* a split without "tokens" (hand-edited) */
    expect_error(dir, "\"val\": {\"tokens\": 50}", "\"val\": {}", "\"splits.val.tokens\"");
    expect_error(dir, "\"test\": {\"tokens\": 7}", "\"test\": {\"tokens\": -7}",
                 "\"splits.test.tokens\"");
    expect_error(dir, "\"train\": {\"tokens\": 1000}", "\"train\": [1000]", "\"splits.train\"");
    expect_error(dir, "\"splits\": {", "\"splits\": 1, \"x\": {", "\"splits\"");
    expect_error(dir, "\"file\": \"val.bin\"", "\"file\": null", "\"files.val.file\"");
    expect_error(dir, "\"file\": \"val.bin\"", "\"file\": \"../val.bin\"", "\"files.val.file\"");
    expect_error(dir, "\"sha256\": \"e\"", "\"sha\": \"e\"", "\"files.index.sha256\"");
    expect_error(dir, "{\"schema\"", "[{\"schema\"", "not JSON");
}

static void no_file_is_usage(void **state) {
    ts_dataset d;
    char empty[300];
    snprintf(empty, sizeof empty, "%s/none", (char *)*state);
    assert_int_equal(ts_dataset_read(empty, &d), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "tunescale data prepare"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(every_field_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(no_file_is_usage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
