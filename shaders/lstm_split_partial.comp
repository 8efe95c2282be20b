/* lstm_split_partial.comp — the partial recurrent products of the split-K LSTM path
 * (backends/lstm_split.h; cl/lstm_split.cl is the same kernel): part[(s * B + b) * M + m] = sum
 * over k in [s * ks, min(K, (s + 1) * ks)) of x[b * ldx + k] * w[m * sm + k * sk]. The grid is
 * (M / WG, batch blocks of RB rows, S splits); each invocation sums its k in order. */
#version 450
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
BUF(0, part_) BUF(1, x_) BUF(2, w_)
layout(push_constant) uniform P {
    uint xo, wo, B, M, K, ks, ldx, sm, sk;
} p;
const uint RB = 4u; /* TS_LSTM_SPLIT_ROWS in backends/lstm_split.h */

void main() {
    uint m = gl_GlobalInvocationID.x, b0 = gl_WorkGroupID.y * RB, s = gl_WorkGroupID.z;
    if (m >= p.M || b0 >= p.B) return;
    uint k0 = s * p.ks, k1 = min(p.K, k0 + p.ks), wm = p.wo + m * p.sm;
    /* rows past the batch are clamped (read, never stored): the loop has no branches */
    uint xr[RB];
    [[unroll]] for (uint r = 0u; r < RB; r++)
        xr[r] = p.xo + min(b0 + r, p.B - 1u) * p.ldx;
    vec4 acc = vec4(0.0);
    for (uint k = k0; k < k1; k++) {
        float wv = w_[wm + k * p.sk];
        acc += vec4(x_[xr[0] + k], x_[xr[1] + k], x_[xr[2] + k], x_[xr[3] + k]) * wv;
    }
    [[unroll]] for (uint r = 0u; r < RB; r++)
        if (b0 + r < p.B) part_[(s * p.B + b0 + r) * p.M + m] = acc[r];
}
