/*
 * fit.h — the scaling-law fit L(N) = a·N^(-alpha) + c (Kaplan et al. 2020, eq. 1.1 plus an
 * irreducible term), by Levenberg–Marquardt (MINPACK lmder, the routine behind SciPy's
 * curve_fit), with a percentile-bootstrap 95% interval for alpha.
 *
 * Not a general curve fitter: one model, three parameters, N > 0.
 */
#ifndef TS_ANALYSIS_FIT_H
#define TS_ANALYSIS_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Fewer distinct N than this and the three parameters are not determined. */
#define TS_FIT_MIN_SIZES 3
/* Fewer than this and a bootstrap interval is meaningless: resamples of 3 sizes mostly repeat
 * a size, so the "interval" collapses to the point (zero width, R² 1). Such a fit is reported
 * as a point fit, marked, without an interval. */
#define TS_FIT_MIN_SIZES_CI 4

typedef struct {
    int ok;         /* 1: a, alpha, c, r2 hold a converged fit */
    char why[320];  /* when !ok: "not enough sizes (2 < 3)", "the fit did not converge" */
    char note[96];  /* when ok but unphysical (alpha <= 0 or c < 0): what to distrust */
    int flagged;    /* ok but alpha <= 0 or c < 0: not a scaling law, shown as a caveat */
    int point_only; /* ok with fewer than TS_FIT_MIN_SIZES_CI sizes: no interval drawn */
    size_t n_points, n_sizes;
    double a, alpha, c;
    double r2;                 /* 1 - SS_res / SS_tot on the fitted points */
    double rmse;               /* sqrt(SS_res / n) */
    int boot_asked;            /* resamples asked for; 0 = no interval */
    int boot_used;             /* resamples that gave a fit (degenerate ones are skipped) */
    double alpha_lo, alpha_hi; /* 2.5% and 97.5% percentiles; NAN without an interval */
} ts_power_fit;

/*
 * Fits count points (n[i], loss[i]); points with n <= 0 or a non-finite value are ignored.
 * bootstrap resamples (0 for none) are drawn with the seed, so a fit is reproducible.
 * "Not enough sizes" or no convergence is a result (out->ok = 0, out->why), not an error;
 * TS_ERR only for host memory.
 */
ts_status ts_fit_power_law(const double *n, const double *loss, size_t count, int bootstrap,
                           uint64_t seed, ts_power_fit *out);

/* a·N^(-alpha) + c for a fit with ok = 1. */
double ts_power_law_eval(const ts_power_fit *f, double n);

#endif
