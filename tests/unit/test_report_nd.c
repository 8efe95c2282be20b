/*
 * test_report_nd.c — the report's L(N, D) section (src/analysis/report_nd.c) on a synthetic
 * result set: Transformer runs on a 4 × 4 grid of sizes and budgets whose val loss follows a
 * known law exactly, one more run that repeats data (and is off the law, so fitting it would
 * show), and LSTM runs at a single budget (no section for them). The section must recover the
 * law, leave the repeated run out, flag few tokens per parameter, and reach summary.md and
 * summary.json; a set with one budget everywhere gets no section.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"
#include "util/fsutil.h"

static const ts_nd_law LAW = {1.2, 60.0, 0.3, 300.0, 0.35};
#define TRAIN_TOKENS 2e9

static void write_run(const char *root, const char *family, double params, double tokens,
                      double val_loss) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/runs/cpu/%s-%.0f-d%.0f", root, family, params, tokens);
    assert_int_equal(ts_mkdir_p(dir), TS_OK);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "tunescale.run/1");
    cJSON_AddStringToObject(j, "status", "ok");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "device"), "backend", "cpu");
    cJSON *m = cJSON_AddObjectToObject(j, "model");
    char name[64];
    snprintf(name, sizeof name, "%s-%.0f", family, params);
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "family", family);
    cJSON_AddNumberToObject(m, "params", params);
    cJSON_AddNumberToObject(m, "params_non_embedding", params);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(j, "dataset"), "train_tokens", TRAIN_TOKENS);
    cJSON_AddNumberToObject(j, "val_loss", val_loss);
    cJSON_AddNumberToObject(j, "tokens", tokens);
    cJSON_AddNumberToObject(j, "flops_per_token", 6.0 * params);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/result.json", dir);
    assert_int_equal(ts_write_file_atomic(path, text, strlen(text)), TS_OK);
    free(text);
}

static const double SIZES[] = {1e5, 3e5, 1e6, 3e6};
static const double BUDGETS[] = {1e6, 1e7, 1e8, 1e9};

static void assert_rel(double got, double want, double tol) {
    double rel = fabs(got - want) / fabs(want);
    if (!(rel <= tol))
        fail_msg("got %.10g, want %.10g (relative error %.3g > %.3g)", got, want, rel, tol);
}

static char *read_text(const char *dir, const char *name) {
    char path[4200], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    return text;
}

static void section_fits_flags_and_writes(void **state) {
    const char *dir = *state;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            write_run(dir, "transformer", SIZES[i], BUDGETS[j],
                      ts_nd_law_eval(&LAW, SIZES[i], BUDGETS[j]));
    /* 2 epochs, and 0.5 above the law: it must be flagged and kept out of the fit */
    write_run(dir, "transformer", 1e6, 2 * TRAIN_TOKENS, ts_nd_law_eval(&LAW, 1e6, 4e9) + 0.5);
    for (int i = 0; i < 4; i++)
        write_run(dir, "lstm", SIZES[i], 1e7, 3.0 - 0.1 * i);
    ts_report_options opt;
    ts_report_options_default(&opt);
    opt.bootstrap = 200;
    opt.plots = 0;
    opt.quiet = 1;
    ts_report rep;
    assert_int_equal(ts_report_build(dir, &opt, &rep), TS_OK);
    assert_int_equal(rep.nd.n_groups, 1); /* the LSTMs trained one budget */
    const ts_nd_group *g = &rep.nd.groups[0];
    assert_string_equal(g->family, "transformer");
    assert_true(g->fit.ok);
    assert_int_equal(g->fit.n_points, 16);
    assert_rel(g->fit.law.E, LAW.E, 1e-4);
    assert_rel(g->fit.law.alpha, LAW.alpha, 1e-4);
    assert_rel(g->fit.law.beta, LAW.beta, 1e-4);
    assert_rel(g->k, 6.0, 1e-12);
    double n_opt, d_opt;
    assert_true(ts_nd_frontier(&LAW, 6.0, 1e17, &n_opt, &d_opt));
    assert_rel(g->fit.n_opt[2], n_opt, 1e-3);
    assert_rel(g->fit.d_opt[2], d_opt, 1e-3);
    int repeated = 0, few = 0;
    for (size_t i = 0; i < rep.set.n; i++) {
        const ts_run *r = &rep.set.runs[i];
        const ts_nd_run *x = &rep.nd.runs[i];
        assert_rel(x->tokens_per_param, r->tokens / r->params, 1e-12);
        if (x->repeated) {
            repeated++;
            assert_rel(x->epochs, 2.0, 1e-12);
            assert_false(x->fitted);
            assert_true(isnan(x->residual));
        }
        assert_int_equal(x->few_tokens, r->tokens < r->params);
        few += x->few_tokens;
        if (x->fitted) assert_true(fabs(x->residual) < 1e-6);
    }
    assert_int_equal(repeated, 1);
    assert_int_equal(few, 1); /* the 3M Transformer on 1M tokens */
    assert_int_equal(ts_report_save(&rep), TS_OK);
    ts_report_free(&rep);

    char *md = read_text(dir, "summary.md");
    assert_non_null(strstr(md, "## L(N, D)"));
    assert_non_null(strstr(md, "### Compute-optimal frontier"));
    assert_non_null(strstr(md, "| cpu | transformer | 1e+19 |"));
    assert_non_null(strstr(md, "repeats data (not fitted)"));
    free(md);
    char *text = read_text(dir, "summary.json");
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *fits = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "nd"), "fits");
    assert_int_equal(cJSON_GetArraySize(fits), 1);
    const cJSON *alpha =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(fits, 0), "params"), "alpha");
    assert_rel(cJSON_GetObjectItem(alpha, "value")->valuedouble, LAW.alpha, 1e-4);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(alpha, "lo")));
    const cJSON *table =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(fits, 0), "frontier"), "table");
    assert_int_equal(cJSON_GetArraySize(table), TS_ND_N_BUDGETS);
    cJSON_Delete(doc);
}

static void one_budget_gets_no_section(void **state) {
    const char *dir = *state;
    for (int i = 0; i < 4; i++)
        write_run(dir, "transformer", SIZES[i], 1e7, ts_nd_law_eval(&LAW, SIZES[i], 1e7));
    ts_report_options opt;
    ts_report_options_default(&opt);
    opt.bootstrap = 0;
    opt.plots = 0;
    opt.quiet = 1;
    assert_int_equal(ts_report_write(dir, &opt), TS_OK);
    char *md = read_text(dir, "summary.md");
    assert_null(strstr(md, "L(N, D)"));
    free(md);
    char *text = read_text(dir, "summary.json");
    assert_null(strstr(text, "\"nd\""));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(section_fits_flags_and_writes, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(one_budget_gets_no_section, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
