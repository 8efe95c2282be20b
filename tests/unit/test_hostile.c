/* test_hostile.c — issue 25's parsers on hostile input, at the function level (scripts/sanitize.sh
 * runs it under ASan): record ingest with 200 kB ids, the checked training state of --resume,
 * preset ranges and sizes, model shapes and names, and the name rule for files and folders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/ingest.h"
#include "data/tunes.h"
#include "model/config.h"
#include "sweep/preset.h"
#include "train/train_state.h"
#include "util/fsutil.h"

/* Item 1: ids of 200 kB went into the header without being counted in the buffer's size. */
static void long_ids_fit_the_header(void **state) {
    (void)state;
    size_t big = 200000;
    char *id = malloc(big + 1);
    memset(id, '9', big);
    id[big] = 0;
    const char *body = "|:GABc dedB|dedB dedB:|";
    size_t cap = 2 * big + 4096;
    char *json = malloc(cap), *csv = malloc(cap);
    snprintf(json, cap,
             "[{\"setting_id\": \"%s\", \"tune_id\": \"%s\", \"name\": \"T\", \"mode\": "
             "\"Gmajor\", \"abc\": \"%s\"}]",
             id, id, body);
    snprintf(csv, cap, "setting_id,tune_id,mode,abc\n%s,%s,Dmixolydian,\"%s\"\n", id, id, body);
    for (int k = 0; k < 2; k++) {
        ts_tune_list l = {0};
        uint32_t added = 0, without = 0;
        ts_status st = k ? ts_ingest_csv(csv, strlen(csv), "x.csv", &l, &added, &without)
                         : ts_ingest_json(json, strlen(json), "x.json", &l, &added, &without);
        assert_int_equal(st, TS_OK);
        assert_int_equal(added, 1);
        const char *t = l.v[0].text;
        assert_int_equal(strncmp(t, "X:", 2), 0);
        assert_int_equal(strspn(t + 2, "9"), big); /* the whole id, not a truncated one */
        assert_non_null(strstr(t, k ? "K:Dmix\n" : "K:Gmaj\n"));
        assert_string_equal(t + strlen(t) - strlen(body), body);
        ts_tunes_free(&l);
    }
    free(id);
    free(json);
    free(csv);
}

static ts_status take(const char *text, ts_train_state *ts) {
    cJSON *j = cJSON_Parse(text);
    ts_status st = ts_train_state_take(j, "ckpt", ts);
    cJSON_Delete(j);
    return st;
}

/* Item 3: every field --resume uses is checked; a good state comes back as written. */
static void training_state_is_checked(void **state) {
    (void)state;
    ts_train_state ts;
    assert_int_equal(take("{\"step\": 3, \"train_time_s\": 1.5, \"tokens_seen\": 96, "
                          "\"nonfinite_skipped\": 1, \"curve\": [[1, 32, 4.5, 0.001, 1.0], "
                          "[2, 64, null, 0.001, null], [3, 96, 4.0, 0.001, 0.5]]}",
                          &ts),
                     TS_OK);
    assert_int_equal(ts.step, 3);
    assert_int_equal(ts.nonfinite_skipped, 1);
    assert_true(ts.train_time_s == 1.5 && ts.tokens_seen == 96);
    assert_int_equal(cJSON_GetArraySize(ts.curve), 3);
    cJSON_Delete(ts.curve);
    static const char *const bad[] = {
        "{\"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, \"curve\": []}",
        "{\"step\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, \"curve\": []}",
        "{\"step\": 1, \"train_time_s\": 1, \"nonfinite_skipped\": 0, \"curve\": []}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"curve\": []}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0}",
        "{\"step\": \"5\", \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": []}",
        "{\"step\": 1.5, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": []}",
        "{\"step\": -1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": []}",
        "{\"step\": 1e300, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": []}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 2, "
        "\"curve\": []}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": {\"a\": 1}}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": [[1, 2]]}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": [[1, 2, \"x\", 4, 5]]}",
        "{\"step\": 1, \"train_time_s\": 1, \"tokens_seen\": 1, \"nonfinite_skipped\": 0, "
        "\"curve\": [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]}",
        "[1, 2]",
        "null",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(take(bad[i], &ts), TS_ERR);
        assert_null(ts.curve);
        assert_non_null(strstr(ts_last_error(), "ckpt: "));
    }
}

static ts_status preset(const char *text) {
    ts_preset p;
    ts_status st = ts_preset_parse(text, strlen(text), "p.json", &p);
    if (st == TS_OK) ts_preset_free(&p);
    return st;
}

/* Items 6, 12 and 13: out-of-range numbers, unsafe names and oversized presets are usage errors
 * naming the key; the limits themselves are accepted. */
static void preset_limits(void **state) {
    (void)state;
    assert_int_equal(preset("{\"defaults\": {\"batch\": 1048576, \"steps\": 1000000000000}, "
                            "\"models\": [\"lstm-tiny\"]}"),
                     TS_OK);
    static const char *const keys[][2] = {
        {"\"batch\": 1e12", "\"batch\""},  {"\"batch\": 0", "\"batch\""},
        {"\"steps\": 0.5", "\"steps\""},   {"\"seq_len\": 3e9", "\"seq_len\""},
        {"\"stride\": 2.5", "\"stride\""}, {"\"warmup\": -1", "\"warmup\""},
        {"\"seed\": 1e300", "\"seed\""},   {"\"lr\": 0", "\"lr\""},
        {"\"dropout\": 1", "\"dropout\""}, {"\"tokens\": 1e30", "\"tokens\""},
        {"\"epochs\": 0", "\"epochs\""},   {"\"seeds\": [1.5]", "\"seeds\""},
    };
    char text[512];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        snprintf(text, sizeof text, "{\"defaults\": {%s}, \"models\": [\"lstm-tiny\"]}",
                 keys[i][0]);
        assert_int_equal(preset(text), TS_EUSAGE);
        assert_non_null(strstr(ts_last_error(), keys[i][1]));
    }
    static const char *const names[] = {
        "../../userdata", "a/b", "..", ".hidden", "", "x y", "a..b"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(text, sizeof text,
                 "{\"models\": [{\"name\": \"%s\", \"family\": \"lstm\", \"d_model\": 8, "
                 "\"n_layers\": 1}]}",
                 names[i]);
        assert_int_equal(preset(text), TS_EUSAGE);
        assert_non_null(strstr(ts_last_error(), "\"name\""));
    }
    assert_int_equal(preset("{\"name\": \"../x\", \"models\": [\"lstm-tiny\"]}"), TS_EUSAGE);
    /* 4097 runs (models x seeds), and a preset over 1 MiB */
    size_t cap = 2 << 20;
    char *big = malloc(cap);
    size_t n = (size_t)snprintf(big, cap, "{\"defaults\": {\"seeds\": [");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s%d", i ? ", " : "", i);
    n += (size_t)snprintf(big + n, cap - n, "]}, \"models\": [");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s\"lstm-tiny\"", i ? ", " : "");
    snprintf(big + n, cap - n, "]}");
    assert_int_equal(preset(big), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "4096"));
    memset(big, ' ', cap - 1);
    big[cap - 1] = 0;
    memcpy(big, "{\"models\": [\"lstm-tiny\"]}", 25);
    assert_int_equal(preset(big), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "larger than"));
    free(big);
}

static ts_status shape(const char *text, ts_model_config *c) {
    cJSON *j = cJSON_Parse(text);
    ts_status st = ts_model_config_from_json(j, "m.json", c);
    cJSON_Delete(j);
    if (st == TS_OK) {
        c->vocab_size = 100;
        st = ts_model_config_validate(c);
    }
    return st;
}

/* Item 12: dimensions beyond their limits, parameter counts beyond any device, and names that
 * would leave the folder are refused before anything is allocated. */
static void model_shape_limits(void **state) {
    (void)state;
    ts_model_config c;
    assert_int_equal(shape("{\"name\": \"t\", \"family\": \"transformer\", \"d_model\": 32, "
                           "\"n_layers\": 2, \"n_heads\": 2}",
                           &c),
                     TS_OK);
    assert_int_equal(ts_param_count(&c), 32 * 100 * 2 + 100 + 256 * 32 + 2 * 32 +
                                             2 * (4 * 32 * 32 + 2 * 32 * 128 + 128 + 9 * 32));
    assert_int_equal(shape("{\"family\": \"lstm\", \"d_model\": 8, \"n_layers\": 1}", &c), TS_OK);
    assert_string_equal(c.name, "m"); /* from the file name, without .json */
    static const char *const bad[][2] = {
        {"{\"name\": \"h\", \"family\": \"transformer\", \"d_model\": 64, \"n_layers\": 2e9, "
         "\"n_heads\": 2}",
         "n_layers"},
        {"{\"name\": \"h\", \"family\": \"lstm\", \"d_model\": 65536, \"n_layers\": 4096}",
         "more than any device"},
        {"{\"name\": \"h\", \"family\": \"lstm\", \"d_model\": 8.5, \"n_layers\": 1}", "d_model"},
        {"{\"name\": \"h\", \"family\": \"lstm\", \"d_model\": \"8\", \"n_layers\": 1}", "d_model"},
        {"{\"name\": \"h\", \"family\": \"transformer\", \"d_model\": 8, \"n_layers\": 1, "
         "\"n_heads\": 2, \"max_seq_len\": 1e12}",
         "max_seq_len"},
        {"{\"name\": \"h\", \"family\": \"lstm\", \"d_model\": 8, \"n_layers\": 1, \"dropout\": "
         "2}",
         "dropout"},
        {"{\"name\": \"../../userdata\", \"family\": \"lstm\", \"d_model\": 8, \"n_layers\": 1}",
         "\"name\""},
        {"{\"name\": 5, \"family\": \"lstm\", \"d_model\": 8, \"n_layers\": 1}", "\"name\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(shape(bad[i][0], &c), TS_EUSAGE);
        assert_non_null(strstr(ts_last_error(), bad[i][1]));
    }
}

static void safe_names(void **state) {
    (void)state;
    static const char *const good[] = {"transformer-1M", "lstm_2.b", "a+b", "x"};
    static const char *const bad[] = {
        "",
        ".",
        "..",
        "../a",
        "a/b",
        "a\\b",
        "a b",
        ".x",
        "a..b",
        "\xc3\xa9",
        "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(ts_safe_name(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ts_safe_name(bad[i]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_ids_fit_the_header),
        cmocka_unit_test(training_state_is_checked),
        cmocka_unit_test(preset_limits),
        cmocka_unit_test(model_shape_limits),
        cmocka_unit_test(safe_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
