/* softmax_causal_forward.comp — causal softmax of scale * pre, one work-group per row of
 * (BH, T, T); att may alias pre (each item touches only its own columns). */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, y_) BUF(1, x_)
layout(push_constant) uniform P { uint ao, po, rows, T; float scale; } p;
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= p.rows) return;
    uint t = r % p.T;
    uint x0 = p.po + r * p.T, y0 = p.ao + r * p.T;
    float mx = -1.0 / 0.0;
    for (uint s = lid; s <= t; s += WG)
        mx = max(mx, p.scale * x_[x0 + s]);
    mx = ts_group_max(mx);
    float sum = 0.0;
    for (uint s = lid; s <= t; s += WG) {
        float e = exp(p.scale * x_[x0 + s] - mx);
        y_[y0 + s] = e;
        sum += e;
    }
    sum = ts_group_sum(sum);
    float inv = 1.0 / sum;
    for (uint s = lid; s < p.T; s += WG)
        y_[y0 + s] = s <= t ? y_[y0 + s] * inv : 0.0;
}
