/*
 * layernorm_backward.comp — dinp = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)),
 * dnorm = dout * w (assign). dinp may alias dout: the sums' barriers separate every read of
 * dout for the sums from the writes, and the last pass reads each column before writing it in
 * the item that owns it.
 */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, dx_) BUF(1, dy_) BUF(2, x_) BUF(3, w_) BUF(4, mean_) BUF(5, rstd_)
layout(push_constant) uniform P { uint dxo, dyo, xo, wo, mo, ro, N, C; } p;
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= p.N) return;
    uint dy0 = p.dyo + r * p.C, x0 = p.xo + r * p.C, dx0 = p.dxo + r * p.C;
    float m = mean_[p.mo + r], q = rstd_[p.ro + r];
    float s1 = 0.0, s2 = 0.0;
    for (uint c = lid; c < p.C; c += WG) {
        float norm = (x_[x0 + c] - m) * q;
        float dn = dy_[dy0 + c] * w_[p.wo + c];
        s1 += dn;
        s2 += dn * norm;
    }
    float mean1 = ts_group_sum(s1) / float(p.C);
    float mean2 = ts_group_sum(s2) / float(p.C);
    for (uint c = lid; c < p.C; c += WG) {
        float norm = (x_[x0 + c] - m) * q;
        float dn = dy_[dy0 + c] * w_[p.wo + c];
        dx_[dx0 + c] = q * (dn - mean1 - norm * mean2);
    }
}
