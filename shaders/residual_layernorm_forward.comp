/*
 * residual_layernorm_forward.comp — one work-group per row: sum = x + Drop(r + rbias), then
 * LayerNorm of sum (two passes, as layernorm_forward.comp). Each item reads back only the sums
 * it wrote.
 */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
#include "philox.glsl"
#include "fused_drop.glsl"
BUF(0, s_) BUF(1, o_) BUF(2, mean_) BUF(3, rstd_) BUF(4, x_) BUF(5, r_) BUF(6, rb_) BUF(7, w_)
BUF(8, b_)
layout(push_constant) uniform P {
    uint so, oo, mo, ro, xo, rro, rbo, wo, bo, N, C;
    float eps;
    TS_DROP_FIELDS
} p;
#include "fused_drop.glsl"
void main() {
    uint row = ts_group(), lid = gl_LocalInvocationID.x;
    if (row >= p.N) return;
    uint base = row * p.C;
    float s = 0.0;
    for (uint c = lid; c < p.C; c += WG) {
        float v = x_[p.xo + base + c] + ts_drop(r_[p.rro + base + c] + rb_[p.rbo + c], base + c);
        s_[p.so + base + c] = v;
        s += v;
    }
    float mu = ts_group_sum(s) / float(p.C);
    float ss = 0.0;
    for (uint c = lid; c < p.C; c += WG) {
        float d = s_[p.so + base + c] - mu;
        ss += d * d;
    }
    float var = ts_group_sum(ss) / float(p.C);
    float q = 1.0 / sqrt(var + p.eps);
    for (uint c = lid; c < p.C; c += WG)
        o_[p.oo + base + c] = (s_[p.so + base + c] - mu) * q * w_[p.wo + c] + b_[p.bo + c];
    if (lid == 0u) {
        mean_[p.mo + row] = mu;
        rstd_[p.ro + row] = q;
    }
}
