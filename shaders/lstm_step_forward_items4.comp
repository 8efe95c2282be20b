/* lstm_step_forward_items4.comp — lstm_step_forward_items.comp reading h_prev and W_hh as vec4
 * along k, which lavapipe loads with a quarter of the per-lane load loops. The host runs it only
 * when H, ld and the offsets of h_prev and W_hh are multiples of 4. Sums still run over k in
 * order. has_prev == 0: h_prev = c_prev = 0 (not read). */
#version 450
#include "lstm_step_forward_items.glsl"
layout(std430, set = 0, binding = 4) readonly buffer Hp4 {
    vec4 hp4_[];
};
layout(std430, set = 0, binding = 6) readonly buffer W4 {
    vec4 w4_[];
};
void main() {
    uint H = p.H, j0 = lstm_unit0(), b0 = lstm_row0();
    vec4 acc[RB][RU];
    [[unroll]] for (uint r = 0u; r < RB; r++)
        [[unroll]] for (uint u = 0u; u < RU; u++)
            acc[r][u] = vec4(0.0);
    if (p.has_prev != 0u) {
        /* rows past the batch and units past H are clamped (read, never stored): no branches */
        uint hrow[RB], wrow[RU][4];
        [[unroll]] for (uint r = 0u; r < RB; r++)
            hrow[r] = (p.hpo + min(b0 + r, p.B - 1u) * p.ld) / 4u;
        [[unroll]] for (uint u = 0u; u < RU; u++)
            [[unroll]] for (uint q = 0u; q < 4u; q++)
                wrow[u][q] = (p.wo + (q * H + min(j0 + u, H - 1u)) * H) / 4u;
        for (uint k4 = 0u; k4 < H / 4u; k4++) {
            mat4 w[RU]; /* w[u][q]: gate q's W_hh row of unit u at k4*4 .. k4*4+3 */
            [[unroll]] for (uint u = 0u; u < RU; u++)
                [[unroll]] for (uint q = 0u; q < 4u; q++)
                    w[u][q] = w4_[wrow[u][q] + k4];
            [[unroll]] for (uint r = 0u; r < RB; r++) {
                vec4 x = hp4_[hrow[r] + k4];
                [[unroll]] for (uint u = 0u; u < RU; u++)
                    [[unroll]] for (uint i = 0u; i < 4u; i++)
                        acc[r][u] += x[i] * vec4(w[u][0][i], w[u][1][i], w[u][2][i], w[u][3][i]);
            }
        }
    }
    lstm_cells(b0, j0, acc);
}
