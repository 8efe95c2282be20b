/*
 * cpu_loss.c — softmax cross-entropy over logits (N, V) against int32 targets, with an
 * ignore_index for padded positions (PyTorch's F.cross_entropy(reduction='none')).
 */
#include "backends/cpu/cpu_internal.h"

#include <math.h>

/* The targets of a cross-entropy op over N rows of V classes; NULL when there is nothing to do
 * (an empty shape) or a target is neither ignore_index nor in [0, V) (error recorded). */
static const int32_t *checked_targets(ts_backend *be, ts_tensor targets, int N, int V,
                                      int ignore_index, const char *op) {
    if (N <= 0 || V <= 0) return NULL;
    const int32_t *tg = cpu_i32(targets);
    for (int r = 0; r < N; r++) {
        if (tg[r] != ignore_index && (tg[r] < 0 || tg[r] >= V)) {
            cpu_fail(be, "%s: target %d at row %d is outside the vocabulary [0, %d)", op, tg[r], r,
                     V);
            return NULL;
        }
    }
    return tg;
}

/*
 * Per row x (V): mx = max x; sum = sum exp(x - mx) (double); probs = exp(x - mx) / sum;
 * loss = log(sum) + mx - x[target] (the log-sum-exp form keeps tiny probabilities exact).
 * Ignored rows still get probs, and loss 0.
 */
void cpu_crossentropy_forward(ts_backend *be, ts_tensor losses, ts_tensor probs, ts_tensor logits,
                              ts_tensor targets, int N, int V, int ignore_index) {
    const int32_t *pt = checked_targets(be, targets, N, V, ignore_index, "crossentropy_forward");
    if (!pt) return;
    size_t nv = (size_t)N * V;
    float *pl = cpu_f32(losses), *pp = cpu_f32(probs);
    const float *px = cpu_f32(logits);
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (nv >= CPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *x = px + (size_t)r * V;
        float *p = pp + (size_t)r * V;
        float mx = -INFINITY;
        for (int j = 0; j < V; j++)
            mx = fmaxf(mx, x[j]);
        /* read the target logit before probs overwrite it: the two may share storage */
        double xt = pt[r] == ignore_index ? 0.0 : x[pt[r]];
        double sum = 0;
        for (int j = 0; j < V; j++) {
            float e = expf(x[j] - mx);
            p[j] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < V; j++)
            p[j] *= inv;
        pl[r] = pt[r] == ignore_index ? 0.0f : (float)(log(sum) + mx - xt);
    }
}

/* dlogits = scale * (probs - onehot(target)); ignored rows are zero. */
void cpu_crossentropy_backward(ts_backend *be, ts_tensor dlogits, ts_tensor probs,
                               ts_tensor targets, int N, int V, int ignore_index, float scale) {
    const int32_t *pt = checked_targets(be, targets, N, V, ignore_index, "crossentropy_backward");
    if (!pt) return;
    size_t nv = (size_t)N * V;
    float *pd = cpu_f32(dlogits);
    const float *pp = cpu_f32(probs);
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (nv >= CPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *p = pp + (size_t)r * V;
        float *d = pd + (size_t)r * V;
        if (pt[r] == ignore_index) {
            for (int j = 0; j < V; j++)
                d[j] = 0.0f;
            continue;
        }
        for (int j = 0; j < V; j++)
            d[j] = scale * (p[j] - (j == pt[r] ? 1.0f : 0.0f));
    }
}
