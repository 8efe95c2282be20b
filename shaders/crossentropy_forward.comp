/* crossentropy_forward.comp — one work-group per row: probs = softmax(logits), loss =
 * log(sum) + max - x[target]; probs may alias logits (the target logit is read before the
 * first barrier). A bad target sets the status word and the row counts as ignored. */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, loss_) BUF(1, pr_) BUF(2, x_) IBUF(3, tg_) IBUF(4, status_)
layout(push_constant) uniform P { uint lo, po, xo, to, N, V; int ignore_index; } p;
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= p.N) return;
    uint x0 = p.xo + r * p.V, p0 = p.po + r * p.V;
    int tg = tg_[p.to + r];
    bool ignored = tg == p.ignore_index;
    if (!ignored && (tg < 0 || uint(tg) >= p.V)) {
        if (lid == 0u) status_[0] = TS_BAD_TARGET;
        ignored = true;
    }
    float xt = ignored ? 0.0 : x_[x0 + uint(tg)];
    float mx = -1.0 / 0.0;
    for (uint j = lid; j < p.V; j += WG)
        mx = max(mx, x_[x0 + j]);
    mx = ts_group_max(mx);
    float sum = 0.0;
    for (uint j = lid; j < p.V; j += WG) {
        float e = exp(x_[x0 + j] - mx);
        pr_[p0 + j] = e;
        sum += e;
    }
    sum = ts_group_sum(sum);
    float inv = 1.0 / sum;
    for (uint j = lid; j < p.V; j += WG)
        pr_[p0 + j] *= inv;
    if (lid == 0u) loss_[p.lo + r] = ignored ? 0.0 : log(sum) + mx - xt;
}
