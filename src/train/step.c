/* step.c — one training step (see step.h). */
#include "train/step.h"

#include <math.h>
#include <stddef.h>

#include "backends/backend.h"

void ts_optimizer_default(ts_optimizer *o) {
    o->lr = 3e-4;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = 0.01;
    o->clip = 1.0;
    o->scaler = NULL;
}

/* This rank's slice of the batch: forward and backward with gradients averaged over the whole
 * batch's targets (every rank holds the whole batch, so no exchange is needed to count them),
 * then the ranks' sums. A rank with no windows (a short last batch) adds zeros. */
static ts_status shard_gradients(ts_model *m, const ts_step_shard *sh, uint64_t seed, uint32_t step,
                                 const int32_t *x, const int32_t *y, int n, int T, float *loss) {
    size_t t = (size_t)T;
    int lo = (int)((long)n * sh->rank / sh->K), hi = (int)((long)n * (sh->rank + 1) / sh->K);
    int targets = 0;
    for (size_t i = 0; i < (size_t)n * t; i++)
        targets += y[i] != 0;
    double sums[2] = {0, 0}; /* loss sum, targets */
    ts_status st = ts_model_zero_grad(m);
    if (st == TS_OK && hi > lo) {
        ts_model_set_slice(m, lo, n, targets);
        st = ts_model_forward(m, x + lo * t, y + lo * t, hi - lo, T, 1, seed, step);
        if (st == TS_OK) st = ts_model_backward(m, seed, step);
        int c = 0;
        if (st == TS_OK) st = ts_model_loss(m, NULL, &sums[0], &c);
        sums[1] = c;
    }
    if ((st = sh->all_reduce(sh->ctx, m, st, sums)) != TS_OK) return st;
    *loss = sums[1] > 0 ? (float)(sums[0] / sums[1]) : 0.0f;
    return TS_OK;
}

ts_status ts_train_step(ts_model *m, const ts_optimizer *opt, double lr, long step, uint64_t seed,
                        const int32_t *x, const int32_t *y, int n, int T,
                        const ts_step_shard *shard, ts_step_result *out) {
    uint32_t step32 = (uint32_t)step;
    float loss = 0, norm = 0;
    ts_status st;
    out->loss = out->grad_norm = 0;
    out->skipped = 0;
    float ls = opt->scaler ? opt->scaler->scale : 1.0f; /* loss_scale.h */
    m->loss_scale = ls;
    if (shard && shard->K > 1) {
        st = shard_gradients(m, shard, seed, step32, x, y, n, T, &loss);
    } else {
        st = ts_model_zero_grad(m);
        if (st == TS_OK) st = ts_model_forward(m, x, y, n, T, 1, seed, step32);
        if (st == TS_OK) st = ts_model_backward(m, seed, step32);
        if (st == TS_OK) st = ts_model_loss(m, &loss, NULL, NULL);
    }
    if (st == TS_OK) st = ts_model_grad_norm(m, &norm);
    if (st == TS_OK && ls != 1.0f) norm /= ls; /* the scaled gradient's norm, unscaled */
    if (st == TS_OK && opt->scaler) ts_loss_scaler_update(opt->scaler, isfinite(norm));
    if (st == TS_OK && isfinite(loss) && isfinite(norm)) {
        /* clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1 */
        float coef = (float)(opt->clip / ((double)norm + 1e-6));
        st = ts_model_adamw(m, lr, opt->beta1, opt->beta2, opt->eps, opt->weight_decay,
                            (int)step + 1, (coef < 1.0f ? coef : 1.0f) / ls);
    } else if (st == TS_OK) {
        out->skipped = 1; /* a non-finite loss or gradient: no update */
    }
    if (st == TS_OK) st = ts_backend_sync(m->be);
    out->loss = loss;
    out->grad_norm = norm;
    return st;
}
