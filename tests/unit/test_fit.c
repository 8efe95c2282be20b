/*
 * test_fit.c — the scaling-law fit (src/analysis/fit.c) on points drawn from a known law,
 * L(N) = 5·N^(-0.076) + 0.8 at 8 sizes from 1e5 to 1e8: noiseless points give the parameters
 * back, noisy ones (Gaussian, sd 0.005, seeded) an interval that holds the true alpha.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/fit.h"
#include "util/philox.h"

#define TRUE_A     5.0
#define TRUE_ALPHA 0.076
#define TRUE_C     0.8
#define N_SIZES    8

static void law_points(double *n, double *loss, double noise_sd, uint64_t seed) {
    ts_rng rng;
    ts_rng_init(&rng, seed, 1);
    for (int i = 0; i < N_SIZES; i++) {
        n[i] = pow(10.0, 5.0 + 3.0 * i / (N_SIZES - 1));
        /* Box-Muller: one standard normal from two uniforms in (0, 1] */
        double u1 = 1.0 - ts_rng_uniform(&rng), u2 = ts_rng_uniform(&rng);
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        loss[i] = TRUE_A * pow(n[i], -TRUE_ALPHA) + TRUE_C + noise_sd * z;
    }
}

static void assert_rel(double got, double want, double tol) {
    double rel = fabs(got - want) / fabs(want);
    if (rel > tol)
        fail_msg("got %.10g, want %.10g (relative error %.3g > %.3g)", got, want, rel, tol);
}

static void noiseless_recovers_parameters(void **state) {
    (void)state;
    double n[N_SIZES], loss[N_SIZES];
    law_points(n, loss, 0.0, 1);
    ts_power_fit f;
    assert_int_equal(ts_fit_power_law(n, loss, N_SIZES, 0, 0, &f), TS_OK);
    assert_true(f.ok);
    assert_int_equal(f.n_points, N_SIZES);
    assert_int_equal(f.n_sizes, N_SIZES);
    assert_rel(f.a, TRUE_A, 1e-4);
    assert_rel(f.alpha, TRUE_ALPHA, 1e-4);
    assert_rel(f.c, TRUE_C, 1e-4);
    assert_true(f.r2 > 0.999999);
    assert_true(isnan(f.alpha_lo)); /* no bootstrap asked */
    assert_string_equal(f.note, "");
    assert_rel(ts_power_law_eval(&f, 3e6), TRUE_A * pow(3e6, -TRUE_ALPHA) + TRUE_C, 1e-6);
}

static void noisy_interval_holds_true_alpha(void **state) {
    (void)state;
    double n[N_SIZES], loss[N_SIZES];
    law_points(n, loss, 0.005, 7);
    ts_power_fit f;
    assert_int_equal(ts_fit_power_law(n, loss, N_SIZES, 1000, 42, &f), TS_OK);
    assert_true(f.ok);
    print_message("noisy fit: a %.4f alpha %.4f [%.4f, %.4f] c %.4f R2 %.5f, %d/%d resamples\n",
                  f.a, f.alpha, f.alpha_lo, f.alpha_hi, f.c, f.r2, f.boot_used, f.boot_asked);
    assert_true(f.boot_used > 900);
    assert_true(f.alpha_lo < f.alpha_hi);
    assert_true(f.alpha_lo <= TRUE_ALPHA && TRUE_ALPHA <= f.alpha_hi);
    assert_true(f.alpha_lo <= f.alpha && f.alpha <= f.alpha_hi);
    assert_true(fabs(f.alpha - TRUE_ALPHA) < 0.02);
    assert_true(fabs(f.c - TRUE_C) < 0.25);
    assert_true(f.r2 > 0.99);
}

static void bootstrap_is_reproducible(void **state) {
    (void)state;
    double n[N_SIZES], loss[N_SIZES];
    law_points(n, loss, 0.005, 3);
    ts_power_fit f1, f2, f3;
    assert_int_equal(ts_fit_power_law(n, loss, N_SIZES, 200, 9, &f1), TS_OK);
    assert_int_equal(ts_fit_power_law(n, loss, N_SIZES, 200, 9, &f2), TS_OK);
    assert_int_equal(ts_fit_power_law(n, loss, N_SIZES, 200, 10, &f3), TS_OK);
    assert_true(f1.alpha_lo == f2.alpha_lo && f1.alpha_hi == f2.alpha_hi);
    assert_true(f1.alpha_lo != f3.alpha_lo || f1.alpha_hi != f3.alpha_hi);
}

static void too_few_sizes_is_not_a_fit(void **state) {
    (void)state;
    /* four points but only two sizes, plus points the fit must ignore */
    double n[] = {1e6, 1e6, 1e7, 1e7, -1, 1e8, 0};
    double loss[] = {2.0, 2.01, 1.8, 1.79, 1.5, NAN, 1.2};
    ts_power_fit f;
    assert_int_equal(ts_fit_power_law(n, loss, 7, 100, 1, &f), TS_OK);
    assert_false(f.ok);
    assert_int_equal(f.n_points, 4);
    assert_int_equal(f.n_sizes, 2);
    assert_non_null(strstr(f.why, "not enough sizes"));
    assert_true(isnan(f.alpha));
    assert_int_equal(ts_fit_power_law(n, loss, 0, 100, 1, &f), TS_OK);
    assert_false(f.ok);
}

static void three_sizes_fit_exactly(void **state) {
    (void)state;
    double n[] = {1e5, 1e6, 1e7, 1e6}, loss[4];
    for (int i = 0; i < 4; i++)
        loss[i] = TRUE_A * pow(n[i], -TRUE_ALPHA) + TRUE_C;
    ts_power_fit f;
    assert_int_equal(ts_fit_power_law(n, loss, 4, 100, 1, &f), TS_OK);
    assert_true(f.ok);
    assert_int_equal(f.n_sizes, 3);
    assert_rel(f.alpha, TRUE_ALPHA, 1e-3);
    /* three sizes: a point fit, marked, with no (zero-width) interval although one was asked */
    assert_true(f.point_only);
    assert_false(f.flagged);
    assert_true(isnan(f.alpha_lo) && isnan(f.alpha_hi));
    assert_non_null(strstr(f.note, "point fit"));
}

static void rising_loss_is_flagged(void **state) {
    (void)state;
    /* loss grows with N: the optimum has alpha <= 0 or c < 0, never a law to tabulate */
    double n[] = {1e5, 1e6, 1e7, 1e8, 1e9};
    double loss[] = {2.0, 2.1, 2.25, 2.45, 2.7};
    ts_power_fit f;
    assert_int_equal(ts_fit_power_law(n, loss, 5, 0, 1, &f), TS_OK);
    assert_true(f.ok);
    assert_true(f.flagged);
    assert_true(f.alpha <= 0 || f.c < 0);
    assert_false(f.point_only);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(noiseless_recovers_parameters),
        cmocka_unit_test(noisy_interval_holds_true_alpha),
        cmocka_unit_test(bootstrap_is_reproducible),
        cmocka_unit_test(too_few_sizes_is_not_a_fit),
        cmocka_unit_test(three_sizes_fit_exactly),
        cmocka_unit_test(rising_loss_is_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
