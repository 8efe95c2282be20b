/*
 * test_preset_tokens.c — token-budget lists in presets (src/sweep/preset.c, plan.c): a
 * "tokens" list plans one run per (size, budget, seed) with its own budget, name and folder;
 * malformed lists are refused; the bundled quick-nd preset plans its 40 pairs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sweep/plan.h"
#include "test_util.h"

static void write_text(const char *dir, const char *name, const char *text, char *path,
                       size_t cap) {
    snprintf(path, cap, "%s/%s", dir, name);
    assert_int_equal(ts_write_file_atomic(path, text, strlen(text)), TS_OK);
}

/* A dataset.json with every field its owner (data/dataset_json.c) checks; the planner reads the
 * hash, the vocabulary and the train tokens. */
static void fake_dataset(const char *dir) {
    char path[4200];
    write_text(dir, "dataset.json",
               "{\"dataset_hash\": \"abc123\", \"cache_key\": \"k\", \"vocab_size\": 100, "
               "\"options\": {\"framing\": \"sos_eos\"}, "
               "\"splits\": {\"train\": {\"tokens\": 1000000}, \"val\": {\"tokens\": 1000}, "
               "\"test\": {\"tokens\": 1000}}, "
               "\"files\": {\"vocab\": {\"file\": \"vocab.json\", \"sha256\": \"0\"}, "
               "\"train\": {\"file\": \"train.bin\", \"sha256\": \"0\"}, "
               "\"val\": {\"file\": \"val.bin\", \"sha256\": \"0\"}, "
               "\"test\": {\"file\": \"test.bin\", \"sha256\": \"0\"}, "
               "\"index\": {\"file\": \"splits.tsv\", \"sha256\": \"0\"}}}",
               path, sizeof path);
}

static const char *const GRID =
    "{\"schema\": \"tunescale.preset/1\", \"name\": \"grid\","
    " \"defaults\": {\"tokens\": [4096, 1024, 2048], \"batch\": 4, \"seq_len\": 32,"
    "               \"seeds\": [1, 2]},"
    " \"models\": ["
    "  {\"name\": \"t-a\", \"family\": \"transformer\", \"d_model\": 16, \"n_layers\": 1,"
    "   \"n_heads\": 2, \"max_seq_len\": 32},"
    "  {\"name\": \"l-b\", \"family\": \"lstm\", \"d_model\": 16, \"n_layers\": 1},"
    "  {\"name\": \"l-c\", \"family\": \"lstm\", \"d_model\": 24, \"n_layers\": 1, \"steps\": 7}]}";

static void token_list_plans_every_pair(void **state) {
    const char *dir = *state;
    char preset[4200];
    write_text(dir, "grid.json", GRID, preset, sizeof preset);
    fake_dataset(dir);
    char out[4200];
    snprintf(out, sizeof out, "%s/out", dir);
    ts_sweep_options o;
    memset(&o, 0, sizeof o);
    o.preset = preset;
    o.data_dir = dir;
    o.out_dir = out;
    o.dry_run = 1;
    char backends[1][16] = {"cpu"};
    ts_sweep_plan plan;
    assert_int_equal(ts_sweep_plan_build(&o, backends, 1, &plan), TS_OK);
    /* 2 models × 3 budgets × 2 seeds, and l-c's own "steps" replaces the list: 2 seeds */
    assert_int_equal(plan.n_runs, 2 * 3 * 2 + 2);
    const double budgets[] = {4096, 1024, 2048};
    int seen[2][3][2] = {{{0}}};
    for (int i = 0; i < plan.n_runs; i++) {
        const ts_sweep_run *r = &plan.runs[i];
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(r->dir, plan.runs[j].dir);
            assert_string_not_equal(r->key, plan.runs[j].key);
        }
        if (!strcmp(r->cfg.name, "l-c")) {
            assert_int_equal(r->hp.steps, 7);
            assert_true(r->hp.tokens == 0);
            assert_string_equal(r->entry->label, "l-c");
            continue;
        }
        int m = !strcmp(r->cfg.name, "l-b");
        int b = -1;
        for (int k = 0; k < 3; k++)
            if (r->hp.tokens == budgets[k]) b = k;
        assert_true(b >= 0);
        int s = (int)r->hp.seed - 1;
        assert_true(s == 0 || s == 1);
        seen[m][b][s]++;
        /* the run's folder names its budget: OUT/runs/cpu/MODEL-d<tokens>-sSEED-KEY */
        char want[256];
        snprintf(want, sizeof want, "/runs/cpu/%s-d%.0f-s%d-", r->cfg.name, budgets[b], s + 1);
        if (!strstr(r->dir, want)) fail_msg("%s does not hold %s", r->dir, want);
        assert_true(r->work > 0);
        /* budget by budget, in the list's order */
        if (i > 0 && strcmp(plan.runs[i - 1].cfg.name, "l-c"))
            assert_true(plan.runs[i - 1].entry->budget_index <= r->entry->budget_index);
    }
    for (int m = 0; m < 2; m++)
        for (int b = 0; b < 3; b++)
            for (int s = 0; s < 2; s++)
                assert_int_equal(seen[m][b][s], 1);
    ts_sweep_plan_free(&plan);

    /* A length on the command line would collapse the list: refused. */
    o.over.tokens = 5000;
    assert_int_equal(ts_sweep_plan_build(&o, backends, 1, &plan), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "\"tokens\" list"));
    ts_sweep_plan_free(&plan);
}

static void bad_token_lists_are_refused(void **state) {
    const char *dir = *state;
    const char *lists[] = {"[]", "[1024, 1024]", "[1024.5]", "[\"1k\"]", "[0]", "[-5]"};
    const char *says[] = {"1 to",          "twice",         "whole numbers",
                          "whole numbers", "whole numbers", "whole numbers"};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        char text[1024], path[4200];
        snprintf(text, sizeof text,
                 "{\"defaults\": {\"tokens\": %s}, \"models\": [{\"name\": \"x\", \"family\": "
                 "\"lstm\", \"d_model\": 8, \"n_layers\": 1}]}",
                 lists[i]);
        write_text(dir, "bad.json", text, path, sizeof path);
        ts_preset p;
        assert_int_equal(ts_preset_load(path, &p), TS_ERR);
        if (!strstr(ts_last_error(), says[i]))
            fail_msg("%s: error \"%s\" does not say \"%s\"", lists[i], ts_last_error(), says[i]);
    }
}

static void quick_nd_plans_forty_pairs(void **state) {
    const char *dir = *state;
    fake_dataset(dir);
    ts_sweep_options o;
    memset(&o, 0, sizeof o);
    o.preset = "quick-nd";
    o.data_dir = dir;
    o.out_dir = dir;
    o.dry_run = 1;
    char backends[1][16] = {"cpu"};
    ts_sweep_plan plan;
    assert_int_equal(ts_sweep_plan_build(&o, backends, 1, &plan), TS_OK);
    assert_int_equal(plan.n_runs, 40);
    double total = 0;
    for (int i = 0; i < plan.n_runs; i++)
        total += plan.runs[i].hp.tokens;
    assert_true(total == 10 * (65536.0 + 131072 + 262144 + 524288));
    ts_sweep_plan_free(&plan);
    assert_int_equal(ts_preset_load("seed-nd", &plan.preset), TS_OK);
    assert_int_equal(plan.preset.n_entries, 40);
    ts_preset_free(&plan.preset);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(token_list_plans_every_pair, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(bad_token_lists_are_refused, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(quick_nd_plans_forty_pairs, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
