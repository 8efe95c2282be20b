/*
 * test_report.c — `report` and `compare` on synthetic result sets written here: the rows and
 * numbers of summary.csv, skipped and corrupt runs, the fits in summary.json, the plots, and
 * the tokens/s and memory ratios of a comparison.
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

#include "analysis/compare.h"
#include "analysis/report.h"
#include "util/fsutil.h"

/* ---- writing result sets ---- */

typedef struct {
    const char *backend, *family, *model, *status;
    double params, val_loss, tokens_per_s, peak_memory;
} fake_run;

/* root/runs/<backend>/<model>/result.json, with the fields the report reads. */
static void write_run(const char *root, const fake_run *f) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/runs/%s/%s", root, f->backend, f->model);
    assert_int_equal(ts_mkdir_p(dir), TS_OK);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "tunescale.run/1");
    cJSON_AddStringToObject(j, "status", f->status);
    cJSON *dev = cJSON_AddObjectToObject(j, "device");
    cJSON_AddStringToObject(dev, "backend", f->backend);
    cJSON_AddStringToObject(dev, "name", "Test Device, rev 2"); /* a comma: CSV quoting */
    cJSON_AddNumberToObject(dev, "peak_gflops", 100.0);
    cJSON_AddNumberToObject(dev, "peak_gflops_measured", 80.0);
    cJSON *m = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(m, "name", f->model);
    cJSON_AddStringToObject(m, "family", f->family);
    cJSON_AddNumberToObject(m, "params", f->params);
    cJSON_AddNumberToObject(m, "params_non_embedding", f->params - 10000);
    if (!strcmp(f->status, "ok")) {
        cJSON_AddNumberToObject(j, "train_loss", f->val_loss - 0.1);
        cJSON_AddNumberToObject(j, "val_loss", f->val_loss);
        cJSON_AddNumberToObject(j, "val_perplexity", exp(f->val_loss));
        cJSON_AddNumberToObject(j, "tokens", 1e6);
        cJSON_AddNumberToObject(j, "wall_time_s", 1e6 / f->tokens_per_s + 2);
        cJSON_AddNumberToObject(j, "tokens_per_s", f->tokens_per_s);
        cJSON_AddNumberToObject(j, "achieved_gflops", 40.0);
        cJSON_AddNumberToObject(j, "mfu", 0.4);
        cJSON *curve = cJSON_AddObjectToObject(j, "curve");
        cJSON_AddItemToObject(
            curve, "columns",
            cJSON_CreateStringArray(
                (const char *[]){"step", "tokens", "train_loss", "lr", "grad_norm"}, 5));
        cJSON *pts = cJSON_AddArrayToObject(curve, "points");
        for (int s = 1; s <= 50; s++) {
            double row[5] = {s, s * 2e4, f->val_loss + 3.0 / s, 1e-3, 1.0};
            cJSON_AddItemToArray(pts, cJSON_CreateDoubleArray(row, 5));
        }
        cJSON_AddItemToArray(pts, cJSON_CreateNull()); /* odd rows are skipped, not fatal */
    }
    cJSON_AddNumberToObject(j, "peak_memory_bytes", f->peak_memory);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/result.json", dir);
    assert_int_equal(ts_write_file_atomic(path, text, strlen(text)), TS_OK);
    free(text);
}

static void write_text(const char *root, const char *sub, const char *text) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    assert_int_equal(ts_mkdir_p(dir), TS_OK);
    snprintf(path, sizeof path, "%s/result.json", dir);
    assert_int_equal(ts_write_file_atomic(path, text, strlen(text)), TS_OK);
}

static double law(double n) {
    return 5.0 * pow(n, -0.076) + 0.8;
}

/* Four transformer sizes on the law, two lstm sizes, one skipped run, two unreadable files. */
static void write_sweep(const char *root) {
    const double sizes[] = {1e6, 3e6, 1e7, 3e7};
    const char *names[] = {"transformer-1M", "transformer-3M", "transformer-10M",
                           "transformer-30M"};
    for (int i = 0; i < 4; i++) {
        fake_run f = {"cpu",    "transformer", names[i],       "ok",
                      sizes[i], law(sizes[i]), 1e7 / sizes[i], sizes[i] * 16};
        write_run(root, &f);
    }
    fake_run l1 = {"cpu", "lstm", "lstm-1M", "ok", 1e6, 2.6, 900, 2e7};
    fake_run l2 = {"cpu", "lstm", "lstm-3M", "ok", 3e6, 2.5, 300, 5e7};
    fake_run oom = {
        "cpu", "transformer", "transformer-100M", "skipped: out of memory", 1e8, NAN, NAN, NAN};
    write_run(root, &l1);
    write_run(root, &l2);
    write_run(root, &oom);
    write_text(root, "runs/cpu/corrupt", "{\"schema\": \"tunescale.run/1\", \"status\": \"o");
    write_text(root, "runs/cpu/future", "{\"schema\": \"tunescale.run/2\", \"status\": \"ok\"}");
}

/* ---- reading CSV back ---- */

/* Splits one CSV line (RFC 4180 quoting) into at most cap fields, in place. */
static int split_csv(char *line, char **fields, int cap) {
    int n = 0;
    char *w = line, *r = line;
    while (n < cap) {
        fields[n++] = w;
        int quoted = *r == '"';
        if (quoted) r++;
        for (; *r; r++) {
            if (quoted && *r == '"' && r[1] == '"') {
                *w++ = '"';
                r++;
            } else if (quoted && *r == '"') {
                quoted = 0;
            } else if (!quoted && (*r == ',' || *r == '\n')) {
                break;
            } else {
                *w++ = *r;
            }
        }
        int more = *r == ',';
        *w++ = '\0';
        if (!more) break;
        r++;
        w = r;
    }
    return n;
}

static int column(char **header, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(header[i], name)) return i;
    fail_msg("summary.csv has no column '%s'", name);
    return -1;
}

/* ---- report ---- */

static void report_writes_summary(void **state) {
    const char *root = *state;
    write_sweep(root);
    ts_report_options opt;
    ts_report_options_default(&opt);
    opt.bootstrap = 100;
    opt.quiet = 1;
    assert_int_equal(ts_report_write(root, &opt), TS_OK);

    char path[4200], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/summary.csv", root);
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    char *lines[16], *save = NULL;
    int nl = 0;
    for (char *l = strtok_r(text, "\n", &save); l && nl < 16; l = strtok_r(NULL, "\n", &save))
        lines[nl++] = l;
    assert_int_equal(nl, 1 + 7); /* header + 7 readable runs; the two bad files are not rows */
    char *h[32], *rows[8][32], **f;
    int nh = split_csv(lines[0], h, 32);
    int c_model = column(h, nh, "model"), c_status = column(h, nh, "status");
    int c_params = column(h, nh, "params"), c_loss = column(h, nh, "val_loss");
    int c_tps = column(h, nh, "tokens_per_s"), c_dev = column(h, nh, "device");
    int c_mfu = column(h, nh, "mfu"), c_mfu2 = column(h, nh, "mfu_measured");
    int c_mem = column(h, nh, "peak_memory_bytes"), c_ppl = column(h, nh, "val_perplexity");
    /* sorted by backend, family, params: lstm first, the skipped transformer-100M last */
    const char *order[] = {"lstm-1M",         "lstm-3M",         "transformer-1M",
                           "transformer-3M",  "transformer-10M", "transformer-30M",
                           "transformer-100M"};
    for (int i = 1; i < nl; i++) {
        f = rows[i - 1];
        assert_int_equal(split_csv(lines[i], f, 32), nh);
        assert_string_equal(f[c_model], order[i - 1]);
        assert_string_equal(f[c_dev], "Test Device, rev 2");
    }
    f = rows[3]; /* transformer-3M */
    assert_string_equal(f[c_status], "ok");
    assert_true(fabs(atof(f[c_params]) - 3e6) < 1e-6);
    assert_true(fabs(atof(f[c_loss]) - law(3e6)) < 1e-8);
    assert_true(fabs(atof(f[c_ppl]) - exp(law(3e6))) < 1e-6);
    assert_true(fabs(atof(f[c_tps]) - 1e7 / 3e6) < 1e-8);
    assert_true(fabs(atof(f[c_mfu]) - 0.4) < 1e-12);
    assert_true(fabs(atof(f[c_mfu2]) - 0.5) < 1e-12); /* 40 GFLOP/s of a measured 80 */
    assert_true(fabs(atof(f[c_mem]) - 48e6) < 1e-3);
    f = rows[6]; /* the skipped run keeps its row and status, no figures */
    assert_string_equal(f[c_status], "skipped: out of memory");
    assert_string_equal(f[c_loss], "");
    assert_string_equal(f[c_tps], "");
    free(text);

    /* summary.json: the transformer law comes back, two lstm sizes are not enough */
    snprintf(path, sizeof path, "%s/summary.json", root);
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    cJSON *counts = cJSON_GetObjectItem(doc, "counts");
    assert_int_equal(cJSON_GetObjectItem(counts, "runs")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(counts, "skipped")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(counts, "unreadable_files")->valueint, 2);
    int seen = 0;
    cJSON *fit;
    cJSON_ArrayForEach(fit, cJSON_GetObjectItem(doc, "fits")) {
        const char *fam = cJSON_GetObjectItem(fit, "family")->valuestring;
        const char *n = cJSON_GetObjectItem(fit, "n")->valuestring;
        if (!strcmp(fam, "lstm")) {
            assert_false(cJSON_IsTrue(cJSON_GetObjectItem(fit, "ok")));
            assert_non_null(
                strstr(cJSON_GetObjectItem(fit, "reason")->valuestring, "not enough sizes"));
        } else if (!strcmp(n, "params")) {
            assert_true(cJSON_IsTrue(cJSON_GetObjectItem(fit, "ok")));
            assert_int_equal(cJSON_GetObjectItem(fit, "points")->valueint, 4); /* OOM left out */
            assert_true(fabs(cJSON_GetObjectItem(fit, "alpha")->valuedouble - 0.076) < 1e-5);
            assert_true(fabs(cJSON_GetObjectItem(fit, "c")->valuedouble - 0.8) < 1e-4);
        }
        seen++;
    }
    assert_int_equal(seen, 4); /* (cpu, lstm) and (cpu, transformer), each on two sizes */
    cJSON_Delete(doc);

    const char *files[] = {"summary.md",
                           "plots/val_loss_vs_params.svg",
                           "plots/val_loss_vs_params.png",
                           "plots/perplexity_vs_params.png",
                           "plots/train_loss_vs_tokens_cpu.png",
                           "plots/tokens_per_s.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        if (!ts_is_file(path)) fail_msg("report did not write %s", files[i]);
    }
    snprintf(path, sizeof path, "%s/summary.md", root);
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    assert_non_null(strstr(text, "skipped: out of memory"));
    assert_non_null(strstr(text, "not enough sizes"));
    assert_non_null(strstr(text, "plots/val_loss_vs_params.png"));
    free(text);
}

static void report_errors_name_the_folder(void **state) {
    const char *root = *state;
    char path[4200];
    ts_report_options opt;
    ts_report_options_default(&opt);
    opt.quiet = 1;
    snprintf(path, sizeof path, "%s/missing", root);
    assert_int_equal(ts_report_write(path, &opt), TS_ERR);
    assert_non_null(strstr(ts_last_error(), path));
    /* an empty folder, then one whose only result.json is corrupt */
    assert_int_equal(ts_report_write(root, &opt), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "no result.json"));
    write_text(root, "runs/cpu/x", "not json at all");
    assert_int_equal(ts_report_write(root, &opt), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "could be read"));
}

static void parse_refuses_other_major_versions(void **state) {
    (void)state;
    ts_run r;
    assert_int_equal(ts_run_parse("a/result.json", "{\"schema\":\"tunescale.run/2\"}", &r), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "a/result.json"));
    assert_non_null(strstr(ts_last_error(), "tunescale.run/2"));
    assert_int_equal(ts_run_parse("b/result.json", "[1, 2]", &r), TS_ERR);
    assert_int_equal(ts_run_parse("c/result.json", "{\"schema\":\"other/1\"}", &r), TS_ERR);
    /* a minor version is fine; a run that failed before it had a device takes its backend
     * from the sweep's runs/<backend>/ folder */
    assert_int_equal(ts_run_parse("out/runs/vulkan/t-1M/result.json",
                                  "{\"schema\":\"tunescale.run/1.3\",\"status\":\"failed: x\"}",
                                  &r),
                     TS_OK);
    assert_string_equal(r.backend, "vulkan");
    assert_string_equal(r.status, "failed: x");
    assert_false(ts_run_ok(&r));
    assert_true(isnan(r.val_loss));
    ts_run_free(&r);
}

/* ---- compare ---- */

static void compare_gives_ratios_against_first_set(void **state) {
    const char *root = *state;
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/machine-a", root);
    snprintf(b, sizeof b, "%s/machine-b", root);
    fake_run runs_a[] = {{"cpu", "transformer", "t-1M", "ok", 1e6, 2.5, 100, 1000},
                         {"cpu", "transformer", "t-3M", "ok", 3e6, 2.4, 40, 3000}};
    fake_run runs_b[] = {
        {"vulkan", "transformer", "t-1M", "ok", 1e6, 2.5, 300, 1500},
        {"vulkan", "transformer", "t-3M", "skipped: out of memory", 3e6, NAN, NAN, NAN},
        {"opencl", "transformer", "t-1M", "ok", 1e6, 2.5, 250, 500}};
    for (int i = 0; i < 2; i++)
        write_run(a, &runs_a[i]);
    for (int i = 0; i < 3; i++)
        write_run(b, &runs_b[i]);
    const char *dirs[] = {a, b};
    ts_compare c;
    assert_int_equal(ts_compare_build(dirs, 2, 1, &c), TS_OK);
    assert_int_equal(c.n_sets, 3); /* a:cpu, b:opencl, b:vulkan */
    assert_int_equal(c.n_rows, 2);
    assert_string_equal(c.rows[0].model, "t-1M");
    assert_string_equal(c.sets[0].backend, "cpu");
    size_t vk = !strcmp(c.sets[1].backend, "vulkan") ? 1 : 2, cl = 3 - vk;
    assert_true(fabs(ts_compare_ratio(&c, 0, 0, 0) - 1.0) < 1e-12);
    assert_true(fabs(ts_compare_ratio(&c, 0, vk, 0) - 3.0) < 1e-12);
    assert_true(fabs(ts_compare_ratio(&c, 0, cl, 0) - 2.5) < 1e-12);
    assert_true(fabs(ts_compare_ratio(&c, 0, vk, 1) - 1.5) < 1e-12);
    assert_true(fabs(ts_compare_ratio(&c, 0, cl, 1) - 0.5) < 1e-12);
    assert_true(isnan(ts_compare_ratio(&c, 1, vk, 0))); /* skipped: no ratio */
    assert_string_equal(c.cell[1 * c.n_sets + vk]->status, "skipped: out of memory");
    assert_null(c.cell[1 * c.n_sets + cl]); /* opencl never ran t-3M */

    char out[4200], path[4300], *text;
    size_t len;
    snprintf(out, sizeof out, "%s/cmp", root);
    assert_int_equal(ts_compare_save(&c, out, 1), TS_OK);
    snprintf(path, sizeof path, "%s/compare.csv", out);
    assert_int_equal(ts_read_file(path, &text, &len), TS_OK);
    /* the vulkan row of t-1M: 300 tokens/s, 3x the cpu's; the set is named by its folder's
     * last component, never by this machine's absolute path */
    char want[9000];
    snprintf(want, sizeof want, "transformer,t-1M,1000000,machine-b:vulkan,machine-b,vulkan,");
    assert_null(strstr(text, root));
    char *row = strstr(text, want);
    assert_non_null(row);
    assert_non_null(strstr(row, ",ok,2.5,300,1500,3,1.5\n"));
    free(text);
    snprintf(path, sizeof path, "%s/plots/compare_tokens_per_s.png", out);
    assert_true(ts_is_file(path));
    snprintf(path, sizeof path, "%s/compare.md", out);
    assert_true(ts_is_file(path));
    ts_compare_free(&c);

    /* a missing folder among several is named */
    const char *bad[] = {a, "/nonexistent/tunescale"};
    assert_int_equal(ts_compare_build(bad, 2, 1, &c), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "/nonexistent/tunescale"));
    ts_compare_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(report_writes_summary, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(report_errors_name_the_folder, tmp_setup, tmp_teardown),
        cmocka_unit_test(parse_refuses_other_major_versions),
        cmocka_unit_test_setup_teardown(compare_gives_ratios_against_first_set, tmp_setup,
                                        tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
