/* lstm_step_forward_items.glsl — what lstm_step_forward_items.comp and its vec4 twin
 * lstm_step_forward_items4.comp share: the bindings the cell reads and writes, and the cell.
 *
 * These are the forms of lstm_step_forward.comp for CPU devices (backends/lstm_variant.h): no
 * shared memory, no barriers. lavapipe runs an invocation group as SIMD lanes and turns every
 * buffer load into one scalar load per lane, so the cost is the number of loads: an invocation
 * owns RU hidden units (all four gates) for RB batch rows, so each h_prev element it loads feeds
 * 4*RU FMAs and each W_hh element RB of them (the earlier form, one unit and row per item, made
 * the step 2-3x slower there than a separate GEMM). The including shader declares bindings 4
 * (h_prev) and 6 (W_hh). RB, RU must match VK_LSTM_ITEMS_ROWS, VK_LSTM_FWD_UNITS. */
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
BUF(0, h_) BUF(1, c_) BUF(2, act_) BUF(3, pre_) BUF(5, cp_) BUF(7, bi_) BUF(8, bh_)
layout(push_constant) uniform P {
    uint ho, co, ao, po, hpo, cpo, wo, bio, bho, B, H, ld, has_prev;
} p;
const uint RB = 4u, RU = 2u;

float ts_sigmoid(float x) {
    return 1.0 / (1.0 + exp(-x));
}

/* The cell for row b, unit j given its recurrent sums s (gates i, f, g, o; 0 without has_prev),
 * in the order of lstm_step_forward.comp: (pre + b_ih + b_hh) + s. */
void lstm_cell(uint b, uint j, vec4 s) {
    uint H = p.H, g0 = p.po + b * 4u * H, a0 = p.ao + b * 4u * H, o = b * p.ld + j;
    float g[4];
    [[unroll]] for (uint q = 0u; q < 4u; q++) {
        uint n = q * H + j;
        g[q] = pre_[g0 + n] + bi_[p.bio + n] + bh_[p.bho + n];
        if (p.has_prev != 0u) g[q] += s[q];
    }
    float cp = p.has_prev != 0u ? cp_[p.cpo + o] : 0.0;
    float ig = ts_sigmoid(g[0]), fg = ts_sigmoid(g[1]), tg = ts_tanh(g[2]);
    float og = ts_sigmoid(g[3]);
    act_[a0 + j] = ig;
    act_[a0 + H + j] = fg;
    act_[a0 + 2u * H + j] = tg;
    act_[a0 + 3u * H + j] = og;
    float cn = fg * cp + ig * tg;
    c_[p.co + o] = cn;
    h_[p.ho + o] = og * ts_tanh(cn);
}

/* The block's first unit and row, and the cells of the block from its sums acc[r][u]. */
uint lstm_unit0() {
    return (gl_WorkGroupID.x * WG + gl_LocalInvocationID.x) * RU;
}
uint lstm_row0() {
    return gl_WorkGroupID.y * RB;
}
void lstm_cells(uint b0, uint j0, vec4 acc[RB][RU]) {
    [[unroll]] for (uint r = 0u; r < RB; r++)
        [[unroll]] for (uint u = 0u; u < RU; u++)
            if (b0 + r < p.B && j0 + u < p.H) lstm_cell(b0 + r, j0 + u, acc[r][u]);
}
