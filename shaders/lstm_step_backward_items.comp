/* lstm_step_backward_items.comp — the fused step's backward for CPU devices, any alignment
 * (lstm_step_backward_items.glsl says how). Sums run over n in order. */
#version 450
#include "lstm_step_backward_items.glsl"
BUF(4, dn_) BUF(5, w_)
void main() {
    uint H = p.H, j0 = lstm_unit0(), b0 = lstm_row0();
    vec4 acc[RB]; /* acc[r][u]: unit j0 + u */
    [[unroll]] for (uint r = 0u; r < RB; r++)
        acc[r] = vec4(0.0);
    if (p.has_next != 0u) {
        /* rows past the batch and units past H are clamped (read, never stored): no branches */
        uint nrow[RB], wcol[RU];
        [[unroll]] for (uint r = 0u; r < RB; r++)
            nrow[r] = p.dno + min(b0 + r, p.B - 1u) * 4u * H;
        [[unroll]] for (uint u = 0u; u < RU; u++)
            wcol[u] = p.wo + min(j0 + u, H - 1u);
        for (uint n = 0u; n < 4u * H; n++) {
            vec4 w;
            [[unroll]] for (uint u = 0u; u < RU; u++)
                w[u] = w_[wcol[u] + n * H];
            [[unroll]] for (uint r = 0u; r < RB; r++)
                acc[r] += dn_[nrow[r] + n] * w;
        }
    }
    lstm_cells_backward(b0, j0, acc);
}
