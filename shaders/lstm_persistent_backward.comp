/* lstm_persistent_backward.comp — the backward of all T steps of one LSTM layer in one
 * dispatch (ops.def: lstm_sequence_backward; cl/lstm_persistent.cl says how), from t = T-1
 * down. wl row u holds column g*U + u of W_hh (4H values) when wl_on. */
#version 450
#include "common.glsl"
layout(std430, set = 0, binding = 0) coherent buffer Buf0 {
    float dp_[];
};
BUF(1, dc_) BUF(2, dh_) BUF(3, w_) BUF(4, act_) BUF(5, c_) BUF(6, c0_)
layout(push_constant) uniform P {
    uint dpo, dco, dho, wo, ao, co, c0o, T, B, H, has_init, U, wl_on, spin_cap;
} p;
#define SYNC_BINDING 7
#include "lstm_persistent.glsl"

void main() {
    uint H = p.H, U = p.U, BH = p.B * H, lid = gl_LocalInvocationID.x;
    uint j0 = gl_WorkGroupID.x * U, units = j0 < H ? min(U, H - j0) : 0u;
    if (p.wl_on != 0u) {
        for (uint e = lid; e < units * 4u * H; e += WG) {
            uint u = e / (4u * H), n = e % (4u * H);
            wl[u * 4u * H + n] = w_[p.wo + n * H + j0 + u];
        }
        barrier();
    }
    uint done = 0u;
    for (; done < p.T; done++) {
        uint t = p.T - 1u - done;
        bool next = done > 0u, prev = t > 0u || p.has_init != 0u;
        for (uint e = lid; e < p.B * units; e += WG) {
            uint b = e / units, u = e % units, j = j0 + u;
            uint s = t * BH + b * H + j, sb = b * H + j;
            float dhv = dh_[p.dho + s], dcv = 0.0;
            if (next) {
                uint n0 = p.dpo + (t + 1u) * BH * 4u + b * 4u * H;
                float acc = 0.0;
                for (uint n = 0u; n < 4u * H; n++)
                    acc += dp_[n0 + n] * (p.wl_on != 0u ? wl[u * 4u * H + n] : w_[p.wo + n * H + j]);
                dhv += acc;
                dh_[p.dho + s] = dhv;
                dcv = dc_[p.dco + sb];
            }
            uint a0 = p.ao + t * BH * 4u + b * 4u * H, d0 = p.dpo + t * BH * 4u + b * 4u * H;
            float ig = act_[a0 + j], fg = act_[a0 + H + j];
            float gg = act_[a0 + 2u * H + j], og = act_[a0 + 3u * H + j];
            float tc = ts_tanh(c_[p.co + s]);
            float dct = dcv + dhv * og * (1.0 - tc * tc);
            float cprev = !prev ? 0.0 : t > 0u ? c_[p.co + s - BH] : c0_[p.c0o + sb];
            dc_[p.dco + sb] = dct * fg;
            dp_[d0 + j] = dct * gg * ig * (1.0 - ig);
            dp_[d0 + H + j] = dct * cprev * fg * (1.0 - fg);
            dp_[d0 + 2u * H + j] = dct * ig * (1.0 - gg * gg);
            dp_[d0 + 3u * H + j] = dhv * tc * og * (1.0 - og);
        }
        if (done + 1u < p.T && !grid_sync(p.spin_cap)) break;
    }
    /* a failed barrier: poison this group's gradients from the step it could not finish on */
    for (; done < p.T; done++)
        for (uint e = lid; e < p.B * units; e += WG) {
            uint t = p.T - 1u - done, b = e / units, j = j0 + e % units;
            uint d0 = p.dpo + t * BH * 4u + b * 4u * H;
            for (uint q = 0u; q < 4u; q++)
                dp_[d0 + q * H + j] = uintBitsToFloat(0x7fc00000u);
            dh_[p.dho + t * BH + b * H + j] = uintBitsToFloat(0x7fc00000u);
            dc_[p.dco + b * H + j] = uintBitsToFloat(0x7fc00000u);
        }
}
