/* lstm_step_forward_items.comp — lstm_step_forward.comp's step with one item per (row, unit)
 * reading its four W_hh rows itself: no shared memory, no barriers, the form for CPU devices
 * (backends/lstm_variant.h). has_prev == 0: h_prev = c_prev = 0 (not read). */
#version 450
#include "common.glsl"
BUF(0, h_) BUF(1, c_) BUF(2, act_) BUF(3, pre_) BUF(4, hp_) BUF(5, cp_) BUF(6, w_) BUF(7, bi_)
BUF(8, bh_)
layout(push_constant) uniform P {
    uint ho, co, ao, po, hpo, cpo, wo, bio, bho, B, H, ld, has_prev;
} p;
float ts_sigmoid(float x) {
    return 1.0 / (1.0 + exp(-x));
}
void main() {
    uint e = ts_flat();
    if (e >= p.B * p.H) return;
    uint H = p.H, b = e / H, j = e % H;
    uint g0 = p.po + b * 4u * H, a0 = p.ao + b * 4u * H, s = b * p.ld + j;
    float gi = pre_[g0 + j] + bi_[p.bio + j] + bh_[p.bho + j];
    float gf = pre_[g0 + H + j] + bi_[p.bio + H + j] + bh_[p.bho + H + j];
    float gg = pre_[g0 + 2u * H + j] + bi_[p.bio + 2u * H + j] + bh_[p.bho + 2u * H + j];
    float go = pre_[g0 + 3u * H + j] + bi_[p.bio + 3u * H + j] + bh_[p.bho + 3u * H + j];
    float cp = 0.0;
    if (p.has_prev != 0u) {
        uint h0 = p.hpo + b * p.ld, wi = p.wo + j * H, step = H * H;
        float si = 0.0, sf = 0.0, sg = 0.0, so = 0.0;
        for (uint k = 0u; k < H; k++) {
            float x = hp_[h0 + k];
            si += x * w_[wi + k];
            sf += x * w_[wi + step + k];
            sg += x * w_[wi + 2u * step + k];
            so += x * w_[wi + 3u * step + k];
        }
        gi += si;
        gf += sf;
        gg += sg;
        go += so;
        cp = cp_[p.cpo + s];
    }
    float ig = ts_sigmoid(gi), fg = ts_sigmoid(gf), tg = ts_tanh(gg), og = ts_sigmoid(go);
    act_[a0 + j] = ig;
    act_[a0 + H + j] = fg;
    act_[a0 + 2u * H + j] = tg;
    act_[a0 + 3u * H + j] = og;
    float cn = fg * cp + ig * tg;
    c_[p.co + s] = cn;
    h_[p.ho + s] = og * ts_tanh(cn);
}
