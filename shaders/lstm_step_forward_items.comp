/* lstm_step_forward_items.comp — the fused step's forward for CPU devices, any alignment
 * (lstm_step_forward_items.glsl says how). has_prev == 0: h_prev = c_prev = 0 (not read). */
#version 450
#include "lstm_step_forward_items.glsl"
BUF(4, hp_) BUF(6, w_)
void main() {
    uint H = p.H, j0 = lstm_unit0(), b0 = lstm_row0();
    vec4 acc[RB][RU];
    [[unroll]] for (uint r = 0u; r < RB; r++)
        [[unroll]] for (uint u = 0u; u < RU; u++)
            acc[r][u] = vec4(0.0);
    if (p.has_prev != 0u) {
        /* rows past the batch and units past H are clamped (read, never stored): no branches */
        uint hrow[RB], wrow[RU];
        [[unroll]] for (uint r = 0u; r < RB; r++)
            hrow[r] = p.hpo + min(b0 + r, p.B - 1u) * p.ld;
        [[unroll]] for (uint u = 0u; u < RU; u++)
            wrow[u] = p.wo + min(j0 + u, H - 1u) * H;
        uint gs = H * H; /* from one gate's rows to the next */
        for (uint k = 0u; k < H; k++) {
            vec4 w[RU];
            [[unroll]] for (uint u = 0u; u < RU; u++)
                w[u] = vec4(w_[wrow[u] + k], w_[wrow[u] + gs + k], w_[wrow[u] + 2u * gs + k],
                            w_[wrow[u] + 3u * gs + k]);
            [[unroll]] for (uint r = 0u; r < RB; r++) {
                float x = hp_[hrow[r] + k];
                [[unroll]] for (uint u = 0u; u < RU; u++)
                    acc[r][u] += x * w[u];
            }
        }
    }
    lstm_cells(b0, j0, acc);
}
