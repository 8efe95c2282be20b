/* lstm_step_backward_items.glsl — what lstm_step_backward_items.comp and its vec4 twin
 * lstm_step_backward_items4.comp share: the bindings the cell backward reads and writes, and
 * the cell backward (lstm_step_backward.comp's, unchanged).
 *
 * The forms of lstm_step_backward.comp for CPU devices, laid out like
 * lstm_step_forward_items.glsl: an invocation owns RU hidden units for RB batch rows, so each
 * dpre_next element of dh += dpre_next W_hh it loads feeds RU FMAs and each W_hh element RB of
 * them. The including shader declares bindings 4 (dpre_next) and 5 (W_hh). dc_prev may alias dc
 * (each invocation reads its elements of dc before writing them). RB, RU must match
 * VK_LSTM_ITEMS_ROWS, VK_LSTM_BWD_UNITS. */
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
BUF(0, dp_) BUF(1, dcp_) BUF(2, dh_) BUF(3, dc_) BUF(6, act_) BUF(7, c_) BUF(8, cp_)
layout(push_constant) uniform P {
    uint dpo, dcpo, dho, dco, dno, wo, ao, co, cpo, B, H, ld, has_prev, has_next;
} p;
const uint RB = 4u, RU = 4u;

/* The cell backward for row b, unit j given its sum s = (dpre_next W_hh)[b, j]. */
void lstm_cell_backward(uint b, uint j, float s) {
    uint H = p.H, a0 = p.ao + b * 4u * H, d0 = p.dpo + b * 4u * H, o = b * p.ld + j;
    float dhv = dh_[p.dho + o], dcv = 0.0;
    if (p.has_next != 0u) {
        dhv += s;
        dh_[p.dho + o] = dhv;
        dcv = dc_[p.dco + o];
    }
    float ig = act_[a0 + j], fg = act_[a0 + H + j];
    float gg = act_[a0 + 2u * H + j], og = act_[a0 + 3u * H + j];
    float tc = ts_tanh(c_[p.co + o]);
    float dct = dcv + dhv * og * (1.0 - tc * tc);
    float d_o = dhv * tc;
    float cpv = p.has_prev != 0u ? cp_[p.cpo + o] : 0.0;
    float d_i = dct * gg, d_f = dct * cpv, d_g = dct * ig;
    dcp_[p.dcpo + o] = dct * fg;
    dp_[d0 + j] = d_i * ig * (1.0 - ig);
    dp_[d0 + H + j] = d_f * fg * (1.0 - fg);
    dp_[d0 + 2u * H + j] = d_g * (1.0 - gg * gg);
    dp_[d0 + 3u * H + j] = d_o * og * (1.0 - og);
}

/* The block's first unit and row, and the cells of the block from its sums acc[r][u]. */
uint lstm_unit0() {
    return (gl_WorkGroupID.x * WG + gl_LocalInvocationID.x) * RU;
}
uint lstm_row0() {
    return gl_WorkGroupID.y * RB;
}
void lstm_cells_backward(uint b0, uint j0, vec4 acc[RB]) {
    [[unroll]] for (uint r = 0u; r < RB; r++)
        [[unroll]] for (uint u = 0u; u < RU; u++)
            if (b0 + r < p.B && j0 + u < p.H) lstm_cell_backward(b0 + r, j0 + u, acc[r][u]);
}
