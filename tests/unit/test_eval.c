/*
 * test_eval.c — the sample-folder figures of `tunescale eval` (src/gen/evalset.c) on files
 * whose answers are known:
 *   - a tune copied from the training split has novelty 0; text absent from it novelty 1;
 *   - windows lying inside a prompt recorded in samples.json are not counted;
 *   - a well-formed reel is strictly valid, converts to MIDI (the .mid appears) and has all its
 *     bars consistent with M:; a text without K: fails the loose check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/vocab.h"
#include "gen/evalset.h"
#include "test_util.h"

static const char *const reel = "X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:D\n"
                                "d2fd Adfd|e2ge cege|d2fd Adfd|egfe d4|]\n";
static const char *const other = "X:2\nT:Other\nM:3/4\nL:1/8\nK:G\nG2B2d2|g4f2|e2c2A2|G6|\n";

static void write_text(const char *dir, const char *name, const char *text) {
    char path[4200];
    ts_path_join(path, sizeof path, dir, name);
    assert_int_equal(ts_write_file_atomic(path, text, strlen(text)), TS_OK);
}

/* train.bin: <SOS> reel <EOS>, uint16 little-endian. */
static void write_train(const char *dir, const ts_vocab *v) {
    size_t n = strlen(reel);
    uint16_t *ids = malloc((n + 2) * sizeof *ids);
    unsigned char *bytes = malloc(2 * (n + 2));
    assert_true(ids && bytes);
    ids[0] = TS_TOK_SOS;
    size_t k = 1 + ts_vocab_encode(v, reel, n, ids + 1);
    ids[k++] = TS_TOK_EOS;
    for (size_t i = 0; i < k; i++) {
        bytes[2 * i] = (unsigned char)(ids[i] & 0xff);
        bytes[2 * i + 1] = (unsigned char)(ids[i] >> 8);
    }
    char path[4200];
    ts_path_join(path, sizeof path, dir, "train.bin");
    assert_int_equal(ts_write_file_atomic(path, bytes, 2 * k), TS_OK);
    free(ids);
    free(bytes);
}

static const cJSON *row(const cJSON *rows, const char *file) {
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(r, "file")->valuestring, file)) return r;
    }
    fail_msg("no row for %s", file);
    return NULL;
}

static double field(const cJSON *r, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);
    assert_non_null(v);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : v->valuedouble;
}

static void test_sample_figures(void **state) {
    const char *dir = *state;
    const char *texts[] = {reel, other};
    ts_vocab v;
    assert_int_equal(ts_vocab_build(&v, texts, 2), TS_OK);
    write_train(dir, &v);
    char samples[4200], train[4200], path[4300];
    ts_path_join(samples, sizeof samples, dir, "samples");
    ts_path_join(train, sizeof train, dir, "train.bin");
    assert_int_equal(ts_mkdir_p(samples), TS_OK);
    write_text(samples, "a_copy.abc", reel);
    write_text(samples, "b_other.abc", other);
    write_text(samples, "c_nokey.abc", "X:3\nT:No key\nABcd\n");
    /* d: the reel's header as a prompt, then the other tune's body (never in train) */
    char d[512];
    snprintf(d, sizeof d, "X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:D\n%s", "G2B2d2|g4f2|e2c2A2|G6|\n");
    write_text(samples, "d_prompted.abc", d);
    write_text(samples, "samples.json",
               "{\"samples\": [{\"file\": \"d_prompted.abc\", "
               "\"prompt\": \"X:1\\nT:Test Reel\\nM:4/4\\nL:1/8\\nK:D\\n\"}]}");

    ts_sample_metrics m;
    cJSON *rows = cJSON_CreateArray();
    assert_int_equal(ts_eval_samples(samples, &v, train, &m, rows), TS_OK);
    assert_int_equal(m.files, 4);

    const cJSON *a = row(rows, "a_copy.abc"), *b = row(rows, "b_other.abc");
    const cJSON *c = row(rows, "c_nokey.abc"), *dd = row(rows, "d_prompted.abc");
    /* novelty: the copy has every window in train, the other tune none */
    long wa = (long)strlen(reel) - 1 - 15; /* final newline dropped, 16-token windows */
    assert_int_equal((long)field(a, "windows"), wa);
    assert_int_equal((long)field(a, "novel_windows"), 0);
    assert_int_equal((long)field(b, "novel_windows"), (long)field(b, "windows"));
    /* windows wholly inside the prompt are not counted: they start at prompt - 15 */
    long prompt = (long)strlen("X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:D\n");
    long wd = (long)strlen(d) - 1 - 15 - (prompt - 15);
    assert_int_equal((long)field(dd, "windows"), wd);
    /* windows crossing from the prompt into the body are novel, as is the body */
    assert_int_equal((long)field(dd, "novel_windows"), wd);
    assert_int_equal(m.windows, (long)field(a, "windows") + (long)field(b, "windows") +
                                    (long)field(c, "windows") + wd);

    /* validity, MIDI and meter of a well-formed reel */
    assert_true(field(a, "strict_valid"));
    assert_true(field(a, "loose_valid"));
    assert_true(field(a, "midi"));
    ts_path_join(path, sizeof path, samples, "a_copy.mid");
    assert_true(ts_is_file(path));
    assert_true(field(a, "bars_total") >= 4);
    assert_true(field(a, "bars_consistent") == field(a, "bars_total"));
    assert_false(field(c, "loose_valid"));

    cJSON *j = ts_sample_metrics_json(&m);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "files")->valueint, 4);
    double loose = cJSON_GetObjectItemCaseSensitive(j, "loose_valid_pct")->valuedouble;
    assert_true(loose == 75.0);
    cJSON_Delete(j);
    cJSON_Delete(rows);
    ts_vocab_free(&v);
}

static void test_empty_folder(void **state) {
    const char *dir = *state;
    ts_vocab v;
    const char *texts[] = {reel};
    assert_int_equal(ts_vocab_build(&v, texts, 1), TS_OK);
    ts_sample_metrics m;
    assert_int_equal(ts_eval_samples(dir, &v, NULL, &m, NULL), TS_EUSAGE);
    ts_vocab_free(&v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sample_figures, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_empty_folder, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
