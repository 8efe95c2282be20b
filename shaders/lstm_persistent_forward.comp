/* lstm_persistent_forward.comp — all T steps of one LSTM layer in one dispatch (ops.def:
 * lstm_sequence_forward; cl/lstm_persistent.cl is the same kernel and says how). Work-group g
 * owns units [g*U, g*U + U); a device-wide barrier (lstm_persistent.glsl) separates steps. */
#version 450
#include "common.glsl"
layout(std430, set = 0, binding = 0) coherent buffer Buf0 {
    float h_[];
};
BUF(1, c_) BUF(2, act_) BUF(3, pre_) BUF(4, h0_) BUF(5, c0_) BUF(6, w_) BUF(7, bi_) BUF(8, bh_)
layout(push_constant) uniform P {
    uint ho, co, ao, po, h0o, c0o, wo, bio, bho, T, B, H, has_init, U, wl_on, spin_cap;
} p;
#define SYNC_BINDING 9
#include "lstm_persistent.glsl"

float hprev(uint t, uint i) { /* element i of h_{t-1} (t > 0) or of h0 */
    return t > 0u ? h_[p.ho + (t - 1u) * p.B * p.H + i] : h0_[p.h0o + i];
}

void main() {
    uint H = p.H, U = p.U, BH = p.B * H, lid = gl_LocalInvocationID.x;
    uint j0 = gl_WorkGroupID.x * U, units = j0 < H ? min(U, H - j0) : 0u;
    if (p.wl_on != 0u) {
        for (uint e = lid; e < 4u * units * H; e += WG) {
            uint r = e / H, k = e % H, q = r / units, u = r % units;
            wl[(q * U + u) * H + k] = w_[p.wo + (q * H + j0 + u) * H + k];
        }
        barrier();
    }
    uint t = 0u;
    for (; t < p.T; t++) {
        bool prev = t > 0u || p.has_init != 0u;
        for (uint e = lid; e < p.B * units; e += WG) {
            uint b = e / units, u = e % units, j = j0 + u;
            uint g0 = p.po + (t * BH + b * H) * 4u;
            float gi = pre_[g0 + j] + bi_[p.bio + j] + bh_[p.bho + j];
            float gf = pre_[g0 + H + j] + bi_[p.bio + H + j] + bh_[p.bho + H + j];
            float gg = pre_[g0 + 2u * H + j] + bi_[p.bio + 2u * H + j] + bh_[p.bho + 2u * H + j];
            float go = pre_[g0 + 3u * H + j] + bi_[p.bio + 3u * H + j] + bh_[p.bho + 3u * H + j];
            float cprev = 0.0;
            if (prev) {
                float si = 0.0, sf = 0.0, sg = 0.0, so = 0.0;
                for (uint k = 0u; k < H; k++) {
                    float x = hprev(t, b * H + k);
                    if (p.wl_on != 0u) {
                        si += x * wl[u * H + k];
                        sf += x * wl[(U + u) * H + k];
                        sg += x * wl[(2u * U + u) * H + k];
                        so += x * wl[(3u * U + u) * H + k];
                    } else {
                        uint r = p.wo + j * H + k;
                        si += x * w_[r];
                        sf += x * w_[r + H * H];
                        sg += x * w_[r + 2u * H * H];
                        so += x * w_[r + 3u * H * H];
                    }
                }
                gi += si, gf += sf, gg += sg, go += so;
                cprev = t > 0u ? c_[p.co + (t - 1u) * BH + b * H + j] : c0_[p.c0o + b * H + j];
            }
            float ig = tsp_sigmoid(gi), fg = tsp_sigmoid(gf), tg = ts_tanh(gg),
                  og = tsp_sigmoid(go);
            uint a0 = p.ao + (t * BH + b * H) * 4u;
            act_[a0 + j] = ig;
            act_[a0 + H + j] = fg;
            act_[a0 + 2u * H + j] = tg;
            act_[a0 + 3u * H + j] = og;
            float cn = fg * cprev + ig * tg;
            c_[p.co + t * BH + b * H + j] = cn;
            h_[p.ho + t * BH + b * H + j] = og * ts_tanh(cn);
        }
        if (t + 1u < p.T && !grid_sync(p.spin_cap)) break;
    }
    /* a failed barrier: poison this group's units from the step it could not finish on */
    for (uint s = t; s < p.T; s++)
        for (uint e = lid; e < p.B * units; e += WG) {
            uint i = s * BH + (e / units) * H + j0 + e % units;
            h_[p.ho + i] = uintBitsToFloat(0x7fc00000u);
            c_[p.co + i] = uintBitsToFloat(0x7fc00000u);
        }
}
