/*
 * test_clblast_sets.c — the CLBlast parameter sets `tunescale tune` may apply on OpenCL
 * (backends/clblast_params.h):
 *  - every listed set keeps CLBlast's divisibility rules, and sets broken on purpose are
 *    refused with the rule they break; the fit check follows work-group size and local memory;
 *  - the JSON form of the tuning file reads back to the same set, and an edited, incomplete or
 *    padded set is refused (a tuning file can only name sets this build tries);
 *  - on OpenCL, each set the tuner can pick on this device is forced and products (all
 *    transposes, alpha and beta, offsets and padded leading dimensions, batches, sizes on both
 *    sides of the set's direct/indirect switch) match the cpu backend; a set CLBlast refuses
 *    during the tuner's trial fails the trial only (no sticky error on the backend).
 * OpenCL without a device is skipped unless TS_REQUIRE_BACKENDS names it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/backend.h"
#include "backends/clblast_params.h"
#include "backends/gemm_plan.h"

static void test_listed_sets_valid(void **state) {
    (void)state;
    char why[128];
    for (int k = 0; k < TS_CLBLAST_SETS; k++) {
        int ok = ts_clblast_set_valid(&ts_clblast_sets[k], why, sizeof why);
        if (!ok) printf("set %d: %s\n", k + 1, why);
        assert_true(ok);
        assert_true(ts_clblast_set_fits(&ts_clblast_sets[k], 1024, 65536));
    }
    /* the small set needs 64 items, no local memory for Xgemm and 2176 bytes for the direct one */
    assert_true(ts_clblast_set_fits(&ts_clblast_sets[0], 64, 16384));
    assert_false(ts_clblast_set_fits(&ts_clblast_sets[0], 32, 16384));
    assert_false(ts_clblast_set_fits(&ts_clblast_sets[0], 64, 2048));
    /* the 128x128 set needs 256 items and 32.5 KiB */
    assert_false(ts_clblast_set_fits(&ts_clblast_sets[2], 128, 65536));
    assert_false(ts_clblast_set_fits(&ts_clblast_sets[2], 256, 32768));

    static const struct {
        int direct, index;
        size_t value;
        const char *rule;
    } broken[] = {{0, 6, 63, "M tile"},         /* MWG 63 */
                  {0, 9, 48, "N tile"},         /* NWG 48 with NDIMC 16, VWN 4 */
                  {0, 14, 3, "vector width"},   /* VWM 3 */
                  {0, 3, 5, "unroll"},          /* KWI 5 */
                  {0, 0, 1, "GEMMK"},           /* GEMMK 1 */
                  {1, 9, 24, "XgemmDirect"},    /* WGD 24 */
                  {1, 1, 3, "XgemmDirect"},     /* MDIMAD 3 */
                  {0, 4, 0, "dimension is 0"}}; /* MDIMA 0 */
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        ts_clblast_set s = ts_clblast_sets[1];
        (broken[i].direct ? s.direct : s.xgemm)[broken[i].index] = broken[i].value;
        why[0] = '\0';
        assert_false(ts_clblast_set_valid(&s, why, sizeof why));
        if (!strstr(why, broken[i].rule)) printf("case %zu: '%s'\n", i, why);
        assert_non_null(strstr(why, broken[i].rule));
    }
}

static void test_json_form(void **state) {
    (void)state;
    for (int k = 0; k < TS_CLBLAST_SETS; k++) {
        cJSON *j = ts_clblast_set_json(&ts_clblast_sets[k]);
        assert_int_equal(ts_clblast_set_parse(j), k + 1);
        /* one value changed: not a set of the list */
        cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "Xgemm");
        cJSON_ReplaceItemInObjectCaseSensitive(x, "MWG", cJSON_CreateNumber(63));
        assert_int_equal(ts_clblast_set_parse(j), 0);
        cJSON_Delete(j);
        /* a parameter missing, one too many, a fraction, a kernel missing */
        j = ts_clblast_set_json(&ts_clblast_sets[k]);
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "XgemmDirect"),
                                                "WGD");
        assert_int_equal(ts_clblast_set_parse(j), 0);
        cJSON_Delete(j);
        j = ts_clblast_set_json(&ts_clblast_sets[k]);
        cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(j, "Xgemm"), "EXTRA", 1);
        assert_int_equal(ts_clblast_set_parse(j), 0);
        cJSON_Delete(j);
        j = ts_clblast_set_json(&ts_clblast_sets[k]);
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "GemmRoutine"),
                                               "XGEMM_MIN_INDIRECT_SIZE", cJSON_CreateNumber(2.5));
        assert_int_equal(ts_clblast_set_parse(j), 0);
        cJSON_DeleteItemFromObjectCaseSensitive(j, "GemmRoutine");
        assert_int_equal(ts_clblast_set_parse(j), 0);
        cJSON_Delete(j);
    }
    assert_int_equal(ts_clblast_set_parse(NULL), 0);
}

/* ---- forced sets against the cpu ----------------------------------------------------------- */

static uint32_t rng = 12345;
static float rnd(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 8388608.0f - 1.0f;
}

/* C = alpha op(A) op(B) + beta C on both backends from the same random data, with leading
 * dimensions padded by `pad` and views starting `pad` elements in; 1 when they agree. */
static int same_product(ts_backend *dut, ts_backend *cpu, int ta, int tb, int M, int N, int K,
                        float alpha, float beta, int batch, int pad) {
    int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    long sa = (long)(ta ? K : M) * lda, sb = (long)(tb ? N : K) * ldb, sc = (long)M * ldc;
    size_t na = (size_t)(pad + sa * batch), nb = (size_t)(pad + sb * batch),
           nc = (size_t)(pad + sc * batch);
    float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4), *r[2] = {NULL, NULL};
    for (size_t i = 0; i < na; i++)
        a[i] = rnd();
    for (size_t i = 0; i < nb; i++)
        b[i] = rnd();
    for (size_t i = 0; i < nc; i++)
        c[i] = rnd();
    ts_backend *bes[2] = {dut, cpu};
    ts_status st = TS_OK;
    for (int w = 0; w < 2 && st == TS_OK; w++) {
        ts_backend *be = bes[w];
        ts_buffer *A = NULL, *B = NULL, *C = NULL;
        r[w] = malloc(nc * 4);
        st = ts_buffer_alloc(be, na * 4, &A);
        if (st == TS_OK) st = ts_buffer_alloc(be, nb * 4, &B);
        if (st == TS_OK) st = ts_buffer_alloc(be, nc * 4, &C);
        if (st == TS_OK) st = be->iface->upload(be, (ts_tensor){A, 0}, a, na * 4);
        if (st == TS_OK) st = be->iface->upload(be, (ts_tensor){B, 0}, b, nb * 4);
        if (st == TS_OK) st = be->iface->upload(be, (ts_tensor){C, 0}, c, nc * 4);
        if (st == TS_OK)
            be->iface->gemm(be, ta, tb, M, N, K, alpha, (ts_tensor){A, (size_t)pad}, lda, sa,
                            (ts_tensor){B, (size_t)pad}, ldb, sb, beta, (ts_tensor){C, (size_t)pad},
                            ldc, sc, batch);
        if (st == TS_OK) st = ts_backend_sync(be);
        if (st == TS_OK) st = be->iface->download(be, r[w], (ts_tensor){C, 0}, nc * 4);
        ts_buffer_free(be, A);
        ts_buffer_free(be, B);
        ts_buffer_free(be, C);
    }
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; st == TS_OK && i < nc; i++) {
        scale = fmax(scale, fabs(r[1][i]));
        worst = fmax(worst, fabs((double)r[0][i] - r[1][i]));
    }
    int ok = st == TS_OK && worst <= 1e-5 * scale * sqrt((double)K);
    printf("%s   %c%c %dx%dx%d batch %d pad %d alpha %g beta %g: max |diff| %.2g of %.2g%s%s\n",
           ok ? "ok  " : "FAIL", ta ? 't' : 'n', tb ? 't' : 'n', M, N, K, batch, pad, (double)alpha,
           (double)beta, worst, scale, st == TS_OK ? "" : ": ", st == TS_OK ? "" : ts_last_error());
    free(a);
    free(b);
    free(c);
    free(r[0]);
    free(r[1]);
    return ok;
}

static void test_forced_sets_match_cpu(void **state) {
    (void)state;
    ts_backend *dut = NULL, *cpu = NULL;
    ts_backend_options o = {0};
    if (ts_backend_create("opencl", &o, &dut) != TS_OK) {
        const char *req = getenv("TS_REQUIRE_BACKENDS");
        printf("skipped: opencl: %s\n", ts_last_error());
        assert_false(req && strstr(req, "opencl"));
        return;
    }
    assert_int_equal(ts_backend_create("cpu", &o, &cpu), TS_OK);
    ts_gemm_plan *plan = ts_gemm_plan_of(dut);
    assert_non_null(plan);
    assert_int_not_equal(plan->variants, 0);
    int bad = 0;
    for (int k = 1; k <= TS_CLBLAST_SETS; k++) {
        if (!(plan->variants >> (k - 1) & 1)) continue;
        printf("# CLBlast set %d forced (direct kernel below %zu^3)\n", k,
               ts_clblast_sets[k - 1].min_indirect);
        plan->forced = 1;
        plan->force = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, k};
        for (int t = 0; t < 4; t++)
            bad += !same_product(dut, cpu, t >> 1, t & 1, 37, 29, 45, 1.0f, 0.0f, 1, 0);
        bad += !same_product(dut, cpu, 0, 1, 33, 70, 19, 0.5f, 0.75f, 1, 3);
        bad += !same_product(dut, cpu, 1, 0, 17, 16, 20, 1.0f, 1.0f, 5, 2);
        bad += !same_product(dut, cpu, 0, 0, 64, 24, 64, 1.0f, 0.0f, 12, 0);
        /* past the set's switch to the indirect kernel (padded copies) */
        size_t m = ts_clblast_sets[k - 1].min_indirect + 9;
        if (m < 700) bad += !same_product(dut, cpu, 0, 1, (int)m, (int)m, (int)m, 1.0f, 0.0f, 1, 1);
        assert_int_equal(dut->error, TS_OK);
    }
    /* a set CLBlast refuses, in the tuner's trial: the trial fails on its own, the backend keeps
     * no error, and the next product runs right under the parameters from before */
    plan->force = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, TS_CLBLAST_SETS + 1};
    plan->trial = 1;
    plan->trial_failed = 0;
    printf("# CLBlast set %d (none) in a trial: the product must not run (FAIL expected)\n",
           TS_CLBLAST_SETS + 1);
    bad += !same_product(dut, cpu, 0, 1, 20, 30, 40, 1.0f, 0.0f, 1, 0) ? 0 : 1; /* C untouched */
    printf("trial: failed %d, why '%s'\n", plan->trial_failed, plan->trial_why);
    assert_int_equal(plan->trial_failed, 1);
    assert_non_null(strstr(plan->trial_why, "CLBlastOverrideParameters"));
    assert_int_equal(dut->error, TS_OK);
    plan->trial = 0;
    ts_gemm_trial_end(dut);
    plan->forced = 0;
    bad += !same_product(dut, cpu, 0, 1, 20, 30, 40, 1.0f, 0.0f, 1, 0);
    assert_int_equal(dut->error, TS_OK);
    /* the same outside a trial is the backend's error, as any failed call */
    plan->forced = 1;
    printf("# the same outside a trial: an error on the backend (FAIL expected)\n");
    same_product(dut, cpu, 0, 1, 20, 30, 40, 1.0f, 0.0f, 1, 0);
    assert_int_not_equal(dut->error, TS_OK);
    plan->forced = 0;
    ts_backend_destroy(cpu);
    ts_backend_destroy(dut);
    assert_int_equal(bad, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listed_sets_valid),
        cmocka_unit_test(test_json_form),
        cmocka_unit_test(test_forced_sets_match_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
