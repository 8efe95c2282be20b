/*
 * attention_flash_backward_dq.comp — dq for one query tile of one (batch, head) pair, the keys
 * streaming through shared memory: P = exp(scale q.k - lse), dS = scale P (factor (dy.v) -
 * delta), dq = sum over keys of dS k (cl/attention_flash.cl's ts_attention_backward_dq).
 */
#version 450
#include "common.glsl"
#include "attention_flash.glsl"
BUF(0, dq_) BUF(1, dy_) BUF(2, q_) BUF(3, k_) BUF(4, v_) BUF(5, l_) BUF(6, dl_)
layout(push_constant) uniform P {
    uint dqo, dyo, qo, ko, vo, lo, dlo, T, HS;
    float scale;
    ts_att_mask m;
} p;

shared float ks[WG * TS_ATT_MAX_HS];
shared float vs[WG * TS_ATT_MAX_HS];

void main() {
    uint tile = gl_WorkGroupID.x, bh = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
    uint t = tile * WG + lid, base = bh * p.T * p.HS;
    float qr[TS_ATT_MAX_HS], dyr[TS_ATT_MAX_HS], acc[TS_ATT_MAX_HS];
    for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
        qr[d] = d < p.HS && t < p.T ? ts_att_in(q_[p.qo + base + t * p.HS + d]) : 0.0;
        dyr[d] = d < p.HS && t < p.T ? ts_att_in(dy_[p.dyo + base + t * p.HS + d]) : 0.0;
        acc[d] = 0.0;
    }
    float L = t < p.T ? l_[p.lo + bh * p.T + t] : 0.0;
    float D = t < p.T ? dl_[p.dlo + bh * p.T + t] : 0.0;
    for (uint kt = 0u; kt <= tile; kt++) {
        barrier();
        TS_ATT_LOAD(ks, k_, p.ko + base, kt * WG)
        TS_ATT_LOAD(vs, v_, p.vo + base, kt * WG)
        barrier();
        if (t >= p.T) continue;
        uint s0 = kt * WG, n = min(WG, t + 1u - s0);
        uint row = (bh * p.T + t) * p.T;
        for (uint j = 0u; j < n; j++) {
            float qk = 0.0, dyv = 0.0;
            for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                if (d >= p.HS) break;
                qk += qr[d] * ks[j * TS_ATT_MAX_HS + d];
            }
            float P = exp(p.scale * qk - L);
            float f = ts_att_factor(p.m, row + s0 + j);
            if (f != 0.0) {
                for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                    if (d >= p.HS) break;
                    dyv += dyr[d] * vs[j * TS_ATT_MAX_HS + d];
                }
            }
            float dS = ts_att_in(p.scale * P * (f * dyv - D));
            for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                if (d >= p.HS) break;
                acc[d] += dS * ks[j * TS_ATT_MAX_HS + d];
            }
        }
    }
    if (t >= p.T) return;
    for (uint d = 0u; d < p.HS; d++)
        dq_[p.dqo + base + t * p.HS + d] = acc[d];
}
