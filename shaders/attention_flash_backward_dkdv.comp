/*
 * attention_flash_backward_dkdv.comp — dk and dv for one key tile of one (batch, head) pair,
 * the queries at or after the tile streaming through shared memory with their dout, lse and
 * delta (cl/attention_flash.cl's ts_attention_backward_dkdv).
 */
#version 450
#include "common.glsl"
#include "attention_flash.glsl"
BUF(0, dk_) BUF(1, dv_) BUF(2, dy_) BUF(3, q_) BUF(4, k_) BUF(5, v_) BUF(6, l_) BUF(7, dl_)
layout(push_constant) uniform P {
    uint dko, dvo, dyo, qo, ko, vo, lo, dlo, T, HS;
    float scale;
    ts_att_mask m;
} p;

shared float qs[WG * TS_ATT_MAX_HS];
shared float dys[WG * TS_ATT_MAX_HS];
shared float ls[WG];
shared float ds[WG];

void main() {
    uint tile = gl_WorkGroupID.x, bh = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
    uint s = tile * WG + lid, base = bh * p.T * p.HS;
    float kr[TS_ATT_MAX_HS], vr[TS_ATT_MAX_HS], dka[TS_ATT_MAX_HS], dva[TS_ATT_MAX_HS];
    for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
        kr[d] = d < p.HS && s < p.T ? ts_att_in(k_[p.ko + base + s * p.HS + d]) : 0.0;
        vr[d] = d < p.HS && s < p.T ? ts_att_in(v_[p.vo + base + s * p.HS + d]) : 0.0;
        dka[d] = 0.0;
        dva[d] = 0.0;
    }
    uint tiles = (p.T + WG - 1u) / WG;
    for (uint qt = tile; qt < tiles; qt++) { /* query tiles before the key tile: all masked */
        uint t0 = qt * WG;
        barrier();
        TS_ATT_LOAD(qs, q_, p.qo + base, t0)
        TS_ATT_LOAD(dys, dy_, p.dyo + base, t0)
        ls[lid] = t0 + lid < p.T ? l_[p.lo + bh * p.T + t0 + lid] : 0.0;
        ds[lid] = t0 + lid < p.T ? dl_[p.dlo + bh * p.T + t0 + lid] : 0.0;
        barrier();
        if (s >= p.T) continue;
        uint n = min(WG, p.T - t0);
        for (uint i = s > t0 ? s - t0 : 0u; i < n; i++) { /* queries t >= s only */
            float qk = 0.0, dyv = 0.0;
            for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                if (d >= p.HS) break;
                qk += qs[i * TS_ATT_MAX_HS + d] * kr[d];
                dyv += dys[i * TS_ATT_MAX_HS + d] * vr[d];
            }
            float P = exp(p.scale * qk - ls[i]);
            float f = ts_att_factor(p.m, (bh * p.T + t0 + i) * p.T + s);
            float dS = ts_att_in(p.scale * P * (f * dyv - ds[i]));
            float pf = ts_att_in(P * f);
            for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                if (d >= p.HS) break;
                dva[d] += pf * dys[i * TS_ATT_MAX_HS + d];
                dka[d] += dS * qs[i * TS_ATT_MAX_HS + d];
            }
        }
    }
    if (s >= p.T) return;
    for (uint d = 0u; d < p.HS; d++) {
        dk_[p.dko + base + s * p.HS + d] = dka[d];
        dv_[p.dvo + base + s * p.HS + d] = dva[d];
    }
}
