/* lstm_split_partial.comp — the partial recurrent products of the split-K LSTM path
 * (backends/lstm_split.h; cl/lstm_split.cl is the same kernel): part[(s * B + b) * M + m] = sum
 * over k in [s * ks, min(K, (s + 1) * ks)) of x[b * ldx + k] * w[m * sm + k * sk]. The grid is
 * (M / (WG * RM), batch blocks of RB rows, S splits); each sum runs over k in order. */
#version 450
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
BUF(0, part_) BUF(1, x_) BUF(2, w_)
layout(push_constant) uniform P {
    uint xo, wo, B, M, K, ks, ldx, sm, sk;
} p;
const uint RB = 8u; /* TS_LSTM_SPLIT_ROWS in backends/lstm_split.h */
/* An invocation owns RM outputs m by RB batch rows (VK_LSTM_SPLIT_OUTS): each x element it loads
 * feeds RM FMAs and each w element RB of them, which is what lavapipe pays for (a scalar load
 * per lane, see lstm_step_forward_items.glsl); cl/lstm_split.cl keeps one m per item. */
const uint RM = 4u;

void main() {
    uint m0 = gl_GlobalInvocationID.x * RM, b0 = gl_WorkGroupID.y * RB, s = gl_WorkGroupID.z;
    if (m0 >= p.M || b0 >= p.B) return;
    uint k0 = s * p.ks, k1 = min(p.K, k0 + p.ks);
    /* rows past the batch and outputs past M are clamped (read, never stored): no branches */
    uint xr[RB], wm[RM];
    [[unroll]] for (uint r = 0u; r < RB; r++)
        xr[r] = p.xo + min(b0 + r, p.B - 1u) * p.ldx;
    [[unroll]] for (uint u = 0u; u < RM; u++)
        wm[u] = p.wo + min(m0 + u, p.M - 1u) * p.sm;
    vec4 acc[RB]; /* acc[r][u]: row b0 + r, output m0 + u */
    [[unroll]] for (uint r = 0u; r < RB; r++)
        acc[r] = vec4(0.0);
    for (uint k = k0; k < k1; k++) {
        uint ko = k * p.sk;
        vec4 w = vec4(w_[wm[0] + ko], w_[wm[1] + ko], w_[wm[2] + ko], w_[wm[3] + ko]);
        [[unroll]] for (uint r = 0u; r < RB; r++)
            acc[r] += x_[xr[r] + k] * w;
    }
    [[unroll]] for (uint r = 0u; r < RB; r++)
        [[unroll]] for (uint u = 0u; u < RM; u++)
            if (b0 + r < p.B && m0 + u < p.M) part_[(s * p.B + b0 + r) * p.M + m0 + u] = acc[r][u];
}
