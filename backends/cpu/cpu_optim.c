/*
 * cpu_optim.c — deterministic reductions (sum, sum of squares: the loss mean and the gradient
 * norm for clipping) and the AdamW update.
 *
 * Reductions add fixed 4096-element chunks in double (in parallel), then add the chunk totals
 * in chunk order, so the result is the same for any thread count.
 */
#include "backends/cpu/cpu_internal.h"
#include "backends/op_variants.h"

#include <math.h>

#define SUM_CHUNK 4096

static void reduce(ts_backend *be, const char *op, ts_tensor out, ts_tensor x, size_t n,
                   int squares) {
    (void)op; /* nothing here can fail */
    float *po = cpu_f32(out);
    const float *px = n ? cpu_f32(x) : NULL;
    size_t chunks = (n + SUM_CHUNK - 1) / SUM_CHUNK;
    double *part = chunks ? cpu_scratch(be, chunks * sizeof *part) : NULL;
    if (chunks && !part) return;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (chunks > 1)
    for (size_t k = 0; k < chunks; k++) {
        size_t i0 = k * SUM_CHUNK, len = n - i0 < SUM_CHUNK ? n - i0 : SUM_CHUNK;
        part[k] = squares ? cpu_sumsq_d(px + i0, len, 0.0) : cpu_sum_d(px + i0, len);
    }
    double total = 0;
    for (size_t k = 0; k < chunks; k++)
        total += part[k];
    po[0] = (float)total;
}

TS_SUM_OPS(cpu)

/* The gate in the step's own arithmetic: sqrtf of the float sum, the coefficient in double
 * (PyTorch's Python float), so a cpu run is bit for bit the host-side gate it replaces. */
void cpu_grad_gate(ts_backend *be, ts_tensor gate, ts_tensor norm, ts_tensor sums, double clip) {
    (void)be;
    const float *ps = cpu_f32(sums);
    float loss_sum = ps[0], nrm = sqrtf(ps[1]);
    float coef = (float)(clip / ((double)nrm + 1e-6));
    float *pg = cpu_f32(gate);
    cpu_f32(norm)[0] = nrm;
    pg[0] = coef < 1.0f ? coef : 1.0f;
    pg[1] = isfinite(loss_sum) && isfinite(nrm) ? 0.0f : 1.0f;
}

/*
 * torch.optim.AdamW (PyTorch 1.13 _single_tensor_adamw), step t >= 1, in its order:
 *   param *= 1 - lr*wd;  m = m*b1 + (1-b1)*g;  v = v*b2 + (1-b2)*g*g;
 *   denom = sqrt(v) / sqrt(1 - b2^t) + eps;  param += (-lr / (1 - b1^t)) * m / denom.
 * Scalars are formed in double (PyTorch's Python floats) and applied in float, as PyTorch's
 * float32 kernels do; g = gate[0] * grad carries the clipping coefficient. The gradient is
 * zeroed on the way out (skipped step or not), which is the next step's zero-grad.
 */
void cpu_adamw(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v,
               ts_tensor gate, size_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, int t) {
    if (n == 0) return;
    float *pp = cpu_f32(param);
    float *pg = cpu_f32(grad);
    float *pm = cpu_f32(m), *pv = cpu_f32(v);
    const float grad_scale = cpu_f32(gate)[0];
    const int skip = cpu_f32(gate)[1] != 0.0f;
    const ts_adamw_scalars s = ts_adamw_scalars_of(lr, beta1, beta2, eps, weight_decay, t);
    const float decay = s.decay, b1 = s.b1, b2 = s.b2, e = s.eps, a1 = s.a1, a2 = s.a2;
    const float neg_step = s.neg_step, bc2_sqrt = s.bc2_sqrt;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (n >= CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float g = pg[i] * grad_scale;
        pg[i] = 0.0f;
        if (skip) continue;
        float mi = pm[i] * b1 + a1 * g;
        float vi = pv[i] * b2 + a2 * g * g;
        float denom = sqrtf(vi) / bc2_sqrt + e;
        pm[i] = mi;
        pv[i] = vi;
        pp[i] = pp[i] * decay + neg_step * mi / denom;
    }
}
