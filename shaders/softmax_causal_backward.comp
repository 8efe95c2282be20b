/* softmax_causal_backward.comp — dpre = scale * att * (datt - sum datt * att) for s <= t,
 * 0 above the diagonal; one work-group per row. */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, dx_) BUF(1, dy_) BUF(2, y_)
layout(push_constant) uniform P { uint dxo, dyo, ao, rows, T; float scale; } p;
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= p.rows) return;
    uint t = r % p.T;
    uint dy0 = p.dyo + r * p.T, y0 = p.ao + r * p.T, dx0 = p.dxo + r * p.T;
    float dot = 0.0;
    for (uint s = lid; s <= t; s += WG)
        dot += dy_[dy0 + s] * y_[y0 + s];
    float d = ts_group_sum(dot);
    for (uint s = lid; s < p.T; s += WG)
        dx_[dx0 + s] = s <= t ? p.scale * y_[y0 + s] * (dy_[dy0 + s] - d) : 0.0;
}
