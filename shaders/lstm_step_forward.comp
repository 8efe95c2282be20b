/* lstm_step_forward.comp — one fused LSTM time step (cl/lstm_step.cl says how): an item per
 * (row, unit) owns all four gates of its unit, adds b_ih, b_hh and h_prev W_hh^T to pre and
 * runs the cell. The product is tiled: a work-group of 64 covers UT units (4*UT rows of W_hh)
 * by 64/UT batch rows, staging 16 columns of W_hh and h_prev in shared memory per round, so
 * W_hh is read in contiguous runs. has_prev == 0: h_prev = c_prev = 0 (not read). */
#version 450
#include "common.glsl"
BUF(0, h_) BUF(1, c_) BUF(2, act_) BUF(3, pre_) BUF(4, hp_) BUF(5, cp_) BUF(6, w_) BUF(7, bi_)
BUF(8, bh_)
layout(push_constant) uniform P {
    uint ho, co, ao, po, hpo, cpo, wo, bio, bho, B, H, ld, has_prev, UT;
} p;
const uint LWG = 64u, KC = 16u, KP = 17u, UT_MAX = 32u; /* the host dispatches WG == 64 */
shared float ws[4u * UT_MAX * KP];
shared float hs[(LWG / 2u) * KP];
float ts_sigmoid(float x) {
    return 1.0 / (1.0 + exp(-x));
}
void main() {
    uint H = p.H, UT = p.UT, BT = LWG / UT, lid = gl_LocalInvocationID.x;
    uint u = lid % UT, bl = lid / UT;
    uint j0 = gl_WorkGroupID.x * UT, b0 = gl_WorkGroupID.y * BT;
    uint j = j0 + u, b = b0 + bl;
    float si = 0.0, sf = 0.0, sg = 0.0, so = 0.0;
    if (p.has_prev != 0u) { /* uniform: every item reaches the barriers */
        for (uint k0 = 0u; k0 < H; k0 += KC) {
            for (uint e = lid; e < 4u * UT * KC; e += LWG) {
                uint r = e / KC, kk = e % KC, q = r / UT, jj = j0 + r % UT, k = k0 + kk;
                ws[r * KP + kk] = jj < H && k < H ? w_[p.wo + (q * H + jj) * H + k] : 0.0;
            }
            for (uint e = lid; e < BT * KC; e += LWG) {
                uint r = e / KC, kk = e % KC, bb = b0 + r, k = k0 + kk;
                hs[r * KP + kk] = bb < p.B && k < H ? hp_[p.hpo + bb * p.ld + k] : 0.0;
            }
            barrier();
            uint kn = min(H - k0, KC);
            for (uint kk = 0u; kk < kn; kk++) {
                float x = hs[bl * KP + kk];
                si += x * ws[u * KP + kk];
                sf += x * ws[(UT + u) * KP + kk];
                sg += x * ws[(2u * UT + u) * KP + kk];
                so += x * ws[(3u * UT + u) * KP + kk];
            }
            barrier();
        }
    }
    if (j >= H || b >= p.B) return;
    uint g0 = p.po + b * 4u * H, a0 = p.ao + b * 4u * H, s = b * p.ld + j;
    float gi = pre_[g0 + j] + bi_[p.bio + j] + bh_[p.bho + j];
    float gf = pre_[g0 + H + j] + bi_[p.bio + H + j] + bh_[p.bho + H + j];
    float gg = pre_[g0 + 2u * H + j] + bi_[p.bio + 2u * H + j] + bh_[p.bho + 2u * H + j];
    float go = pre_[g0 + 3u * H + j] + bi_[p.bio + 3u * H + j] + bh_[p.bho + 3u * H + j];
    float cp = 0.0;
    if (p.has_prev != 0u) {
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
