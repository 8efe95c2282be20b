/* lstm_cell_backward.comp — see backends/cpu/cpu_lstm.c; dc_prev may alias dc (each item
 * reads its element of dc before writing the same element of dc_prev). */
#version 450
#include "common.glsl"
BUF(0, dp_) BUF(1, dcp_) BUF(2, dh_) BUF(3, dc_) BUF(4, act_) BUF(5, c_) BUF(6, cp_)
layout(push_constant) uniform P { uint dpo, dcpo, dho, dco, ao, co, cpo, B, H, ld; } p;
void main() {
    uint e = ts_flat();
    if (e >= p.B * p.H) return;
    uint b = e / p.H, j = e % p.H;
    uint a0 = p.ao + b * 4u * p.H, d0 = p.dpo + b * 4u * p.H, s = b * p.ld + j;
    float ig = act_[a0 + j], fg = act_[a0 + p.H + j];
    float gg = act_[a0 + 2u * p.H + j], og = act_[a0 + 3u * p.H + j];
    float tc = ts_tanh(c_[p.co + s]);
    float dhv = dh_[p.dho + s];
    float dct = dc_[p.dco + s] + dhv * og * (1.0 - tc * tc);
    float d_o = dhv * tc;
    float d_i = dct * gg, d_f = dct * cp_[p.cpo + s], d_g = dct * ig;
    dcp_[p.dcpo + s] = dct * fg;
    dp_[d0 + j] = d_i * ig * (1.0 - ig);
    dp_[d0 + p.H + j] = d_f * fg * (1.0 - fg);
    dp_[d0 + 2u * p.H + j] = d_g * (1.0 - gg * gg);
    dp_[d0 + 3u * p.H + j] = d_o * og * (1.0 - og);
}
