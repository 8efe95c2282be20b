/*
 * attention_flash_forward.comp — out and lse for one query tile of one (batch, head) pair:
 * online softmax over the key tiles at or before it, rescaling once per tile (see
 * attention_flash.glsl; cl/attention_flash.cl's ts_attention_forward).
 */
#version 450
#include "common.glsl"
#include "attention_flash.glsl"
BUF(0, o_) BUF(1, l_) BUF(2, q_) BUF(3, k_) BUF(4, v_)
layout(push_constant) uniform P {
    uint oo, lo, qo, ko, vo, T, HS;
    float scale;
    ts_att_mask m;
} p;

shared float ks[WG * TS_ATT_MAX_HS];
shared float vs[WG * TS_ATT_MAX_HS];

void main() {
    uint tile = gl_WorkGroupID.x, bh = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
    uint t = tile * WG + lid, base = bh * p.T * p.HS;
    float qr[TS_ATT_MAX_HS], acc[TS_ATT_MAX_HS], sc[WG];
    for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
        qr[d] = d < p.HS && t < p.T ? ts_att_in(q_[p.qo + base + t * p.HS + d]) : 0.0;
        acc[d] = 0.0;
    }
    float mx = -1.0 / 0.0, sum = 0.0;
    for (uint kt = 0u; kt <= tile; kt++) { /* key tiles past the query tile are all masked */
        barrier();
        TS_ATT_LOAD(ks, k_, p.ko + base, kt * WG)
        TS_ATT_LOAD(vs, v_, p.vo + base, kt * WG)
        barrier();
        if (t >= p.T) continue;
        uint s0 = kt * WG, n = min(WG, t + 1u - s0);
        float tmx = mx;
        for (uint j = 0u; j < n; j++) {
            float s = 0.0;
            for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                if (d >= p.HS) break;
                s += qr[d] * ks[j * TS_ATT_MAX_HS + d];
            }
            sc[j] = p.scale * s;
            tmx = max(tmx, sc[j]);
        }
        float corr = exp(mx - tmx); /* 0 on the first tile (mx = -inf) */
        sum *= corr;
        for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
            if (d >= p.HS) break;
            acc[d] *= corr;
        }
        mx = tmx;
        uint row = (bh * p.T + t) * p.T;
        for (uint j = 0u; j < n; j++) {
            float e = exp(sc[j] - mx);
            sum += e;
            float w = ts_att_in(e * ts_att_factor(p.m, row + s0 + j));
            for (uint d = 0u; d < TS_ATT_MAX_HS; d++) {
                if (d >= p.HS) break;
                acc[d] += w * vs[j * TS_ATT_MAX_HS + d];
            }
        }
    }
    if (t >= p.T) return;
    float inv = 1.0 / sum;
    for (uint d = 0u; d < p.HS; d++)
        o_[p.oo + base + t * p.HS + d] = acc[d] * inv;
    l_[p.lo + bh * p.T + t] = mx + log(sum);
}
