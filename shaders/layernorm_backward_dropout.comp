/*
 * layernorm_backward_dropout.comp — groups [0, N): row r's dinp = rstd * (dnorm - mean(dnorm)
 * - norm * mean(dnorm * norm)), dnorm = dout * w, and ddrop = Drop(dinp) (the same item writes
 * both, so ddrop may alias dinp). Groups after N: column c's dweight += sum dout * norm and
 * dbias += sum dout over every row in order, COLSUM_ROWS rows per partial (as
 * colsum_partial/colsum_finish): one dispatch, the same additions on every run. Those groups
 * read dout while rows write dinp, so the two must not alias.
 */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
#include "philox.glsl"
#include "fused_drop.glsl"
BUF(0, dx_) BUF(1, dd_) BUF(2, dw_) BUF(3, db_) BUF(4, dy_) BUF(5, x_) BUF(6, w_) BUF(7, mean_)
BUF(8, rstd_)
layout(push_constant) uniform P {
    uint dxo, ddo, dwo, dbo, dyo, xo, wo, mo, ro, N, C, colsum_rows;
    TS_DROP_FIELDS
} p;
#include "fused_drop.glsl"
void main() {
    uint grp = ts_group(), lid = gl_LocalInvocationID.x;
    if (grp >= p.N) { /* a column group: no barriers below, so items may leave early */
        uint c = (grp - p.N) * WG + lid;
        if (c >= p.C) return;
        float tw = 0.0, tb = 0.0;
        for (uint r0 = 0u; r0 < p.N; r0 += p.colsum_rows) {
            uint r1 = min(p.N, r0 + p.colsum_rows);
            float pw = 0.0, pb = 0.0;
            for (uint r = r0; r < r1; r++) {
                uint e = r * p.C + c;
                float dy = dy_[p.dyo + e];
                pw += dy * ((x_[p.xo + e] - mean_[p.mo + r]) * rstd_[p.ro + r]);
                pb += dy;
            }
            tw += pw;
            tb += pb;
        }
        dw_[p.dwo + c] += tw;
        db_[p.dbo + c] += tb;
        return;
    }
    uint base = grp * p.C;
    float m = mean_[p.mo + grp], q = rstd_[p.ro + grp];
    float s1 = 0.0, s2 = 0.0;
    for (uint c = lid; c < p.C; c += WG) {
        float norm = (x_[p.xo + base + c] - m) * q;
        float dn = dy_[p.dyo + base + c] * w_[p.wo + c];
        s1 += dn;
        s2 += dn * norm;
    }
    float mean1 = ts_group_sum(s1) / float(p.C);
    float mean2 = ts_group_sum(s2) / float(p.C);
    for (uint c = lid; c < p.C; c += WG) {
        float norm = (x_[p.xo + base + c] - m) * q;
        float dn = dy_[p.dyo + base + c] * w_[p.wo + c];
        float v = q * (dn - mean1 - norm * mean2);
        dx_[p.dxo + base + c] = v;
        dd_[p.ddo + base + c] = ts_drop(v, base + c);
    }
}
