/*
 * test_sample.c — the token choice of sampling (src/gen/sample.c) on hand-made logits:
 * temperature 0 is argmax; top-k keeps exactly the k largest (ties at the k-th kept); top-p
 * keeps the smallest most-likely set reaching p; the inverse CDF over many uniforms reproduces
 * the softmax probabilities; the Philox uniforms depend on (seed, index, token) only.
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

#include "gen/sample.h"

enum { V = 6 };
static const float logits[V] = {1.0f, 3.0f, 2.0f, 0.5f, 2.0f, -1.0f};

static void test_greedy_and_top1(void **state) {
    (void)state;
    float work[2 * V];
    assert_int_equal(ts_sample_pick(logits, V, 0.0f, 50, 1.0f, 0.99, work), 1);
    for (double u = 0; u < 1; u += 0.1)
        assert_int_equal(ts_sample_pick(logits, V, 1.0f, 1, 1.0f, u, work), 1);
}

/* Draws with uniforms on a fine grid and returns the share of each token. */
static void shares(float temperature, int top_k, float top_p, double *out) {
    float work[2 * V];
    memset(out, 0, V * sizeof *out);
    int n = 100000;
    for (int i = 0; i < n; i++)
        out[ts_sample_pick(logits, V, temperature, top_k, top_p, (i + 0.5) / n, work)] += 1.0 / n;
}

static void test_distribution(void **state) {
    (void)state;
    double s[V], p[V], z = 0;
    for (int j = 0; j < V; j++)
        z += exp(logits[j] / 0.7);
    for (int j = 0; j < V; j++)
        p[j] = exp(logits[j] / 0.7) / z;
    shares(0.7f, 0, 1.0f, s);
    for (int j = 0; j < V; j++)
        assert_true(fabs(s[j] - p[j]) < 1e-4);
}

static void test_top_k(void **state) {
    (void)state;
    double s[V];
    shares(1.0f, 2, 1.0f, s); /* 3.0, then 2.0 twice: the tie at the 2nd value keeps both */
    assert_true(s[1] > 0 && s[2] > 0 && s[4] > 0);
    assert_true(s[0] == 0 && s[3] == 0 && s[5] == 0);
    assert_true(fabs(s[2] - s[4]) < 1e-4);
    double z = exp(3.0) + 2 * exp(2.0);
    assert_true(fabs(s[1] - exp(3.0) / z) < 1e-4);
}

static void test_top_p(void **state) {
    (void)state;
    double s[V];
    /* softmax at T=1: token 1 has about 0.47; with p = 0.4 only it survives */
    shares(1.0f, 0, 0.4f, s);
    assert_true(s[1] > 0.9999);
    /* p = 0.9: 1 (0.47), 2 and 4 (0.17 each) reach 0.82 < 0.9, so token 0 (0.064) joins */
    shares(1.0f, 0, 0.9f, s);
    assert_true(s[0] > 0 && s[1] > 0 && s[2] > 0 && s[4] > 0);
    assert_true(s[3] == 0 && s[5] == 0);
}

static void test_uniforms(void **state) {
    (void)state;
    double a = ts_sample_uniform(42, 0, 0);
    assert_true(a >= 0 && a < 1);
    assert_true(a == ts_sample_uniform(42, 0, 0));
    assert_true(a != ts_sample_uniform(43, 0, 0));
    assert_true(a != ts_sample_uniform(42, 1, 0));
    assert_true(a != ts_sample_uniform(42, 0, 1));
    double mean = 0;
    for (uint32_t i = 0; i < 10000; i++)
        mean += ts_sample_uniform(7, 3, i) / 10000;
    assert_true(fabs(mean - 0.5) < 0.02);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_and_top1), cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_top_k),           cmocka_unit_test(test_top_p),
        cmocka_unit_test(test_uniforms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
