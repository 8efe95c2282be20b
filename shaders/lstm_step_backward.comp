/* lstm_step_backward.comp — the fused step's backward (cl/lstm_step.cl): dh += dpre_next W_hh
 * (has_next; dh updated in place), then the cell backward of backends/cpu/cpu_lstm.c. dc is 0
 * without has_next, c_prev 0 without has_prev. dc_prev may alias dc (each item reads its
 * element of dc before writing the same element of dc_prev). */
#version 450
#include "common.glsl"
BUF(0, dp_) BUF(1, dcp_) BUF(2, dh_) BUF(3, dc_) BUF(4, dn_) BUF(5, w_) BUF(6, act_) BUF(7, c_)
BUF(8, cp_)
layout(push_constant) uniform P {
    uint dpo, dcpo, dho, dco, dno, wo, ao, co, cpo, B, H, ld, has_prev, has_next;
} p;
void main() {
    uint e = ts_flat();
    if (e >= p.B * p.H) return;
    uint H = p.H, b = e / H, j = e % H;
    uint a0 = p.ao + b * 4u * H, d0 = p.dpo + b * 4u * H, s = b * p.ld + j;
    float dhv = dh_[p.dho + s], dcv = 0.0;
    if (p.has_next != 0u) {
        uint n0 = p.dno + b * 4u * H, w0 = p.wo + j;
        float acc = 0.0;
        for (uint n = 0u; n < 4u * H; n++)
            acc += dn_[n0 + n] * w_[w0 + n * H];
        dhv += acc;
        dh_[p.dho + s] = dhv;
        dcv = dc_[p.dco + s];
    }
    float ig = act_[a0 + j], fg = act_[a0 + H + j];
    float gg = act_[a0 + 2u * H + j], og = act_[a0 + 3u * H + j];
    float tc = ts_tanh(c_[p.co + s]);
    float dct = dcv + dhv * og * (1.0 - tc * tc);
    float d_o = dhv * tc;
    float cpv = p.has_prev != 0u ? cp_[p.cpo + s] : 0.0;
    float d_i = dct * gg, d_f = dct * cpv, d_g = dct * ig;
    dcp_[p.dcpo + s] = dct * fg;
    dp_[d0 + j] = d_i * ig * (1.0 - ig);
    dp_[d0 + H + j] = d_f * fg * (1.0 - fg);
    dp_[d0 + 2u * H + j] = d_g * (1.0 - gg * gg);
    dp_[d0 + 3u * H + j] = d_o * og * (1.0 - og);
}
