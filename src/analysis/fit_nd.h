/*
 * fit_nd.h — the two-variable scaling law L(N, D) = E + A·N^(−α) + B·D^(−β) (Hoffmann et al.
 * 2022, "Chinchilla", approach 3) fitted to (parameters, tokens, loss) points, with percentile-
 * bootstrap 95% intervals for every parameter, and the compute-optimal frontier it implies.
 *
 * Fit: least squares on log L (the paper's approach 3 minimises a Huber loss of the same log
 * residuals; with a few dozen points and no outliers plain least squares is its limit), by
 * Levenberg–Marquardt (MINPACK lmder, as fit.c) from a grid of starts, with E, A, B > 0 (fitted
 * as logs, as in the paper) and α, β free.
 *
 * Frontier: the training compute is C = k·N·D, k FLOPs per parameter and token (6 for the
 * forward and backward matmuls; the report takes k from the runs' own flops_per_token, so the
 * Transformer's attention FLOPs are in it). Minimising L on N·D = C/k gives
 *   N_opt = G·(C/k)^a,  D_opt = (C/k)^b / G,  a = β/(α+β),  b = α/(α+β),
 *   G = (α·A / (β·B))^(1/(α+β)).
 */
#ifndef TS_ANALYSIS_FIT_ND_H
#define TS_ANALYSIS_FIT_ND_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Five parameters need at least this many distinct sizes and distinct budgets. */
#define TS_ND_MIN_SIZES   3
#define TS_ND_MIN_BUDGETS 3

/* The frontier table's compute budgets: 1e15, 1e16, ... 1e19 FLOP. */
#define TS_ND_N_BUDGETS 5

typedef struct {
    double E, A, alpha, B, beta;
} ts_nd_law;

/* E + A·n^(−α) + B·d^(−β). */
double ts_nd_law_eval(const ts_nd_law *l, double n, double d);

/* The frontier exponents a = β/(α+β), b = α/(α+β); returns 0 (and NANs) unless α, β, A, B > 0,
 * the only case in which L has a minimum on N·D = const. */
int ts_nd_frontier_exponents(const ts_nd_law *l, double *a, double *b);

/* N_opt and D_opt for compute c with k FLOPs per parameter and token; returns 0 (NANs) when the
 * law has no minimum (see above) or k, c are not positive. */
int ts_nd_frontier(const ts_nd_law *l, double k, double c, double *n_opt, double *d_opt);

typedef struct {
    int ok;         /* 1: law, r2, rmse, residuals hold a converged fit */
    char why[96];   /* when !ok: "not enough sizes (2 < 3)", "the fit did not converge" */
    char note[128]; /* when ok but the law has no frontier (α or β <= 0) or E is near 0 */
    size_t n_points, n_sizes, n_budgets;
    ts_nd_law law;
    double r2;         /* on the loss: 1 − SS_res / SS_tot */
    double rmse;       /* on the loss */
    double *residuals; /* count entries, in input order: observed − fitted loss; NAN for points
                          left out (n, d <= 0 or non-finite). Owned: ts_nd_fit_free. */
    int boot_asked, boot_used;
    ts_nd_law lo, hi; /* 2.5% and 97.5% percentiles per parameter; NAN without an interval */
    /* frontier */
    double k;    /* FLOPs per parameter and token, as given */
    double a, b; /* exponents of N_opt ∝ C^a, D_opt ∝ C^b (NAN: no frontier) */
    double a_lo, a_hi, b_lo, b_hi;
    double budget[TS_ND_N_BUDGETS]; /* C in FLOP */
    double n_opt[TS_ND_N_BUDGETS], d_opt[TS_ND_N_BUDGETS], loss_opt[TS_ND_N_BUDGETS];
    double n_lo[TS_ND_N_BUDGETS], n_hi[TS_ND_N_BUDGETS];
    double d_lo[TS_ND_N_BUDGETS], d_hi[TS_ND_N_BUDGETS];
} ts_nd_fit;

/*
 * Fits count points (n[i] parameters, d[i] tokens, loss[i]); k as above (the frontier is left
 * NAN when k <= 0). bootstrap resamples (0: none) are drawn with the seed, so the fit is
 * reproducible; a resample with fewer than 3 sizes or budgets is skipped. Too few sizes or
 * budgets, or no convergence, is a result (ok = 0, why), not an error; TS_ERR only for host
 * memory.
 */
ts_status ts_fit_nd(const double *n, const double *d, const double *loss, size_t count, double k,
                    int bootstrap, uint64_t seed, ts_nd_fit *out);
void ts_nd_fit_free(ts_nd_fit *f);

#endif
