/*
 * test_precision.c — --precision's arithmetic (backends/precision.h, cpu_gemm_lowp.c,
 * vulkan_gemm_lowp.c, train/loss_scale.c):
 *  - ts_precision_round against the compiler's own IEEE half conversion (_Float16) over a
 *    sweep of magnitudes, and against hand-worked tf32/bf16 roundings (ties to even, carries);
 *  - the cpu's emulated products equal a double-precision sum over the rounded inputs, and
 *    differ from fp32 (the rounding happened);
 *  - vulkan fp16 (lavapipe has shaderFloat16) matches the cpu's fp16 emulation within fp32
 *    summation error, and is farther from fp32 than that; tf32/bf16 there, and every reduced
 *    mode on PoCL, are refused at creation with "not supported on this device";
 *  - the loss scaler halves on overflow and doubles after growth_interval good steps; inside a
 *    real fp16 step on the cpu, an overflowing scale skips the step (weights untouched) and
 *    halves, and a sane one updates the weights as an unscaled step would, closely.
 * A GPU backend without a device is skipped unless named in TS_REQUIRE_BACKENDS.
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
#include "backends/registry.h"
#include "model/model.h"
#include "train/loss_scale.h"
#include "train/step.h"

static void test_names(void **state) {
    (void)state;
    ts_precision p = TS_PREC_FP32;
    assert_true(ts_precision_parse("bf16", &p));
    assert_int_equal(p, TS_PREC_BF16);
    assert_false(ts_precision_parse("fp8", &p));
    assert_false(ts_precision_parse("BF16", &p));
    assert_string_equal(ts_precision_name(TS_PREC_TF32), "tf32");
}

static float bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_round_by_hand(void **state) {
    (void)state;
    /* bf16 keeps 7 mantissa bits: 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1 */
    assert_true(ts_precision_round(TS_PREC_BF16, 1.0f + 0x1p-8f) == 1.0f);
    /* 1 + 3*2^-8 ties between 1 + 2^-7 (odd) and 1 + 2^-6 (even) */
    assert_true(ts_precision_round(TS_PREC_BF16, 1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);
    /* just past the tie rounds up */
    assert_true(ts_precision_round(TS_PREC_BF16, 1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);
    /* a carry out of the mantissa steps the exponent: 2 - 2^-9 -> 2 */
    assert_true(ts_precision_round(TS_PREC_BF16, 2.0f - 0x1p-9f) == 2.0f);
    /* tf32 keeps 10 bits; bf16 keeps fp32's range: FLT_MAX rounds to infinity only in
     * formats whose largest value is below it (FLT_MAX's mantissa is all ones: it carries) */
    assert_true(ts_precision_round(TS_PREC_TF32, 1.0f + 0x1p-11f) == 1.0f);
    assert_true(ts_precision_round(TS_PREC_TF32, 1.0f + 0x1p-10f) == 1.0f + 0x1p-10f);
    assert_true(isinf(ts_precision_round(TS_PREC_BF16, bits(0x7f7fffffu))));
    assert_true(ts_precision_round(TS_PREC_BF16, 1e30f) > 9e29f);
    /* fp16: 65504 is the largest; 65519 rounds down to it, 65520 to infinity */
    assert_true(ts_precision_round(TS_PREC_FP16, 65519.0f) == 65504.0f);
    assert_true(isinf(ts_precision_round(TS_PREC_FP16, -65520.0f)));
    /* subnormal steps of 2^-24: 2^-25 ties to 0, 3*2^-25 ties to 2^-23 */
    assert_true(ts_precision_round(TS_PREC_FP16, 0x1p-25f) == 0.0f);
    assert_true(ts_precision_round(TS_PREC_FP16, 3 * 0x1p-25f) == 0x1p-23f);
    assert_true(isnan(ts_precision_round(TS_PREC_FP16, NAN)));
    assert_true(ts_precision_round(TS_PREC_FP32, 1.0f + 0x1p-23f) == 1.0f + 0x1p-23f);
}

/* Every 977th float bit pattern below infinity, both signs, against _Float16's conversion. */
static void test_fp16_matches_compiler(void **state) {
    (void)state;
    long checked = 0;
    for (uint32_t u = 0; u < 0x7f800000u; u += 977u)
        for (int s = 0; s < 2; s++) {
            float x = bits(u | (s ? 0x80000000u : 0));
            float want = (float)(_Float16)x;
            float got = ts_precision_round(TS_PREC_FP16, x);
            if (!(want == got || (isinf(want) && isinf(got) && signbit(want) == signbit(got)))) {
                printf("fp16 round of %a: got %a, want %a\n", (double)x, (double)got, (double)want);
                fail();
            }
            checked++;
        }
    assert_true(checked > 4000000);
}

static void test_loss_scaler(void **state) {
    (void)state;
    ts_loss_scaler s;
    ts_loss_scaler_init(&s);
    assert_true(s.scale == 65536.0f);
    ts_loss_scaler_update(&s, 0);
    assert_true(s.scale == 32768.0f);
    assert_int_equal(s.overflows, 1);
    s.growth_interval = 3;
    ts_loss_scaler_update(&s, 1);
    ts_loss_scaler_update(&s, 1);
    assert_true(s.scale == 32768.0f);
    ts_loss_scaler_update(&s, 1);
    assert_true(s.scale == 65536.0f);
    for (int i = 0; i < 40; i++)
        ts_loss_scaler_update(&s, 0);
    assert_true(s.scale == 1.0f); /* never below 1 */
}

/* A transformer-tiny on the cpu in mode p, its weights after one step at loss scale `scale`
 * (into w); returns whether the step was skipped, with the scale after it and the step's
 * gradient norm. */
static int one_step(ts_precision p, float scale, float *w, float *scale_after, float *norm) {
    enum { SB = 2, ST = 8, SV = 20 };
    ts_model_config cfg;
    assert_int_equal(ts_model_config_lookup("transformer-tiny", &cfg), TS_OK);
    cfg.vocab_size = SV;
    ts_backend_options bo = {0, 1, 0, p};
    ts_backend *be;
    ts_model *m;
    assert_int_equal(ts_backend_create("cpu", &bo, &be), TS_OK);
    assert_int_equal(ts_model_create(&cfg, be, &m), TS_OK);
    assert_int_equal(ts_model_reserve(m, SB, ST), TS_OK);
    assert_int_equal(ts_model_init_params(m, 7), TS_OK);
    int32_t x[SB * ST], y[SB * ST];
    for (int i = 0; i < SB * ST; i++) {
        x[i] = 4 + (i * 7) % (SV - 4);
        y[i] = 4 + (i * 5 + 3) % (SV - 4);
    }
    ts_loss_scaler sc;
    ts_loss_scaler_init(&sc);
    sc.scale = scale;
    ts_optimizer opt;
    ts_optimizer_default(&opt);
    opt.scaler = &sc;
    ts_step_result res;
    assert_int_equal(ts_train_step(m, &opt, 1e-2, 0, 1, x, y, SB, ST, NULL, &res), TS_OK);
    assert_true(isfinite(res.loss));
    assert_int_equal(ts_model_get_params(m, w), TS_OK);
    *scale_after = sc.scale;
    *norm = res.grad_norm;
    ts_model_free(m);
    ts_backend_destroy(be);
    assert_int_equal(sc.overflows, res.skipped);
    return res.skipped;
}

/* mean |x - y| over n */
static double mean_diff(const float *x, const float *y, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)x[i] - y[i]);
    return s / (double)n;
}

static void test_loss_scaling_in_step(void **state) {
    (void)state;
    ts_model_config cfg;
    assert_int_equal(ts_model_config_lookup("transformer-tiny", &cfg), TS_OK);
    cfg.vocab_size = 20;
    size_t n = ts_param_count(&cfg);
    float *w0 = malloc(n * 4), *w32 = malloc(n * 4), *w16 = malloc(n * 4), *init = malloc(n * 4);
    assert_non_null(w0 && w32 && w16 && init);
    float after, norm0, norm16, norm32;
    /* 2^100: the scaled gradient passes fp16's 65504 in the first GEMM it feeds */
    assert_true(one_step(TS_PREC_FP16, 0x1p100f, w0, &after, &norm0));
    assert_true(after == 0x1p99f);
    assert_false(isfinite(norm0));
    /* the skipped step left the initial weights */
    {
        ts_backend_options bo = {0, 1, 0, TS_PREC_FP32};
        ts_backend *be;
        ts_model *m;
        assert_int_equal(ts_backend_create("cpu", &bo, &be), TS_OK);
        assert_int_equal(ts_model_create(&cfg, be, &m), TS_OK);
        assert_int_equal(ts_model_init_params(m, 7), TS_OK);
        assert_int_equal(ts_model_get_params(m, init), TS_OK);
        ts_model_free(m);
        ts_backend_destroy(be);
    }
    assert_memory_equal(w0, init, n * 4);
    /* at 2^16 the step updates, and its unscaled gradient norm and update are fp32's within
     * fp16's input rounding */
    assert_false(one_step(TS_PREC_FP16, 65536.0f, w16, &after, &norm16));
    assert_true(after == 65536.0f);
    assert_false(one_step(TS_PREC_FP32, 1.0f, w32, &after, &norm32));
    double moved = mean_diff(w32, init, n), apart = mean_diff(w16, w32, n);
    printf("fp16 step at 2^16: grad norm %.6g (fp32 %.6g); mean update %.3g, mean |fp16 - "
           "fp32| %.3g\n",
           (double)norm16, (double)norm32, moved, apart);
    assert_true(fabs(norm16 - norm32) < 1e-2 * norm32);
    assert_true(moved > 1e-3);
    assert_true(apart < 0.05 * moved);
    free(w0), free(w32), free(w16), free(init);
}

/* ---- products ---------------------------------------------------------------------------- */

enum { M = 37, N = 29, K = 75 };

/* Inputs spread over magnitudes (so the formats differ), the same on every backend. */
static void inputs(float *a, float *b) {
    for (int i = 0; i < M * K; i++)
        a[i] = (float)sin(0.37 * i + 0.1) * (1.0f + (float)(i % 7)) / 3.0f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)cos(0.23 * i) * (1.0f + (float)(i % 5)) / 5.0f;
}

/* C = A B (row-major) on backend `name` in mode p; 0 when the backend cannot be created (the
 * message in *why), 1 with C filled. */
static int product(const char *name, ts_precision p, float *c, char *why, size_t cap) {
    ts_backend_options o = {0, 1, 0, p};
    ts_backend *be;
    if (ts_backend_create(name, &o, &be) != TS_OK) {
        snprintf(why, cap, "%s", ts_last_error());
        return 0;
    }
    assert_int_equal(be->precision, p);
    static float a[M * K], b[K * N];
    inputs(a, b);
    ts_buffer *ba, *bb, *bc;
    assert_int_equal(ts_buffer_alloc(be, sizeof a, &ba), TS_OK);
    assert_int_equal(ts_buffer_alloc(be, sizeof b, &bb), TS_OK);
    assert_int_equal(ts_buffer_alloc(be, (size_t)M * N * 4, &bc), TS_OK);
    ts_tensor ta = {ba, 0}, tb = {bb, 0}, tc = {bc, 0};
    assert_int_equal(be->iface->upload(be, ta, a, sizeof a), TS_OK);
    assert_int_equal(be->iface->upload(be, tb, b, sizeof b), TS_OK);
    be->iface->gemm(be, 0, 0, M, N, K, 1.0f, ta, K, 0, tb, N, 0, 0.0f, tc, N, 0, 1);
    assert_int_equal(ts_backend_sync(be), TS_OK);
    assert_int_equal(be->iface->download(be, c, tc, (size_t)M * N * 4), TS_OK);
    ts_buffer_free(be, ba);
    ts_buffer_free(be, bb);
    ts_buffer_free(be, bc);
    ts_backend_destroy(be);
    return 1;
}

/* The largest |x - y| over the product. */
static double max_diff(const float *x, const float *y) {
    double d = 0;
    for (int i = 0; i < M * N; i++)
        d = fmax(d, fabs((double)x[i] - y[i]));
    return d;
}

static void test_cpu_emulation(void **state) {
    (void)state;
    static float a[M * K], b[K * N], c32[M * N], c[M * N];
    char why[1024];
    inputs(a, b);
    assert_true(product("cpu", TS_PREC_FP32, c32, why, sizeof why));
    for (int p = TS_PREC_TF32; p < TS_PREC_COUNT; p++) {
        assert_true(product("cpu", (ts_precision)p, c, why, sizeof why));
        double worst = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < K; k++)
                    s += (double)ts_precision_round((ts_precision)p, a[i * K + k]) *
                         ts_precision_round((ts_precision)p, b[k * N + j]);
                worst = fmax(worst, fabs(s - c[i * N + j]));
            }
        /* fp32 sums of K terms of size ~1: a few ulps of 10 */
        assert_true(worst < 2e-5);
        /* and not the fp32 product: bf16 moves it most, tf32/fp16 by ~2^-11 relative */
        assert_true(max_diff(c, c32) > 1e-4);
    }
}

static int required(const char *name) {
    const char *req = getenv("TS_REQUIRE_BACKENDS");
    return req && strstr(req, name) != NULL;
}

static void test_gpu_backends(void **state) {
    (void)state;
    static float ref[M * N], c[M * N], c32[M * N];
    char why[1024];
    assert_true(product("cpu", TS_PREC_FP32, c32, why, sizeof why));
    for (int i = 0; i < ts_backend_registry_count; i++) {
        const char *name = ts_backend_registry[i].name;
        if (!strcmp(name, "cpu")) continue;
        if (!product(name, TS_PREC_FP32, c, why, sizeof why)) {
            if (required(name)) fail_msg("%s required: %s", name, why);
            printf("skipped: %s: %s\n", name, why);
            continue;
        }
        for (int p = TS_PREC_TF32; p < TS_PREC_COUNT; p++) {
            if (!product(name, (ts_precision)p, c, why, sizeof why)) {
                /* refused: one line saying so, never a silent fp32 */
                assert_non_null(strstr(why, "not supported on this device"));
                assert_null(strchr(why, '\n'));
                printf("%s %s: %s\n", name, ts_precision_name((ts_precision)p), why);
                continue;
            }
            assert_true(product("cpu", (ts_precision)p, ref, why, sizeof why));
            double d = max_diff(c, ref), d32 = max_diff(c, c32);
            printf("%s %s: max |C - cpu %s| = %.3g, max |C - fp32| = %.3g\n", name,
                   ts_precision_name((ts_precision)p), ts_precision_name((ts_precision)p), d, d32);
            assert_true(d < 2e-5);
            assert_true(d32 > 1e-4);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_round_by_hand),
        cmocka_unit_test(test_fp16_matches_compiler),
        cmocka_unit_test(test_loss_scaler),
        cmocka_unit_test(test_loss_scaling_in_step),
        cmocka_unit_test(test_cpu_emulation),
        cmocka_unit_test(test_gpu_backends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
