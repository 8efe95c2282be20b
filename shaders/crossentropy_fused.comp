/*
 * crossentropy_fused.comp — one work-group per row: loss = log(sum) + max - x[target] and
 * dlogits = scale * (softmax(x) - onehot(target)), zero for ignored rows. dlogits may alias
 * logits: the target logit is read before the first barrier, and the last pass reads each
 * column before its item writes it. A bad target sets the status word and the row counts as
 * ignored.
 */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, loss_) BUF(1, d_) BUF(2, x_) IBUF(3, tg_) IBUF(4, status_)
layout(push_constant) uniform P {
    uint lo, dlo, xo, to, N, V;
    int ignore_index;
    float scale;
} p;
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= p.N) return;
    uint x0 = p.xo + r * p.V, d0 = p.dlo + r * p.V;
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
    for (uint j = lid; j < p.V; j += WG)
        sum += exp(x_[x0 + j] - mx);
    sum = ts_group_sum(sum);
    float inv = 1.0 / sum;
    for (uint j = lid; j < p.V; j += WG) {
        float pj = exp(x_[x0 + j] - mx) * inv;
        d_[d0 + j] = ignored ? 0.0 : p.scale * (pj - (int(j) == tg ? 1.0 : 0.0));
    }
    if (lid == 0u) loss_[p.lo + r] = ignored ? 0.0 : log(sum) + mx - xt;
}
