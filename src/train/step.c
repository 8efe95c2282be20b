/* step.c — one training step (see step.h). */
#include "train/step.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

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
 * then the ranks' sums. A rank with no windows (a short last batch) adds zeros. The global
 * mean loss goes to the device, where the gate tests it (only its finiteness counts there). */
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
    return ts_model_set_loss_sum(m, *loss);
}

/* Test hook: TUNESCALE_NONFINITE_AT=N[,N...] turns a gradient element of step N (1-based, as
 * the curve counts) into NaN on the device just before the gate, so a test can watch a skipped
 * step being counted without having to make a model diverge. */
static int poisoned(long step) {
    const char *env = getenv("TUNESCALE_NONFINITE_AT");
    for (char *end; env && *env; env = *end ? end + 1 : end) {
        long at = strtol(env, &end, 10);
        if (end == env) return 0;
        if (at == step + 1) return 1;
    }
    return 0;
}

/* Everything up to the readback is enqueued without a wait: the gradient norm, the clip
 * coefficient and the non-finite gate are computed on the device and AdamW reads them there
 * (skipping the update, and zeroing the gradients either way). The loss sum, the norm and the
 * gate then come back in one transfer, the step's only host wait (in ts_train_step_end). */
ts_status ts_train_step_begin(ts_model *m, const ts_optimizer *opt, double lr, long step,
                              uint64_t seed, const int32_t *x, const int32_t *y, int n, int T,
                              const ts_step_shard *shard, ts_step_pending *p) {
    uint32_t step32 = (uint32_t)step;
    ts_status st;
    p->begun = 0;
    p->sharded = shard && shard->K > 1;
    p->targets = 0;
    p->dp_loss = 0;
    p->scaler = opt->scaler;
    /* --precision fp16: the loss gradient is multiplied by the scale in the backward */
    float ls = opt->scaler ? opt->scaler->scale : 1.0f;
    m->loss_scale = ls;
    if (p->sharded) {
        st = shard_gradients(m, shard, seed, step32, x, y, n, T, &p->dp_loss);
    } else {
        st = ts_model_zero_grad(m); /* a no-op after a step: AdamW zeroed them */
        if (st == TS_OK) st = ts_model_forward(m, x, y, n, T, 1, seed, step32);
        if (st == TS_OK) st = ts_model_backward(m, seed, step32);
        p->targets = m->n_targets;
    }
    if (st == TS_OK && ls != 1.0f) { /* unscaled before the norm: exact, ls is a power of 2 */
        ts_tensor g = {m->grads, 0};
        m->be->iface->scale(m->be, g, 1.0f / ls, m->n_params);
    }
    if (st == TS_OK && poisoned(step)) {
        ts_tensor g = {m->grads, 0};
        m->be->iface->fill(m->be, g, NAN, 1);
    }
    if (st == TS_OK) st = ts_model_grad_gate(m, opt->clip);
    if (st == TS_OK)
        st = ts_model_adamw_gated(m, lr, opt->beta1, opt->beta2, opt->eps, opt->weight_decay,
                                  (int)step + 1);
    if (st == TS_OK) st = ts_model_step_scalars(m, p->v);
    if (st == TS_OK) p->begun = 1;
    return st;
}

ts_status ts_train_step_end(ts_model *m, ts_step_pending *p, ts_step_result *out) {
    out->loss = out->grad_norm = 0;
    out->skipped = 0;
    if (!p->begun) return TS_OK; /* nothing in flight (its begin failed and said so) */
    p->begun = 0;
    ts_status st = ts_model_step_scalars_wait(m, p->v);
    if (st != TS_OK) return st;
    const float *v = p->v;
    /* the mean as ts_model_loss forms it: the float sum over the float count */
    if (p->sharded)
        out->loss = p->dp_loss;
    else
        out->loss = p->targets ? v[TS_SCALAR_LOSS_SUM] / (float)p->targets : 0.0f;
    out->grad_norm = v[TS_SCALAR_GRAD_NORM];
    out->skipped = v[TS_SCALAR_SKIP] != 0.0f; /* a non-finite loss or gradient: no update */
    if (p->scaler) ts_loss_scaler_update(p->scaler, !out->skipped); /* halves on an overflow */
    return TS_OK;
}

ts_status ts_train_step(ts_model *m, const ts_optimizer *opt, double lr, long step, uint64_t seed,
                        const int32_t *x, const int32_t *y, int n, int T,
                        const ts_step_shard *shard, ts_step_result *out) {
    ts_step_pending p;
    ts_status st = ts_train_step_begin(m, opt, lr, step, seed, x, y, n, T, shard, &p);
    ts_status end = ts_train_step_end(m, &p, out);
    return st != TS_OK ? st : end;
}
