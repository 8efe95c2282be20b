/* lstm_cell_forward.comp — one LSTM step (gate order i, f, g, o), one item per (row, unit). */
#version 450
#include "common.glsl"
BUF(0, h_) BUF(1, c_) BUF(2, act_) BUF(3, pre_) BUF(4, cp_)
layout(push_constant) uniform P { uint ho, co, ao, po, cpo, B, H, ld; } p;
float ts_sigmoid(float x) {
    return 1.0 / (1.0 + exp(-x));
}
void main() {
    uint e = ts_flat();
    if (e >= p.B * p.H) return;
    uint b = e / p.H, j = e % p.H;
    uint g0 = p.po + b * 4u * p.H, a0 = p.ao + b * 4u * p.H, s = b * p.ld + j;
    float ig = ts_sigmoid(pre_[g0 + j]);
    float fg = ts_sigmoid(pre_[g0 + p.H + j]);
    float gg = ts_tanh(pre_[g0 + 2u * p.H + j]);
    float og = ts_sigmoid(pre_[g0 + 3u * p.H + j]);
    act_[a0 + j] = ig;
    act_[a0 + p.H + j] = fg;
    act_[a0 + 2u * p.H + j] = gg;
    act_[a0 + 3u * p.H + j] = og;
    float cn = fg * cp_[p.cpo + s] + ig * gg;
    c_[p.co + s] = cn;
    h_[p.ho + s] = og * ts_tanh(cn);
}
