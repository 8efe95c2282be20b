/*
 * cpu_norm.c — LayerNorm over the last dimension with PyTorch's semantics: biased variance,
 * eps inside the square root. Row statistics are accumulated in double, which keeps this
 * yardstick well inside the golden tests' 1e-4 even for rows with a large mean.
 */
#include "backends/cpu/cpu_internal.h"

#include <math.h>

/*
 * Per row x (C): mean = sum x / C; var = sum (x - mean)^2 / C (two passes, no cancellation);
 * rstd = 1 / sqrt(var + eps); out = (x - mean) * rstd * w + b. Saves mean and rstd (N).
 */
void cpu_layernorm_forward(ts_backend *be, ts_tensor out, ts_tensor mean, ts_tensor rstd,
                           ts_tensor inp, ts_tensor weight, ts_tensor bias, int N, int C,
                           float eps) {
    if (N <= 0 || C <= 0) return;
    size_t nc = (size_t)N * C;
    float *po = cpu_f32(out), *pm = cpu_f32(mean), *pr = cpu_f32(rstd);
    const float *px = cpu_f32(inp), *pw = cpu_f32(weight), *pb = cpu_f32(bias);
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (nc >= CPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *x = px + (size_t)r * C;
        float *y = po + (size_t)r * C;
        double mu = cpu_sum_d(x, (size_t)C) / C;
        double ss = cpu_sumsq_d(x, (size_t)C, mu);
        double rs = 1.0 / sqrt(ss / C + (double)eps);
        float m = (float)mu, q = (float)rs;
        for (int c = 0; c < C; c++)
            y[c] = (x[c] - m) * q * pw[c] + pb[c];
        pm[r] = m;
        pr[r] = q;
    }
}

typedef struct {
    const float *dout, *inp, *mean, *rstd;
    int C;
} ln_rows;

/* Row r's terms: dweight gets dout * norm (acc[c]), dbias gets dout (acc[C + c]). */
static void ln_param_row(const void *arg, int r, double *acc) {
    const ln_rows *a = arg;
    int C = a->C;
    const float *dy = a->dout + (size_t)r * C;
    const float *x = a->inp + (size_t)r * C;
    float m = a->mean[r], q = a->rstd[r];
    for (int c = 0; c < C; c++) {
        float norm = (x[c] - m) * q;
        acc[c] += (double)dy[c] * norm;
        acc[C + c] += dy[c];
    }
}

/*
 * With norm = (x - mean) * rstd and dnorm = dout * w:
 *   dinp = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))   (assign)
 *   dweight += sum_r dout * norm;  dbias += sum_r dout                 (accumulate)
 * dinp is one pass over rows; the parameter sums are a second, deterministic pass
 * (cpu_column_sums).
 */
void cpu_layernorm_backward(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                            ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                            ts_tensor rstd, int N, int C) {
    if (N <= 0 || C <= 0) return;
    size_t nc = (size_t)N * C;
    float *pdi = cpu_f32(dinp), *pdw = cpu_f32(dweight), *pdb = cpu_f32(dbias);
    const float *pdo = cpu_f32(dout), *px = cpu_f32(inp), *pw = cpu_f32(weight),
                *pm = cpu_f32(mean), *pr = cpu_f32(rstd);

    /* Parameter sums first: dinp may alias dout (an in-place backward). */
    ln_rows arg = {pdo, px, pm, pr, C};
    cpu_column_sums(be, N, C, 2, ln_param_row, &arg, pdw, pdb);

#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (nc >= CPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *dy = pdo + (size_t)r * C;
        const float *x = px + (size_t)r * C;
        float *dx = pdi + (size_t)r * C;
        float m = pm[r], q = pr[r];
        /* s1 = sum dnorm, s2 = sum dnorm * norm, even and odd columns in separate double
         * accumulators: four independent add chains in a fixed order */
        double s1e = 0, s1o = 0, s2e = 0, s2o = 0;
        int c = 0;
        for (; c + 2 <= C; c += 2) {
            float n0 = (x[c] - m) * q, n1 = (x[c + 1] - m) * q;
            float d0 = dy[c] * pw[c], d1 = dy[c + 1] * pw[c + 1];
            s1e += d0, s1o += d1;
            s2e += (double)d0 * n0, s2o += (double)d1 * n1;
        }
        if (c < C) {
            float n0 = (x[c] - m) * q, d0 = dy[c] * pw[c];
            s1e += d0;
            s2e += (double)d0 * n0;
        }
        double s1 = s1e + s1o, s2 = s2e + s2o;
        float mean1 = (float)(s1 / C), mean2 = (float)(s2 / C);
        for (c = 0; c < C; c++) {
            float norm = (x[c] - m) * q;
            float dn = dy[c] * pw[c];
            dx[c] = q * (dn - mean1 - norm * mean2);
        }
    }
}

/* The fused LayerNorm ops of ops.def, as the unfused sequence they stand for (cpu_fused.c). */

void cpu_residual_layernorm_forward(ts_backend *be, ts_tensor sum, ts_tensor out, ts_tensor mean,
                                    ts_tensor rstd, ts_tensor x, ts_tensor r, ts_tensor rbias,
                                    ts_tensor weight, ts_tensor bias, int N, int C, float eps,
                                    float p, ts_dropout_key key) {
    if (N <= 0 || C <= 0) return;
    size_t n = (size_t)N * C;
    /* sum holds r + rbias, then its dropout, then x plus that: no scratch needed */
    cpu_copy(be, sum, r, n);
    cpu_bias_add(be, sum, rbias, N, C);
    cpu_dropout_forward(be, sum, sum, n, p, key);
    cpu_add(be, sum, x, sum, n);
    cpu_layernorm_forward(be, out, mean, rstd, sum, weight, bias, N, C, eps);
}

void cpu_layernorm_backward_dropout(ts_backend *be, ts_tensor dinp, ts_tensor ddrop,
                                    ts_tensor dweight, ts_tensor dbias, ts_tensor dout,
                                    ts_tensor inp, ts_tensor weight, ts_tensor mean, ts_tensor rstd,
                                    int N, int C, float p, ts_dropout_key key) {
    if (N <= 0 || C <= 0) return;
    cpu_layernorm_backward(be, dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    cpu_dropout_backward(be, ddrop, dinp, (size_t)N * C, p, key);
}
