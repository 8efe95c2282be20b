/*
 * test_vocab.c — unit tests for the character vocabulary (src/data/vocab.c) and for the token
 * files `data prepare` encodes with it.
 *
 * Ids are worked out by hand from the rule "4 specials, then the corpus's code points in
 * ascending order"; the .bin check reads little-endian uint16 ids back and decodes them.
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

#include "data/prepare.h"
#include "data/vocab.h"
#include "util/fsutil.h"

/* " " a b c é ü ♯ — U+0020 U+0061 U+0062 U+0063 U+00E9 U+00FC U+266F — ids 4..10. */
static const char *TEXT_A = "abc \xc3\xa9";
static const char *TEXT_B = "\xc3\xbc"
                            "b\xe2\x99\xaf";

static void build(ts_vocab *v) {
    const char *texts[2] = {TEXT_A, TEXT_B};
    assert_int_equal(ts_vocab_build(v, texts, 2), TS_OK);
}

/* Each test that needs files gets a fresh mkdtemp folder as its state; the teardown removes it
 * even when the test fails. */
static void write_text(const char *dir, const char *name, const char *text, char *path,
                       size_t cap) {
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* ---- building, encoding, decoding ---- */

static void test_build_order(void **state) {
    (void)state;
    ts_vocab v;
    build(&v);
    const uint32_t want[] = {0x20, 0x61, 0x62, 0x63, 0xE9, 0xFC, 0x266F};
    assert_int_equal(v.n_chars, 7);
    assert_memory_equal(v.cps, want, sizeof want);
    assert_int_equal(ts_vocab_size(&v), 11);
    assert_int_equal(ts_vocab_id(&v, ' '), 4);
    assert_int_equal(ts_vocab_id(&v, 'a'), 5);
    assert_int_equal(ts_vocab_id(&v, 0xE9), 8);
    assert_int_equal(ts_vocab_id(&v, 0x266F), 10);
    assert_int_equal(ts_vocab_id(&v, 'z'), TS_TOK_UNK);
    assert_int_equal(ts_vocab_id(&v, 0x1F600), TS_TOK_UNK);
    ts_vocab_free(&v);
    assert_null(v.cps);

    /* No texts: only the specials. */
    assert_int_equal(ts_vocab_build(&v, NULL, 0), TS_OK);
    assert_int_equal(ts_vocab_size(&v), TS_N_SPECIAL);
    ts_vocab_free(&v);
}

static void test_encode_decode(void **state) {
    (void)state;
    ts_vocab v;
    build(&v);
    uint16_t ids[16];
    assert_int_equal(ts_vocab_encode(&v, TEXT_A, strlen(TEXT_A), ids), 5);
    const uint16_t want_a[] = {5, 6, 7, 4, 8};
    assert_memory_equal(ids, want_a, sizeof want_a);
    char out[64];
    assert_int_equal(ts_vocab_decode(&v, ids, 5, out, sizeof out), strlen(TEXT_A));
    assert_string_equal(out, TEXT_A);

    assert_int_equal(ts_vocab_encode(&v, TEXT_B, strlen(TEXT_B), ids), 3);
    const uint16_t want_b[] = {9, 6, 10};
    assert_memory_equal(ids, want_b, sizeof want_b);
    assert_int_equal(ts_vocab_decode(&v, ids, 3, out, sizeof out), strlen(TEXT_B));
    assert_string_equal(out, TEXT_B);

    /* Only len bytes are encoded. */
    assert_int_equal(ts_vocab_encode(&v, TEXT_A, 2, ids), 2);
    assert_int_equal(ids[1], 6);
    ts_vocab_free(&v);
}

static void test_unknown_and_specials(void **state) {
    (void)state;
    ts_vocab v;
    build(&v);
    uint16_t ids[8];
    assert_int_equal(ts_vocab_encode(&v, "azb", 3, ids), 3);
    assert_int_equal(ids[0], 5);
    assert_int_equal(ids[1], TS_TOK_UNK);
    assert_int_equal(ids[2], 6);
    char out[32];
    assert_int_equal(ts_vocab_decode(&v, ids, 3, out, sizeof out), 5);
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b");
    /* <SOS>, <EOS> and <PAD> are dropped. */
    const uint16_t framed[] = {TS_TOK_SOS, 5, TS_TOK_EOS, TS_TOK_PAD, 6, TS_TOK_PAD};
    assert_int_equal(ts_vocab_decode(&v, framed, 6, out, sizeof out), 2);
    assert_string_equal(out, "ab");
    /* Too small a buffer (room for the text and its NUL is needed). */
    const uint16_t abc[] = {5, 6, 7};
    assert_int_equal(ts_vocab_decode(&v, abc, 3, out, 3), (size_t)-1);
    assert_int_equal(ts_vocab_decode(&v, abc, 3, out, 4), 3);
    assert_string_equal(out, "abc");
    ts_vocab_free(&v);
}

/* ---- vocab.json ---- */

static void test_save_load(void **state) {
    const char *dir = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    ts_vocab v, w;
    build(&v);
    assert_int_equal(ts_vocab_save(&v, path), TS_OK);
    assert_int_equal(ts_vocab_load(&w, path), TS_OK);
    assert_int_equal(w.n_chars, v.n_chars);
    assert_memory_equal(w.cps, v.cps, v.n_chars * sizeof *v.cps);

    /* The file itself, read with cJSON. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "schema")->valuestring,
                        "tunescale.vocab/1");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "size")->valuedouble, 11);
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(j, "tokens");
    const char *want[11] = {"<PAD>", "<UNK>", "<SOS>",    "<EOS>",    " ",           "a",
                            "b",     "c",     "\xc3\xa9", "\xc3\xbc", "\xe2\x99\xaf"};
    assert_int_equal(cJSON_GetArraySize(tokens), 11);
    for (int i = 0; i < 11; i++)
        assert_string_equal(cJSON_GetArrayItem(tokens, i)->valuestring, want[i]);
    const cJSON *c2i = cJSON_GetObjectItemCaseSensitive(j, "char2idx");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c2i, "\xe2\x99\xaf")->valuedouble, 10);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c2i, "<SOS>")->valuedouble, 2);
    const cJSON *i2c = cJSON_GetObjectItemCaseSensitive(j, "idx2char");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(i2c, "8")->valuestring, "\xc3\xa9");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(i2c, "1")->valuestring, "<UNK>");
    cJSON_Delete(j);

    ts_vocab_free(&v);
    ts_vocab_free(&w);
}

static void expect_load_error(const char *dir, const char *name, const char *text) {
    char path[4096];
    write_text(dir, name, text, path, sizeof path);
    ts_vocab v;
    ts_clear_error();
    assert_int_equal(ts_vocab_load(&v, path), TS_ERR);
    assert_non_null(strstr(ts_last_error(), name));
    assert_null(v.cps);
    assert_int_equal(v.n_chars, 0);
}

static void test_load_corrupt(void **state) {
    const char *dir = *state;
    expect_load_error(dir, "notjson.json", "this is not { json");
    expect_load_error(dir, "object.json", "{\"schema\": \"tunescale.vocab/1\"}");
    expect_load_error(dir, "short.json", "{\"tokens\": [\"<PAD>\", \"<UNK>\"]}");
    expect_load_error(dir, "specials.json",
                      "{\"tokens\": [\"<PAD>\", \"<SOS>\", \"<UNK>\", \"<EOS>\", \"a\"]}");
    expect_load_error(dir, "order.json",
                      "{\"tokens\": [\"<PAD>\", \"<UNK>\", \"<SOS>\", \"<EOS>\", \"b\", \"a\"]}");
    expect_load_error(dir, "twochars.json",
                      "{\"tokens\": [\"<PAD>\", \"<UNK>\", \"<SOS>\", \"<EOS>\", \"ab\"]}");
    expect_load_error(dir, "number.json",
                      "{\"tokens\": [\"<PAD>\", \"<UNK>\", \"<SOS>\", \"<EOS>\", 7]}");
    ts_vocab v;
    char path[4096];
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(ts_vocab_load(&v, path), TS_ERR);
    /* A hand-written minimal file loads. */
    write_text(dir, "ok.json",
               "{\"tokens\": [\"<PAD>\", \"<UNK>\", \"<SOS>\", \"<EOS>\", \"\\n\", \"a\"]}", path,
               sizeof path);
    assert_int_equal(ts_vocab_load(&v, path), TS_OK);
    assert_int_equal(v.n_chars, 2);
    assert_int_equal(v.cps[0], '\n');
    assert_int_equal(v.cps[1], 'a');
    ts_vocab_free(&v);
}

/* ---- token files from data prepare ---- */

/* 24 and 25 characters. Their 24 distinct characters sorted: \n space 1 2 : A B C D E F G K O
 * T X a c d e f n | é, ids 4..27. */
static const char *TUNE_1 = "X:1\nT:One\nK:G\nGABc dedB|";
static const char *TUNE_2 = "X:2\nT:Caf\xc3\xa9\nK:D\nDEFG ABcd|";

static int seed_clean = 0; /* prepare_and_read uses --clean seed when set */

static uint16_t *prepare_and_read(const char *root, const char *out_name, ts_framing framing,
                                  size_t *n, ts_vocab *v) {
    char in[4096], out[4096], cache[4096], path[8192];
    snprintf(in, sizeof in, "%s/in", root);
    snprintf(out, sizeof out, "%s/%s", root, out_name);
    snprintf(cache, sizeof cache, "%s/cache", root);
    const char *inputs[1] = {in};
    ts_prepare_options o;
    ts_prepare_options_default(&o);
    o.inputs = inputs;
    o.n_inputs = 1;
    o.out_dir = out;
    o.cache_dir = cache;
    o.min_len = 10;
    o.framing = framing;
    if (seed_clean) o.clean = TS_CLEAN_SEED;
    int cached;
    assert_int_equal(ts_data_prepare(&o, &cached), TS_OK);
    snprintf(path, sizeof path, "%s/vocab.json", out);
    assert_int_equal(ts_vocab_load(v, path), TS_OK);
    snprintf(path, sizeof path, "%s/train.bin", out);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char raw[1024];
    size_t bytes = fread(raw, 1, sizeof raw, f);
    fclose(f);
    assert_int_equal(bytes % 2, 0);
    uint16_t *ids = malloc(bytes + 2);
    assert_non_null(ids);
    for (size_t i = 0; i < bytes / 2; i++)
        ids[i] = (uint16_t)(raw[2 * i] | (unsigned)raw[2 * i + 1] << 8);
    *n = bytes / 2;
    return ids;
}

static void test_prepared_bin_decodes(void **state) {
    const char *root = *state;
    char in[4096], path[8192], body[256];
    snprintf(in, sizeof in, "%s/in", root);
    assert_int_equal(mkdir(in, 0777), 0);
    snprintf(body, sizeof body, "%s\n\n%s\n", TUNE_1, TUNE_2);
    write_text(in, "two.abc", body, path, sizeof path);

    /* <SOS> tune <EOS>, twice: 24 + 25 characters plus 4 specials. */
    ts_vocab v;
    size_t n;
    uint16_t *ids = prepare_and_read(root, "out", TS_FRAMING_SOS_EOS, &n, &v);
    assert_int_equal(ts_vocab_size(&v), 28);
    assert_int_equal(n, 53);
    /* <SOS> X : 1 \n T : O n e \n */
    const uint16_t head[] = {TS_TOK_SOS, 19, 8, 6, 4, 18, 8, 17, 25, 23, 4};
    assert_memory_equal(ids, head, sizeof head);
    assert_int_equal(ids[25], TS_TOK_EOS);
    assert_int_equal(ids[26], TS_TOK_SOS);
    assert_int_equal(ids[52], TS_TOK_EOS);
    char text[256];
    assert_int_equal(ts_vocab_decode(&v, ids + 1, 24, text, sizeof text), strlen(TUNE_1));
    assert_string_equal(text, TUNE_1);
    assert_int_equal(ts_vocab_decode(&v, ids + 27, 25, text, sizeof text), strlen(TUNE_2));
    assert_string_equal(text, TUNE_2);
    assert_int_equal(ids[27 + 9], 27); /* é, the highest code point, has the last id */
    free(ids);
    ts_vocab_free(&v);

    /* Newline framing: tune '\n' tune '\n', with no specials; '\n' has the first char id. */
    ids = prepare_and_read(root, "out-nl", TS_FRAMING_NEWLINE, &n, &v);
    assert_int_equal(n, 51);
    assert_int_equal(ts_vocab_id(&v, '\n'), 4);
    assert_int_equal(ids[24], 4);
    assert_int_equal(ids[50], 4);
    for (size_t i = 0; i < n; i++)
        assert_true(ids[i] >= TS_N_SPECIAL);
    assert_int_equal(ts_vocab_decode(&v, ids, n, text, sizeof text),
                     strlen(TUNE_1) + strlen(TUNE_2) + 2);
    snprintf(body, sizeof body, "%s\n%s\n", TUNE_1, TUNE_2);
    assert_string_equal(text, body);
    free(ids);
    ts_vocab_free(&v);
}

/* Regression: seed cleaning removes every newline from the tunes, yet newline framing separates
 * tunes with '\n'; the separator must still be a real vocabulary entry, not <UNK>. */
static void test_seed_clean_newline_separator(void **state) {
    const char *root = *state;
    char in[4096], path[8192], body[256];
    snprintf(in, sizeof in, "%s/in", root);
    assert_int_equal(mkdir(in, 0777), 0);
    snprintf(body, sizeof body, "%s\n\n%s\n", TUNE_1, TUNE_2);
    write_text(in, "two.abc", body, path, sizeof path);
    ts_vocab v;
    size_t n;
    seed_clean = 1;
    uint16_t *ids = prepare_and_read(root, "out-seed", TS_FRAMING_NEWLINE, &n, &v);
    seed_clean = 0;
    uint16_t nl = ts_vocab_id(&v, '\n');
    assert_int_not_equal(nl, TS_TOK_UNK);
    size_t separators = 0, unknown = 0;
    for (size_t i = 0; i < n; i++) {
        separators += ids[i] == nl;
        unknown += ids[i] == TS_TOK_UNK;
    }
    assert_int_equal(separators, 2); /* one after each tune, none inside (seed collapses) */
    assert_int_equal(unknown, 0);
    assert_int_equal(ids[n - 1], nl);
    free(ids);
    ts_vocab_free(&v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_order),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_unknown_and_specials),
        cmocka_unit_test_setup_teardown(test_save_load, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_load_corrupt, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_prepared_bin_decodes, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_seed_clean_newline_separator, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
