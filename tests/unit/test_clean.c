/*
 * test_clean.c — unit tests for tune cleaning (src/data/clean.c) and the length filter and
 * de-duplication that follow it in `data prepare` (src/data/prepare.c).
 *
 * The default mode keeps ABC's line structure; the seed mode reproduces the notebook's
 * ' '.join(tune.split()) and its 500-character line limit. Expected strings are written out
 * by hand. The filter bounds are checked end to end through ts_data_prepare on a mkdtemp
 * folder, reading the counts back from dataset.json.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/clean.h"
#include "data/prepare.h"
#include "util/fsutil.h"

/* ---- helpers ---- */

/* Cleans a copy of in and checks the result and the returned length. */
static void check_clean(const char *in, ts_clean_mode mode, const char *want) {
    char *s = strdup(in);
    assert_non_null(s);
    size_t n = ts_clean_tune(s, mode);
    assert_string_equal(s, want);
    assert_int_equal(n, strlen(want));
    free(s);
}

static char *repeat_to(const char *prefix, char c, size_t total) {
    size_t p = strlen(prefix);
    assert_true(total >= p);
    char *s = malloc(total + 1);
    assert_non_null(s);
    memcpy(s, prefix, p);
    memset(s + p, c, total - p);
    s[total] = '\0';
    return s;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static cJSON *read_json(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = slurp(path, NULL);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

/* The number at a dotted path such as "counts.dropped.too_short". */
static double json_num(const cJSON *root, const char *dotted) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", dotted);
    const cJSON *j = root;
    for (char *save, *key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
        j = cJSON_GetObjectItemCaseSensitive(j, key);
        assert_non_null(j);
    }
    assert_true(cJSON_IsNumber(j));
    return j->valuedouble;
}

static const char *json_str(const cJSON *root, const char *a, const char *b) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b) j = cJSON_GetObjectItemCaseSensitive(j, b);
    assert_true(cJSON_IsString(j));
    return j->valuestring;
}

/* ---- default mode ---- */

static const char *MESSY = "X:1\r\n"
                           "T:A  \t Tune\r\n"
                           "% a comment\r\n"
                           "   K:G   \r\n"
                           "\r\n"
                           "  abc\t\tdef  |  \r\n"
                           "   \r\n"
                           "  %indented comment\r\n"
                           "abc % inline\r\n"
                           "ABC";

static void test_default_mode(void **state) {
    (void)state;
    check_clean(MESSY, TS_CLEAN_DEFAULT, "X:1\nT:A Tune\nK:G\nabc def |\nabc % inline\nABC");
}

static void test_default_keeps_header_lines(void **state) {
    (void)state;
    const char *tune = "X:1\nT:A\nM:6/8\nL:1/8\nK:G\nGAG GAB|ABA ABd|\ngfg ege|dBA G3:|";
    check_clean(tune, TS_CLEAN_DEFAULT, tune); /* already clean: unchanged */
    check_clean("X:1\nT:A\nK:G\n\n\n", TS_CLEAN_DEFAULT, "X:1\nT:A\nK:G");
    check_clean("X:1\rT:A\r\rK:G\r", TS_CLEAN_DEFAULT, "X:1\nT:A\nK:G"); /* bare CR endings */
    check_clean("%only\n  % comments\n\n", TS_CLEAN_DEFAULT, "");
    check_clean("", TS_CLEAN_DEFAULT, "");
    /* Non-ASCII text passes through untouched. */
    check_clean("T:Caf\xc3\xa9  \xe2\x99\xaf \n", TS_CLEAN_DEFAULT, "T:Caf\xc3\xa9 \xe2\x99\xaf");
}

/* ---- seed mode ---- */

static void test_seed_mode(void **state) {
    (void)state;
    /* Python: ' '.join(MESSY.split()) */
    check_clean(MESSY, TS_CLEAN_SEED,
                "X:1 T:A Tune % a comment K:G abc def | %indented comment abc % inline ABC");
    char *s = strdup(MESSY);
    assert_non_null(s);
    ts_clean_tune(s, TS_CLEAN_SEED);
    assert_null(strchr(s, '\n'));
    assert_null(strchr(s, '\r'));
    assert_null(strstr(s, "  "));
    free(s);
}

/* str.split() splits on every Unicode space and on \x1c-\x1f, not only on ASCII blanks. */
static void test_seed_unicode_whitespace(void **state) {
    (void)state;
    check_clean("  X:1\xc2\xa0T:A\xe3\x80\x80\x1f K:G\n\x0b abc\xe2\x80\x83\xc3\xa9 \n",
                TS_CLEAN_SEED, "X:1 T:A K:G abc \xc3\xa9");
    check_clean(" \n\t ", TS_CLEAN_SEED, "");
}

static void test_seed_length_limit(void **state) {
    (void)state;
    /* "X:1\n  K:C\n" + a*k collapses to "X:1 K:C " + a*k: 8 + k characters. */
    char *in = repeat_to("X:1\n  K:C\n", 'a', 10 + 491);
    char *want = repeat_to("X:1 K:C ", 'a', 8 + 491); /* 499 characters: kept */
    check_clean(in, TS_CLEAN_SEED, want);
    free(in);
    free(want);
    in = repeat_to("X:1\n  K:C\n", 'a', 10 + 492); /* 500 characters: emptied */
    check_clean(in, TS_CLEAN_SEED, "");
    free(in);

    /* The limit counts characters, not bytes: 499 characters of which 491 are two-byte é. */
    char big[2048] = "X:1\n  K:C\n";
    char kept[2048] = "X:1 K:C ";
    for (int i = 0; i < 491; i++) {
        strcat(big, "\xc3\xa9");
        strcat(kept, "\xc3\xa9");
    }
    check_clean(big, TS_CLEAN_SEED, kept);
    assert_int_equal(strlen(kept), 8 + 2 * 491);
    strcat(big, "\xc3\xa9"); /* 500 characters */
    check_clean(big, TS_CLEAN_SEED, "");
}

/* ---- filter bounds through data prepare ---- */

/* Each test that needs files gets a fresh mkdtemp folder as its state; the teardown removes it
 * even when the test fails. */
typedef struct {
    char root[64];
    char in[128], out[128], cache[128];
} workdir;

/* Paths under the test's temporary folder; the input folder is created. */
static void workdir_make(workdir *w, const char *root) {
    assert_true(strlen(root) < sizeof w->root);
    snprintf(w->root, sizeof w->root, "%s", root);
    snprintf(w->in, sizeof w->in, "%s/in", w->root);
    snprintf(w->out, sizeof w->out, "%s/out", w->root);
    snprintf(w->cache, sizeof w->cache, "%s/cache", w->root);
    assert_int_equal(mkdir(w->in, 0777), 0);
}

/* Tunes of cleaned length 49, 50, 5000 and 5001 characters and a copy of the 50 one. */
static void write_bounds_corpus(const workdir *w) {
    char *t49 = repeat_to("X:1\nK:C\n", 'a', 49);
    char *t50 = repeat_to("X:2\nK:C\n", 'a', 50);
    char *t5000 = repeat_to("X:3\nK:C\n", 'a', 5000);
    char *t5001 = repeat_to("X:4\nK:C\n", 'a', 5001);
    char path[256];
    snprintf(path, sizeof path, "%s/bounds.abc", w->in);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "%s\n\n%s\n\n%s\n\n%s\n\n%s\n", t49, t50, t5000, t5001, t50);
    assert_int_equal(fclose(f), 0);
    free(t49), free(t50), free(t5000), free(t5001);
}

static ts_status prepare(const workdir *w, const char *out, ts_clean_mode mode) {
    const char *inputs[1] = {w->in};
    ts_prepare_options o;
    ts_prepare_options_default(&o);
    o.inputs = inputs;
    o.n_inputs = 1;
    o.out_dir = out;
    o.cache_dir = w->cache;
    o.clean = mode;
    int cached = -1;
    ts_status st = ts_data_prepare(&o, &cached);
    if (st == TS_OK) assert_int_equal(cached, 0);
    return st;
}

static uint16_t *read_ids(const char *dir, const char *name, size_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t bytes;
    unsigned char *raw = (unsigned char *)slurp(path, &bytes);
    assert_int_equal(bytes % 2, 0);
    uint16_t *ids = malloc(bytes + 2);
    assert_non_null(ids);
    for (size_t i = 0; i < bytes / 2; i++)
        ids[i] = (uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
    free(raw);
    *n = bytes / 2;
    return ids;
}

static void test_prepare_filter_bounds(void **state) {
    workdir w;
    workdir_make(&w, *state);
    write_bounds_corpus(&w);
    assert_int_equal(prepare(&w, w.out, TS_CLEAN_DEFAULT), TS_OK);

    cJSON *d = read_json(w.out, "dataset.json");
    assert_int_equal(json_num(d, "counts.read"), 5);
    assert_int_equal(json_num(d, "counts.records_without_abc"), 0);
    assert_int_equal(json_num(d, "counts.dropped.empty_after_cleaning"), 0);
    assert_int_equal(json_num(d, "counts.dropped.too_short"), 1);
    assert_int_equal(json_num(d, "counts.dropped.too_long"), 1);
    assert_int_equal(json_num(d, "counts.dropped.duplicate"), 1);
    assert_int_equal(json_num(d, "counts.dropped.subsampled"), 0);
    assert_int_equal(json_num(d, "counts.kept"), 2);
    assert_int_equal(json_num(d, "counts.groups"), 2);
    assert_string_equal(json_str(d, "options", "clean"), "default");
    /* Two groups are too few for val and test: everything is train. One <SOS> and one <EOS>
     * per tune. */
    assert_int_equal(json_num(d, "splits.train.tunes"), 2);
    assert_int_equal(json_num(d, "splits.train.characters"), 50 + 5000);
    assert_int_equal(json_num(d, "splits.train.tokens"), 52 + 5002);
    assert_int_equal(json_num(d, "splits.val.tunes"), 0);
    assert_int_equal(json_num(d, "splits.test.tokens"), 0);
    /* Characters of the kept tunes: \n 2 3 : C K X a. */
    assert_int_equal(json_num(d, "vocab_size"), 4 + 8);

    size_t n;
    uint16_t *ids = read_ids(w.out, "train.bin", &n);
    assert_int_equal(n, 5054);
    /* Ids: \n=4 2=5 3=6 :=7 C=8 K=9 X=10 a=11. The tune "X:2\nK:C\naa..." comes first. */
    const uint16_t head[] = {2, 10, 7, 5, 4, 9, 7, 8, 4, 11, 11};
    assert_memory_equal(ids, head, sizeof head);
    assert_int_equal(ids[51], 3);
    assert_int_equal(ids[52], 2);
    assert_int_equal(ids[55], 6); /* "X:3" */
    assert_int_equal(ids[n - 2], 11);
    assert_int_equal(ids[n - 1], 3);
    free(ids);

    /* Seed cleaning of the same corpus: one line per tune, and the 5000 and 5001 character
     * tunes (500 or more after collapsing) are emptied rather than filtered as too long. */
    char out2[256];
    snprintf(out2, sizeof out2, "%s/out-seed", w.root);
    assert_int_equal(prepare(&w, out2, TS_CLEAN_SEED), TS_OK);
    cJSON *s = read_json(out2, "dataset.json");
    assert_string_equal(json_str(s, "options", "clean"), "seed");
    assert_int_equal(json_num(s, "counts.read"), 5);
    assert_int_equal(json_num(s, "counts.dropped.empty_after_cleaning"), 2);
    assert_int_equal(json_num(s, "counts.dropped.too_short"), 1);
    assert_int_equal(json_num(s, "counts.dropped.too_long"), 0);
    assert_int_equal(json_num(s, "counts.dropped.duplicate"), 1);
    assert_int_equal(json_num(s, "counts.kept"), 1);
    assert_int_equal(json_num(s, "vocab_size"), 4 + 7); /* space 2 : C K X a; no newline */
    assert_string_not_equal(json_str(d, "dataset_hash", NULL), json_str(s, "dataset_hash", NULL));
    assert_string_not_equal(json_str(d, "cache_key", NULL), json_str(s, "cache_key", NULL));
    ids = read_ids(out2, "train.bin", &n);
    assert_int_equal(n, 52);
    /* Ids: ' '=4 2=5 :=6 C=7 K=8 X=9 a=10: "<SOS>X:2 K:C aa...<EOS>". */
    const uint16_t seed_head[] = {2, 9, 6, 5, 4, 8, 6, 7, 4, 10, 10};
    assert_memory_equal(ids, seed_head, sizeof seed_head);
    assert_int_equal(ids[51], 3);
    free(ids);

    cJSON_Delete(d);
    cJSON_Delete(s);
}

/* Bad bounds are a usage error; a run that drops every tune fails and leaves no output. */
static void test_prepare_filter_errors(void **state) {
    workdir w;
    workdir_make(&w, *state);
    write_bounds_corpus(&w);
    const char *inputs[1] = {w.in};
    ts_prepare_options o;
    ts_prepare_options_default(&o);
    o.inputs = inputs;
    o.n_inputs = 1;
    o.out_dir = w.out;
    o.cache_dir = w.cache;
    int cached;
    o.min_len = 100;
    o.max_len = 99;
    assert_int_equal(ts_data_prepare(&o, &cached), TS_EUSAGE);
    o.min_len = 6000;
    o.max_len = 7000;
    ts_clear_error();
    assert_int_equal(ts_data_prepare(&o, &cached), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "dropped"));
    assert_false(ts_is_dir(w.out));
    /* Exact bounds keep exactly the tunes of those lengths: 50 only (its copy is a duplicate). */
    o.min_len = 50;
    o.max_len = 50;
    assert_int_equal(ts_data_prepare(&o, &cached), TS_OK);
    cJSON *d = read_json(w.out, "dataset.json");
    assert_int_equal(json_num(d, "counts.kept"), 1);
    assert_int_equal(json_num(d, "counts.dropped.too_short"), 1);
    assert_int_equal(json_num(d, "counts.dropped.too_long"), 2);
    assert_int_equal(json_num(d, "counts.dropped.duplicate"), 1);
    cJSON_Delete(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_mode),
        cmocka_unit_test(test_default_keeps_header_lines),
        cmocka_unit_test(test_seed_mode),
        cmocka_unit_test(test_seed_unicode_whitespace),
        cmocka_unit_test(test_seed_length_limit),
        cmocka_unit_test_setup_teardown(test_prepare_filter_bounds, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_prepare_filter_errors, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
