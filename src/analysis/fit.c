/*
 * fit.c — L(N) = a·N^(-alpha) + c by Levenberg–Marquardt (cminpack lmder) and a percentile
 * bootstrap for alpha.
 *
 * N spans three or more decades, so the fit runs on x = N / N_ref with N_ref the geometric mean
 * of the sizes: the model becomes a'·x^(-alpha) + c with a' of the order of the losses, which
 * keeps the Jacobian's columns comparable. a = a'·N_ref^alpha is converted back at the end.
 */
#include "analysis/fit.h"

#include <cminpack.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/philox.h"

typedef struct {
    const double *lx; /* log(N / N_ref) */
    const double *y;  /* loss */
    int m;
} problem;

/* lmder callback: residuals (iflag 1) or the column-major Jacobian (iflag 2). */
static int model_fn(void *p, int m, int n, const double *q, double *fvec, double *fjac, int ldfjac,
                    int iflag) {
    const problem *pr = p;
    (void)n;
    for (int i = 0; i < m; i++) {
        double t = exp(-q[1] * pr->lx[i]);
        if (!isfinite(t)) return -1; /* alpha ran off: stop rather than iterate on inf */
        if (iflag == 1) {
            fvec[i] = q[0] * t + q[2] - pr->y[i];
        } else if (iflag == 2) {
            fjac[i] = t;
            fjac[i + ldfjac] = -q[0] * t * pr->lx[i];
            fjac[i + 2 * ldfjac] = 1.0;
        }
    }
    return 0;
}

/* One LM run from q; returns 1 and the sum of squares on convergence. */
static int lm_run(const problem *pr, double q[3], double *sse) {
    int m = pr->m, nfev = 0, njev = 0, ipvt[3];
    double diag[3], qtf[3], wa1[3], wa2[3], wa3[3];
    double *work = malloc(sizeof(double) * (size_t)m * 5);
    if (!work) return 0;
    double *fvec = work, *fjac = work + m, *wa4 = work + 4 * m;
    /* Tolerances well below the data's noise so noiseless points are recovered to ~1e-10;
     * gtol 0 as in SciPy. info 5 (evaluation budget spent) is not convergence. */
    int info = lmder(model_fn, (void *)pr, m, 3, q, fvec, fjac, m, 1e-12, 1e-12, 0.0, 4000, diag, 1,
                     100.0, 0, &nfev, &njev, ipvt, qtf, wa1, wa2, wa3, wa4);
    int ok = info >= 1 && info <= 8 && info != 5;
    double s = 0;
    if (ok) {
        model_fn((void *)pr, m, 3, q, fvec, NULL, m, 1);
        for (int i = 0; i < m; i++)
            s += fvec[i] * fvec[i];
        ok = isfinite(s) && isfinite(q[0]) && isfinite(q[1]) && isfinite(q[2]);
    }
    free(work);
    *sse = s;
    return ok;
}

/* Start for a given c0: the straight line log(L - c0) = log a' - alpha·log x. */
static int log_linear_start(const problem *pr, double c0, double q[3]) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < pr->m; i++) {
        if (pr->y[i] - c0 <= 0) return 0;
        double z = log(pr->y[i] - c0);
        sx += pr->lx[i];
        sy += z;
        sxx += pr->lx[i] * pr->lx[i];
        sxy += pr->lx[i] * z;
    }
    double m = pr->m, var = sxx - sx * sx / m;
    if (var <= 0) return 0;
    double slope = (sxy - sx * sy / m) / var;
    q[0] = exp((sy - slope * sx) / m);
    q[1] = slope < 0 ? -slope : 0.1; /* a rising curve still starts from a falling law */
    q[2] = c0;
    return 1;
}

/* Best of several starts: c0 below the smallest loss by a range of margins, and c0 = 0. The
 * sum of squares has local minima when c is started near or above the true floor. */
static int fit_multi_start(const problem *pr, double best[3], double *best_sse) {
    double ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < pr->m; i++) {
        if (pr->y[i] < ymin) ymin = pr->y[i];
        if (pr->y[i] > ymax) ymax = pr->y[i];
    }
    double range = ymax > ymin ? ymax - ymin : fabs(ymin) * 0.1 + 1e-3;
    const double margins[] = {0.01, 0.1, 0.3, 1.0, 3.0};
    double c0s[6];
    int nc = 0;
    for (size_t k = 0; k < sizeof margins / sizeof margins[0]; k++)
        c0s[nc++] = ymin - margins[k] * range;
    if (ymin > 0) c0s[nc++] = 0.0;
    int found = 0;
    for (int k = 0; k < nc; k++) {
        double q[3], sse;
        if (!log_linear_start(pr, c0s[k], q) || !lm_run(pr, q, &sse)) continue;
        if (!found || sse < *best_sse) {
            memcpy(best, q, sizeof q);
            *best_sse = sse;
            found = 1;
        }
    }
    return found;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Linear-interpolated percentile of sorted v[0..k-1], p in [0, 1]. */
static double percentile(const double *v, int k, double p) {
    double pos = p * (k - 1);
    int lo = (int)floor(pos);
    if (lo >= k - 1) return v[k - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

/* Resamples points with replacement, refits, and fills alpha_lo/hi from the percentiles.
 * size_id[i] numbers point i's distinct size, so resamples with < 3 sizes are skipped. */
static ts_status bootstrap(const problem *full, const int *size_id, size_t n_sizes,
                           const double q_full[3], int count, uint64_t seed, ts_power_fit *out) {
    int m = full->m;
    double *lx = malloc(sizeof(double) * (size_t)m), *y = malloc(sizeof(double) * (size_t)m);
    double *alphas = malloc(sizeof(double) * (size_t)count);
    unsigned char *seen = malloc(n_sizes);
    if (!lx || !y || !alphas || !seen) {
        free(lx), free(y), free(alphas), free(seen);
        return ts_set_error("out of host memory (bootstrap of %d resamples)", count);
    }
    ts_rng rng;
    ts_rng_init(&rng, seed, 0x626f6f74u /* "boot": its own stream for this use */);
    problem pr = {lx, y, m};
    int used = 0;
    for (int b = 0; b < count; b++) {
        memset(seen, 0, n_sizes);
        size_t distinct = 0;
        for (int i = 0; i < m; i++) {
            uint32_t k = ts_rng_below(&rng, (uint32_t)m);
            lx[i] = full->lx[k];
            y[i] = full->y[k];
            if (!seen[size_id[k]]++) distinct++;
        }
        if (distinct < TS_FIT_MIN_SIZES) continue; /* degenerate: parameters not determined */
        double q[3], sse;
        memcpy(q, q_full, sizeof q);
        if (!lm_run(&pr, q, &sse) && !fit_multi_start(&pr, q, &sse)) continue;
        alphas[used++] = q[1];
    }
    out->boot_used = used;
    /* Fewer than 10 usable resamples give no meaningful 2.5%/97.5% tails. */
    if (used >= 10) {
        qsort(alphas, (size_t)used, sizeof(double), cmp_double);
        out->alpha_lo = percentile(alphas, used, 0.025);
        out->alpha_hi = percentile(alphas, used, 0.975);
    }
    free(lx), free(y), free(alphas), free(seen);
    return TS_OK;
}

ts_status ts_fit_power_law(const double *n, const double *loss, size_t count, int boot_count,
                           uint64_t seed, ts_power_fit *out) {
    memset(out, 0, sizeof *out);
    out->a = out->alpha = out->c = out->r2 = out->rmse = NAN;
    out->alpha_lo = out->alpha_hi = NAN;
    out->boot_asked = boot_count > 0 ? boot_count : 0;

    double *lx = malloc(sizeof(double) * (count + 1)), *y = malloc(sizeof(double) * (count + 1));
    double *sorted = malloc(sizeof(double) * (count + 1));
    double *nv = malloc(sizeof(double) * (count + 1));
    int *size_id = malloc(sizeof(int) * (count + 1));
    if (!lx || !y || !sorted || !nv || !size_id) {
        free(lx), free(y), free(sorted), free(nv), free(size_id);
        return ts_set_error("out of host memory (fit of %zu points)", count);
    }
    size_t m = 0;
    double mean_log = 0;
    for (size_t i = 0; i < count; i++) {
        if (!(n[i] > 0) || !isfinite(n[i]) || !isfinite(loss[i])) continue;
        lx[m] = log(n[i]);
        y[m] = loss[i];
        sorted[m] = nv[m] = n[i];
        mean_log += lx[m];
        m++;
    }
    out->n_points = m;
    qsort(sorted, m, sizeof(double), cmp_double);
    size_t n_sizes = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[n_sizes++] = sorted[i];
    out->n_sizes = n_sizes;

    ts_status st = TS_OK;
    if (n_sizes < TS_FIT_MIN_SIZES) {
        snprintf(out->why, sizeof out->why, "not enough sizes (%zu < %d)", n_sizes,
                 TS_FIT_MIN_SIZES);
        goto done;
    }
    mean_log /= (double)m;
    for (size_t i = 0; i < m; i++) {
        size_id[i] =
            (int)((double *)bsearch(&nv[i], sorted, n_sizes, sizeof(double), cmp_double) - sorted);
        lx[i] -= mean_log;
    }
    problem pr = {lx, y, (int)m};
    double q[3], sse;
    if (!fit_multi_start(&pr, q, &sse)) {
        snprintf(out->why, sizeof out->why, "the fit did not converge");
        goto done;
    }
    out->ok = 1;
    out->alpha = q[1];
    out->c = q[2];
    out->a = q[0] * exp(q[1] * mean_log);
    double ybar = 0, ss_tot = 0;
    for (size_t i = 0; i < m; i++)
        ybar += y[i];
    ybar /= (double)m;
    for (size_t i = 0; i < m; i++)
        ss_tot += (y[i] - ybar) * (y[i] - ybar);
    out->r2 = ss_tot > 0 ? 1.0 - sse / ss_tot : NAN;
    out->rmse = sqrt(sse / (double)m);
    /* Unconstrained like curve_fit, so say when the optimum left the physical region: with few,
     * noisy sizes the points may not bend and a, c run off together. */
    out->flagged = out->alpha <= 0 || out->c < 0;
    if (out->alpha <= 0)
        snprintf(out->note, sizeof out->note, "alpha <= 0: the loss does not fall with N");
    else if (out->c < 0)
        snprintf(out->note, sizeof out->note, "c < 0: no loss floor visible in this range of N");
    out->point_only = n_sizes < TS_FIT_MIN_SIZES_CI;
    if (out->point_only && !out->note[0])
        snprintf(out->note, sizeof out->note, "point fit: %zu sizes, an interval needs %d", n_sizes,
                 TS_FIT_MIN_SIZES_CI);
    if (out->boot_asked && !out->point_only)
        st = bootstrap(&pr, size_id, n_sizes, q, out->boot_asked, seed, out);
done:
    free(lx), free(y), free(sorted), free(nv), free(size_id);
    return st;
}

double ts_power_law_eval(const ts_power_fit *f, double n) {
    return f->a * pow(n, -f->alpha) + f->c;
}
