/*
 * test_fit_nd.c — the L(N, D) fit and its frontier (src/analysis/fit_nd.c) on points drawn from
 * a known law, the Chinchilla paper's fitted one (E 1.69, A 406.4, α 0.34, B 410.7, β 0.28),
 * on a grid of 6 sizes (1e6–1e9) × 5 budgets (1e8–1e11 tokens):
 *   - noiseless points give the five parameters back, and the frontier's exponents equal
 *     β/(α+β) and α/(α+β), checked against a brute-force minimisation of L on N·D = C/k;
 *   - noisy points (multiplicative Gaussian noise, sd 1%, seeded) give 95% intervals that hold
 *     every true parameter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/fit_nd.h"
#include "util/philox.h"

static const ts_nd_law TRUE_LAW = {1.69, 406.4, 0.34, 410.7, 0.28};
#define N_SIZES   6
#define N_BUDGETS 5
#define N_POINTS  (N_SIZES * N_BUDGETS)

static void law_points(double *n, double *d, double *loss, double noise_sd, uint64_t seed) {
    ts_rng rng;
    ts_rng_init(&rng, seed, 1);
    for (int i = 0; i < N_SIZES; i++)
        for (int j = 0; j < N_BUDGETS; j++) {
            int p = i * N_BUDGETS + j;
            n[p] = pow(10.0, 6.0 + 3.0 * i / (N_SIZES - 1));
            d[p] = pow(10.0, 8.0 + 3.0 * j / (N_BUDGETS - 1));
            /* Box-Muller: one standard normal from two uniforms in (0, 1] */
            double u1 = 1.0 - ts_rng_uniform(&rng), u2 = ts_rng_uniform(&rng);
            double g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
            loss[p] = ts_nd_law_eval(&TRUE_LAW, n[p], d[p]) * exp(noise_sd * g);
        }
}

static void assert_rel(double got, double want, double tol) {
    double rel = fabs(got - want) / fabs(want);
    if (!(rel <= tol))
        fail_msg("got %.10g, want %.10g (relative error %.3g > %.3g)", got, want, rel, tol);
}

static void noiseless_recovers_parameters(void **state) {
    (void)state;
    double n[N_POINTS], d[N_POINTS], loss[N_POINTS];
    law_points(n, d, loss, 0.0, 1);
    ts_nd_fit f;
    assert_int_equal(ts_fit_nd(n, d, loss, N_POINTS, 6.0, 0, 0, &f), TS_OK);
    assert_true(f.ok);
    assert_int_equal(f.n_points, N_POINTS);
    assert_int_equal(f.n_sizes, N_SIZES);
    assert_int_equal(f.n_budgets, N_BUDGETS);
    assert_rel(f.law.E, TRUE_LAW.E, 1e-5);
    assert_rel(f.law.A, TRUE_LAW.A, 1e-4);
    assert_rel(f.law.alpha, TRUE_LAW.alpha, 1e-5);
    assert_rel(f.law.B, TRUE_LAW.B, 1e-4);
    assert_rel(f.law.beta, TRUE_LAW.beta, 1e-5);
    assert_true(f.rmse < 1e-8);
    for (int i = 0; i < N_POINTS; i++)
        assert_true(fabs(f.residuals[i]) < 1e-7);
    assert_true(isnan(f.lo.alpha)); /* no bootstrap asked */
    assert_string_equal(f.note, "");
    ts_nd_fit_free(&f);
}

/* The N on N·D = s that minimises L, by golden-section search on log N: no use of the closed
 * form, so the exponents below are checked against the law itself. */
static double brute_force_n_opt(const ts_nd_law *l, double s) {
    double lo = 0, hi = log(s); /* N from 1 to s (D from s to 1) */
    const double g = 0.6180339887498949;
    for (int it = 0; it < 300; it++) {
        double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
        double la = ts_nd_law_eval(l, exp(a), s / exp(a)),
               lb = ts_nd_law_eval(l, exp(b), s / exp(b));
        if (la < lb)
            hi = b;
        else
            lo = a;
    }
    return exp(0.5 * (lo + hi));
}

static void frontier_exponents_of_noiseless_law(void **state) {
    (void)state;
    double n[N_POINTS], d[N_POINTS], loss[N_POINTS];
    law_points(n, d, loss, 0.0, 1);
    const double k = 6.0;
    ts_nd_fit f;
    assert_int_equal(ts_fit_nd(n, d, loss, N_POINTS, k, 0, 0, &f), TS_OK);
    assert_true(f.ok);
    const double sum = TRUE_LAW.alpha + TRUE_LAW.beta;
    assert_rel(f.a, TRUE_LAW.beta / sum, 1e-5);
    assert_rel(f.b, TRUE_LAW.alpha / sum, 1e-5);
    assert_rel(f.a + f.b, 1.0, 1e-12);
    /* The table's optima are the law's own minima on N·D = C/k, and their slopes in log C are
     * the exponents. */
    double brute[TS_ND_N_BUDGETS];
    for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
        brute[j] = brute_force_n_opt(&TRUE_LAW, f.budget[j] / k);
        assert_rel(f.n_opt[j], brute[j], 1e-3);
        assert_rel(f.n_opt[j] * f.d_opt[j], f.budget[j] / k, 1e-9);
        assert_true(f.loss_opt[j] <= ts_nd_law_eval(&f.law, 2 * f.n_opt[j], f.d_opt[j] / 2));
        assert_true(f.loss_opt[j] <= ts_nd_law_eval(&f.law, f.n_opt[j] / 2, f.d_opt[j] * 2));
    }
    assert_rel(f.budget[0], 1e15, 1e-12);
    assert_rel(f.budget[TS_ND_N_BUDGETS - 1], 1e19, 1e-12);
    double span = log(f.budget[TS_ND_N_BUDGETS - 1] / f.budget[0]);
    double slope_n = log(brute[TS_ND_N_BUDGETS - 1] / brute[0]) / span;
    assert_rel(slope_n, TRUE_LAW.beta / sum, 1e-4);
    double slope_d = 1.0 - slope_n; /* D = C / (k·N) */
    assert_rel(slope_d, TRUE_LAW.alpha / sum, 1e-4);
    ts_nd_fit_free(&f);
    /* A law that does not fall with D has no frontier. */
    ts_nd_law flat = TRUE_LAW;
    flat.beta = -0.1;
    double a, b, no, dopt;
    assert_false(ts_nd_frontier_exponents(&flat, &a, &b));
    assert_false(ts_nd_frontier(&flat, k, 1e18, &no, &dopt));
    assert_true(isnan(a) && isnan(no));
}

static void noisy_intervals_hold_true_parameters(void **state) {
    (void)state;
    double n[N_POINTS], d[N_POINTS], loss[N_POINTS];
    law_points(n, d, loss, 0.01, 7);
    ts_nd_fit f;
    assert_int_equal(ts_fit_nd(n, d, loss, N_POINTS, 6.0, 1000, 42, &f), TS_OK);
    assert_true(f.ok);
    print_message("E %.4f [%.4f, %.4f]  A %.4g [%.4g, %.4g]  alpha %.4f [%.4f, %.4f]\n", f.law.E,
                  f.lo.E, f.hi.E, f.law.A, f.lo.A, f.hi.A, f.law.alpha, f.lo.alpha, f.hi.alpha);
    print_message("B %.4g [%.4g, %.4g]  beta %.4f [%.4f, %.4f]  a %.4f [%.4f, %.4f]  b %.4f "
                  "[%.4f, %.4f]  %d/%d resamples, rmse %.4f\n",
                  f.law.B, f.lo.B, f.hi.B, f.law.beta, f.lo.beta, f.hi.beta, f.a, f.a_lo, f.a_hi,
                  f.b, f.b_lo, f.b_hi, f.boot_used, f.boot_asked, f.rmse);
    assert_true(f.boot_used > 900);
    const double want[] = {TRUE_LAW.E, TRUE_LAW.A, TRUE_LAW.alpha, TRUE_LAW.B, TRUE_LAW.beta};
    const double got[] = {f.law.E, f.law.A, f.law.alpha, f.law.B, f.law.beta};
    const double lo[] = {f.lo.E, f.lo.A, f.lo.alpha, f.lo.B, f.lo.beta};
    const double hi[] = {f.hi.E, f.hi.A, f.hi.alpha, f.hi.B, f.hi.beta};
    for (int i = 0; i < 5; i++) {
        if (!(lo[i] <= want[i] && want[i] <= hi[i]))
            fail_msg("parameter %d: true %.6g outside [%.6g, %.6g]", i, want[i], lo[i], hi[i]);
        assert_true(lo[i] <= got[i] && got[i] <= hi[i]);
    }
    /* Intervals that say something: the exponents to within ±0.15, E to within ±0.5. */
    assert_true(f.hi.alpha - f.lo.alpha < 0.3 && f.hi.beta - f.lo.beta < 0.3);
    assert_true(f.hi.E - f.lo.E < 1.0);
    const double sum = TRUE_LAW.alpha + TRUE_LAW.beta;
    assert_true(f.a_lo <= TRUE_LAW.beta / sum && TRUE_LAW.beta / sum <= f.a_hi);
    assert_true(f.b_lo <= TRUE_LAW.alpha / sum && TRUE_LAW.alpha / sum <= f.b_hi);
    for (int j = 0; j < TS_ND_N_BUDGETS; j++)
        assert_true(f.n_lo[j] <= f.n_opt[j] && f.n_opt[j] <= f.n_hi[j]);
    /* residuals are observed − fitted and about the noise's size (1% of a loss of 2–8) */
    assert_true(f.rmse > 0.005 && f.rmse < 0.08);
    double ss = 0;
    for (int i = 0; i < N_POINTS; i++)
        ss += f.residuals[i] * f.residuals[i];
    assert_rel(sqrt(ss / N_POINTS), f.rmse, 1e-9);
    ts_nd_fit_free(&f);
}

static void too_few_budgets_is_not_a_fit(void **state) {
    (void)state;
    /* three sizes but two budgets, plus points the fit must leave out */
    double n[] = {1e6, 1e7, 1e8, 1e6, 1e7, 1e8, -1, 1e6};
    double d[] = {1e8, 1e8, 1e8, 1e9, 1e9, 1e9, 1e9, 0};
    double loss[] = {4, 3.5, 3.2, 3.4, 3, 2.7, 2, 2};
    ts_nd_fit f;
    assert_int_equal(ts_fit_nd(n, d, loss, 8, 6.0, 100, 1, &f), TS_OK);
    assert_false(f.ok);
    assert_int_equal(f.n_points, 6);
    assert_int_equal(f.n_sizes, 3);
    assert_int_equal(f.n_budgets, 2);
    assert_non_null(strstr(f.why, "not enough"));
    assert_true(isnan(f.law.alpha) && isnan(f.n_opt[0]) && isnan(f.residuals[6]));
    ts_nd_fit_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(noiseless_recovers_parameters),
        cmocka_unit_test(frontier_exponents_of_noiseless_law),
        cmocka_unit_test(noisy_intervals_hold_true_parameters),
        cmocka_unit_test(too_few_budgets_is_not_a_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
