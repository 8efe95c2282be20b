/*
 * fit_nd.c — L(N, D) = E + A·N^(−α) + B·D^(−β) by Levenberg–Marquardt on log-loss residuals,
 * a percentile bootstrap for every parameter, and the compute-optimal frontier (fit_nd.h).
 *
 * Sizes and budgets span decades, so the fit runs on x = log(N / N_ref), z = log(D / D_ref),
 * N_ref and D_ref the geometric means: A' = A·N_ref^(−α) and B' = B·D_ref^(−β) are then of the
 * order of the losses and the Jacobian's columns stay comparable. As in the Chinchilla paper,
 * E, A' and B' are fitted as logs (e, a', b'), so log L = LSE(e, a' − αx, b' − βz): the three
 * terms stay positive, and a few noisy budgets cannot trade a negative E against a huge,
 * flat B·D^(−β) (an unconstrained fit of the quick-nd sweep did exactly that). A and B are
 * converted back at the end.
 */
#include "analysis/fit_nd.h"

#include <cminpack.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/philox.h"

enum { P_E, P_A, P_ALPHA, P_B, P_BETA, N_PARAMS }; /* P_E, P_A, P_B: logs of E, A', B' */

typedef struct {
    const double *x, *z; /* log(N / N_ref), log(D / D_ref) */
    const double *ly;    /* log(loss) */
    int m;
} problem;

/* The law on the scaled axes: e^e + e^(a' − αx) + e^(b' − βz). */
static double predict(const double *q, double x, double z) {
    return exp(q[P_E]) + exp(q[P_A] - q[P_ALPHA] * x) + exp(q[P_B] - q[P_BETA] * z);
}

static int model_fn(void *p, int m, int n, const double *q, double *fvec, double *fjac, int ldfjac,
                    int iflag) {
    const problem *pr = p;
    (void)n;
    for (int i = 0; i < m; i++) {
        double t0 = exp(q[P_E]), t1 = exp(q[P_A] - q[P_ALPHA] * pr->x[i]),
               t2 = exp(q[P_B] - q[P_BETA] * pr->z[i]), l = t0 + t1 + t2;
        if (!isfinite(l) || !(l > 0)) return -1; /* a term ran off: stop, not iterate on inf */
        if (iflag == 1) {
            fvec[i] = log(l) - pr->ly[i];
        } else if (iflag == 2) { /* d log(l) = dl / l */
            fjac[i + P_E * ldfjac] = t0 / l;
            fjac[i + P_A * ldfjac] = t1 / l;
            fjac[i + P_ALPHA * ldfjac] = -t1 * pr->x[i] / l;
            fjac[i + P_B * ldfjac] = t2 / l;
            fjac[i + P_BETA * ldfjac] = -t2 * pr->z[i] / l;
        }
    }
    return 0;
}

/* One LM run from q; returns 1 and the sum of squared log residuals on convergence. */
static int lm_run(const problem *pr, double q[N_PARAMS], double *sse) {
    int m = pr->m, nfev = 0, njev = 0, ipvt[N_PARAMS];
    double diag[N_PARAMS], qtf[N_PARAMS], wa1[N_PARAMS], wa2[N_PARAMS], wa3[N_PARAMS];
    double *work = malloc(sizeof(double) * (size_t)m * (N_PARAMS + 2));
    if (!work) return 0;
    double *fvec = work, *fjac = work + m, *wa4 = work + (N_PARAMS + 1) * m;
    /* As fit.c: tolerances far below any real noise, gtol 0, info 5 (budget spent) is failure. */
    int info = lmder(model_fn, (void *)pr, m, N_PARAMS, q, fvec, fjac, m, 1e-12, 1e-12, 0.0, 4000,
                     diag, 1, 100.0, 0, &nfev, &njev, ipvt, qtf, wa1, wa2, wa3, wa4);
    int ok = info >= 1 && info <= 8 && info != 5;
    double s = 0;
    if (ok) {
        model_fn((void *)pr, m, N_PARAMS, q, fvec, NULL, m, 1);
        for (int i = 0; i < m; i++)
            s += fvec[i] * fvec[i];
        for (int j = 0; j < N_PARAMS; j++)
            ok = ok && isfinite(q[j]);
        ok = ok && isfinite(s);
    }
    free(work);
    *sse = s;
    return ok;
}

/* For fixed E, α, β the law is linear in A' and B': their least-squares values (on the loss)
 * make a start that already passes through the points; a non-positive one is replaced by a
 * small share of the loss above E, so every start is a falling law. q[P_E] holds E itself on
 * entry; all three are logs on return. */
static void linear_start(const problem *pr, double q[N_PARAMS]) {
    double suu = 0, svv = 0, suv = 0, suy = 0, svy = 0, mean = 0;
    for (int i = 0; i < pr->m; i++) {
        double u = exp(-q[P_ALPHA] * pr->x[i]), v = exp(-q[P_BETA] * pr->z[i]);
        double r = exp(pr->ly[i]) - q[P_E];
        suu += u * u, svv += v * v, suv += u * v, suy += u * r, svy += v * r;
        mean += r / pr->m;
    }
    double det = suu * svv - suv * suv;
    q[P_A] = det > 0 ? (suy * svv - svy * suv) / det : NAN;
    q[P_B] = det > 0 ? (svy * suu - suy * suv) / det : NAN;
    double floor_share = fmax(0.05 * mean, 1e-3);
    if (!(q[P_A] > 0)) q[P_A] = floor_share;
    if (!(q[P_B] > 0)) q[P_B] = floor_share;
    q[P_E] = log(q[P_E]), q[P_A] = log(q[P_A]), q[P_B] = log(q[P_B]);
}

/* Best of a grid of starts (the Chinchilla paper's approach 3 also starts from a grid: the
 * surface has shallow valleys where E trades against A and B). */
static int fit_multi_start(const problem *pr, double best[N_PARAMS], double *best_sse) {
    double ymin = INFINITY;
    for (int i = 0; i < pr->m; i++)
        ymin = fmin(ymin, exp(pr->ly[i]));
    const double e_share[] = {0.05, 0.5, 0.8, 0.95}; /* of the smallest loss; E > 0 */
    const double exps[] = {0.1, 0.3, 0.6, 1.0};
    int found = 0;
    for (size_t ie = 0; ie < sizeof e_share / sizeof *e_share; ie++)
        for (size_t ia = 0; ia < sizeof exps / sizeof *exps; ia++)
            for (size_t ib = 0; ib < sizeof exps / sizeof *exps; ib++) {
                double q[N_PARAMS] = {0}, sse;
                q[P_E] = e_share[ie] * ymin;
                q[P_ALPHA] = exps[ia];
                q[P_BETA] = exps[ib];
                linear_start(pr, q);
                if (!lm_run(pr, q, &sse)) continue;
                if (!found || sse < *best_sse) {
                    memcpy(best, q, sizeof q);
                    *best_sse = sse;
                    found = 1;
                }
            }
    return found;
}

double ts_nd_law_eval(const ts_nd_law *l, double n, double d) {
    return l->E + l->A * pow(n, -l->alpha) + l->B * pow(d, -l->beta);
}

int ts_nd_frontier_exponents(const ts_nd_law *l, double *a, double *b) {
    *a = *b = NAN;
    if (!(l->alpha > 0 && l->beta > 0 && l->A > 0 && l->B > 0)) return 0;
    *a = l->beta / (l->alpha + l->beta);
    *b = l->alpha / (l->alpha + l->beta);
    return 1;
}

int ts_nd_frontier(const ts_nd_law *l, double k, double c, double *n_opt, double *d_opt) {
    double a, b;
    *n_opt = *d_opt = NAN;
    if (!ts_nd_frontier_exponents(l, &a, &b) || !(k > 0) || !(c > 0)) return 0;
    double s = c / k; /* N·D on the budget */
    /* In logs: A and B may be large and (C/k)^a beyond a double's range for a wild law. */
    double log_g = (log(l->alpha * l->A) - log(l->beta * l->B)) / (l->alpha + l->beta);
    *n_opt = exp(log_g + a * log(s));
    *d_opt = exp(b * log(s) - log_g);
    return isfinite(*n_opt) && isfinite(*d_opt);
}

/* The law in real units from the scaled parameters. */
static ts_nd_law unscale(const double q[N_PARAMS], double log_nref, double log_dref) {
    ts_nd_law l = {exp(q[P_E]), exp(q[P_A] + q[P_ALPHA] * log_nref), q[P_ALPHA],
                   exp(q[P_B] + q[P_BETA] * log_dref), q[P_BETA]};
    return l;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* 2.5% and 97.5% percentiles (linear interpolation) of the finite values among v[0..k-1]
 * (sorted in place); NAN when fewer than 10 are finite: no meaningful tails. */
static void interval(double *v, int k, double *lo, double *hi) {
    int n = 0;
    for (int i = 0; i < k; i++)
        if (isfinite(v[i])) v[n++] = v[i];
    *lo = *hi = NAN;
    if (n < 10) return;
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    double p[2] = {0.025, 0.975}, r[2];
    for (int j = 0; j < 2; j++) {
        double pos = p[j] * (n - 1);
        int i = (int)floor(pos);
        r[j] = i >= n - 1 ? v[n - 1] : v[i] + (pos - i) * (v[i + 1] - v[i]);
    }
    *lo = r[0];
    *hi = r[1];
}

/* What one resample gives: the five parameters, the two exponents, the frontier per budget. */
enum { S_E, S_A, S_ALPHA, S_B, S_BETA, S_EXP_A, S_EXP_B, S_N0 };
#define N_STATS (S_N0 + 2 * TS_ND_N_BUDGETS)

static void stats_of(const ts_nd_law *l, const ts_nd_fit *out, double *s) {
    s[S_E] = l->E, s[S_A] = l->A, s[S_ALPHA] = l->alpha, s[S_B] = l->B, s[S_BETA] = l->beta;
    ts_nd_frontier_exponents(l, &s[S_EXP_A], &s[S_EXP_B]);
    for (int j = 0; j < TS_ND_N_BUDGETS; j++)
        ts_nd_frontier(l, out->k, out->budget[j], &s[S_N0 + j], &s[S_N0 + TS_ND_N_BUDGETS + j]);
}

/* size_id / budget_id number each point's distinct N and D, to skip degenerate resamples. */
static ts_status bootstrap(const problem *full, const int *size_id, size_t n_sizes,
                           const int *budget_id, size_t n_budgets, const double q_full[N_PARAMS],
                           double log_nref, double log_dref, uint64_t seed, ts_nd_fit *out) {
    int m = full->m, count = out->boot_asked;
    double *buf = malloc(sizeof(double) * ((size_t)m * 3 + (size_t)count * N_STATS));
    unsigned char *seen = malloc(n_sizes + n_budgets);
    if (!buf || !seen) {
        free(buf), free(seen);
        return ts_set_error("out of host memory (bootstrap of %d resamples)", count);
    }
    double *x = buf, *z = buf + m, *ly = buf + 2 * m, *stats = buf + 3 * m;
    ts_rng rng;
    ts_rng_init(&rng, seed, 0x6e64626fu /* "ndbo": its own stream, apart from fit.c's */);
    problem pr = {x, z, ly, m};
    int used = 0;
    for (int r = 0; r < count; r++) {
        memset(seen, 0, n_sizes + n_budgets);
        size_t sizes = 0, budgets = 0;
        for (int i = 0; i < m; i++) {
            uint32_t k = ts_rng_below(&rng, (uint32_t)m);
            x[i] = full->x[k], z[i] = full->z[k], ly[i] = full->ly[k];
            if (!seen[size_id[k]]++) sizes++;
            if (!seen[n_sizes + budget_id[k]]++) budgets++;
        }
        if (sizes < TS_ND_MIN_SIZES || budgets < TS_ND_MIN_BUDGETS) continue;
        double q[N_PARAMS], sse;
        memcpy(q, q_full, sizeof q);
        if (!lm_run(&pr, q, &sse) && !fit_multi_start(&pr, q, &sse)) continue;
        ts_nd_law l = unscale(q, log_nref, log_dref);
        stats_of(&l, out, stats + (size_t)used * N_STATS);
        used++;
    }
    out->boot_used = used;
    /* one statistic at a time, gathered into a column */
    double *col = malloc(sizeof(double) * ((size_t)used + 1));
    if (!col) {
        free(buf), free(seen);
        return ts_set_error("out of host memory");
    }
    double lo[N_STATS], hi[N_STATS];
    for (int s = 0; s < N_STATS; s++) {
        for (int i = 0; i < used; i++)
            col[i] = stats[(size_t)i * N_STATS + s];
        interval(col, used, &lo[s], &hi[s]);
    }
    out->lo = (ts_nd_law){lo[S_E], lo[S_A], lo[S_ALPHA], lo[S_B], lo[S_BETA]};
    out->hi = (ts_nd_law){hi[S_E], hi[S_A], hi[S_ALPHA], hi[S_B], hi[S_BETA]};
    out->a_lo = lo[S_EXP_A], out->a_hi = hi[S_EXP_A];
    out->b_lo = lo[S_EXP_B], out->b_hi = hi[S_EXP_B];
    for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
        out->n_lo[j] = lo[S_N0 + j], out->n_hi[j] = hi[S_N0 + j];
        out->d_lo[j] = lo[S_N0 + TS_ND_N_BUDGETS + j],
        out->d_hi[j] = hi[S_N0 + TS_ND_N_BUDGETS + j];
    }
    free(col), free(buf), free(seen);
    return TS_OK;
}

/* Numbers each value by its rank among the distinct values; returns how many there are. */
static size_t distinct_ids(const double *v, size_t m, double *scratch, int *id) {
    memcpy(scratch, v, sizeof(double) * m);
    qsort(scratch, m, sizeof(double), cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || scratch[i] != scratch[k - 1]) scratch[k++] = scratch[i];
    for (size_t i = 0; i < m; i++)
        id[i] = (int)((double *)bsearch(&v[i], scratch, k, sizeof(double), cmp_double) - scratch);
    return k;
}

static void set_nan(ts_nd_law *l) {
    l->E = l->A = l->alpha = l->B = l->beta = NAN;
}

ts_status ts_fit_nd(const double *n, const double *d, const double *loss, size_t count, double k,
                    int boot_count, uint64_t seed, ts_nd_fit *out) {
    memset(out, 0, sizeof *out);
    set_nan(&out->law), set_nan(&out->lo), set_nan(&out->hi);
    out->r2 = out->rmse = out->a = out->b = NAN;
    out->a_lo = out->a_hi = out->b_lo = out->b_hi = NAN;
    out->k = k;
    for (int j = 0; j < TS_ND_N_BUDGETS; j++) {
        out->budget[j] = pow(10.0, 15 + j);
        out->n_opt[j] = out->d_opt[j] = out->loss_opt[j] = NAN;
        out->n_lo[j] = out->n_hi[j] = out->d_lo[j] = out->d_hi[j] = NAN;
    }
    out->boot_asked = boot_count > 0 ? boot_count : 0;
    size_t cap = count + 1;
    double *buf = malloc(sizeof(double) * cap * 6);
    int *ids = malloc(sizeof(int) * cap * 2);
    size_t *index = malloc(sizeof(size_t) * cap);
    out->residuals = malloc(sizeof(double) * cap);
    if (!buf || !ids || !index || !out->residuals) {
        free(buf), free(ids), free(index);
        ts_nd_fit_free(out);
        return ts_set_error("out of host memory (fit of %zu points)", count);
    }
    double *x = buf, *z = buf + cap, *ly = buf + 2 * cap, *nv = buf + 3 * cap, *dv = buf + 4 * cap,
           *scratch = buf + 5 * cap;
    int *size_id = ids, *budget_id = ids + cap;
    size_t m = 0;
    double log_nref = 0, log_dref = 0;
    for (size_t i = 0; i < count; i++) {
        out->residuals[i] = NAN;
        if (!(n[i] > 0 && d[i] > 0 && loss[i] > 0) || !isfinite(n[i]) || !isfinite(d[i]) ||
            !isfinite(loss[i]))
            continue;
        nv[m] = n[i], dv[m] = d[i];
        x[m] = log(n[i]), z[m] = log(d[i]), ly[m] = log(loss[i]);
        log_nref += x[m], log_dref += z[m];
        index[m++] = i;
    }
    out->n_points = m;
    ts_status st = TS_OK;
    if (m == 0) {
        snprintf(out->why, sizeof out->why, "no usable point");
        goto done;
    }
    out->n_sizes = distinct_ids(nv, m, scratch, size_id);
    out->n_budgets = distinct_ids(dv, m, scratch, budget_id);
    if (out->n_sizes < TS_ND_MIN_SIZES || out->n_budgets < TS_ND_MIN_BUDGETS) {
        snprintf(out->why, sizeof out->why, "not enough sizes or budgets (%zu and %zu; %d each)",
                 out->n_sizes, out->n_budgets, TS_ND_MIN_SIZES);
        goto done;
    }
    if (m <= N_PARAMS) {
        snprintf(out->why, sizeof out->why, "%zu points for %d parameters", m, N_PARAMS);
        goto done;
    }
    log_nref /= (double)m, log_dref /= (double)m;
    for (size_t i = 0; i < m; i++)
        x[i] -= log_nref, z[i] -= log_dref;
    problem pr = {x, z, ly, (int)m};
    double q[N_PARAMS], sse;
    if (!fit_multi_start(&pr, q, &sse)) {
        snprintf(out->why, sizeof out->why, "the fit did not converge");
        goto done;
    }
    out->ok = 1;
    out->law = unscale(q, log_nref, log_dref);
    double mean = 0, ss_tot = 0, ss_res = 0, ly_min = INFINITY;
    for (size_t i = 0; i < m; i++)
        mean += exp(ly[i]) / (double)m, ly_min = fmin(ly_min, ly[i]);
    for (size_t i = 0; i < m; i++) {
        double y = exp(ly[i]), r = y - predict(q, x[i], z[i]);
        out->residuals[index[i]] = r;
        ss_res += r * r;
        ss_tot += (y - mean) * (y - mean);
    }
    out->r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : NAN;
    out->rmse = sqrt(ss_res / (double)m);
    /* Unconstrained, like fit.c: say when the optimum left the region where the law has a
     * frontier, rather than hide it behind bounds. */
    if (!ts_nd_frontier_exponents(&out->law, &out->a, &out->b))
        snprintf(out->note, sizeof out->note,
                 "no compute-optimal frontier: the loss does not fall with both N and D here");
    else if (out->law.E < 1e-3 * exp(ly_min))
        snprintf(out->note, sizeof out->note, "E near 0: no loss floor visible in this range");
    for (int j = 0; j < TS_ND_N_BUDGETS; j++)
        if (ts_nd_frontier(&out->law, k, out->budget[j], &out->n_opt[j], &out->d_opt[j]))
            out->loss_opt[j] = ts_nd_law_eval(&out->law, out->n_opt[j], out->d_opt[j]);
    if (out->boot_asked)
        st = bootstrap(&pr, size_id, out->n_sizes, budget_id, out->n_budgets, q, log_nref, log_dref,
                       seed, out);
done:
    free(buf), free(ids), free(index);
    return st;
}

void ts_nd_fit_free(ts_nd_fit *f) {
    free(f->residuals);
    f->residuals = NULL;
}
