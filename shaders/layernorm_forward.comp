/* layernorm_forward.comp — one work-group per row; two-pass mean and variance, tree sums. */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, o_) BUF(1, mean_) BUF(2, rstd_) BUF(3, x_) BUF(4, w_) BUF(5, b_)
layout(push_constant) uniform P { uint oo, mo, ro, xo, wo, bo, N, C; float eps; } p;
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= p.N) return; /* whole groups only: barriers stay uniform */
    uint x0 = p.xo + r * p.C;
    float s = 0.0;
    for (uint c = lid; c < p.C; c += WG)
        s += x_[x0 + c];
    float mu = ts_group_sum(s) / float(p.C);
    float ss = 0.0;
    for (uint c = lid; c < p.C; c += WG) {
        float d = x_[x0 + c] - mu;
        ss += d * d;
    }
    float var = ts_group_sum(ss) / float(p.C);
    float q = 1.0 / sqrt(var + p.eps);
    uint y0 = p.oo + r * p.C;
    for (uint c = lid; c < p.C; c += WG)
        o_[y0 + c] = (x_[x0 + c] - mu) * q * w_[p.wo + c] + b_[p.bo + c];
    if (lid == 0u) {
        mean_[p.mo + r] = mu;
        rstd_[p.ro + r] = q;
    }
}
