/* lstm_split_backward.comp — the split-K path's backward cell (backends/lstm_split.h): dh +=
 * the S partials part[s][b][H] of dpre_next W_hh (lstm_split_partial.comp) added in split
 * order (has_next), then the fused step's cell backward (lstm_step_backward_items.glsl). The
 * push constants are the fused step's; wo carries S (no W_hh read here), dno is unused. */
#version 450
#include "lstm_step_backward_items.glsl"
BUF(4, part_)
void main() {
    uint H = p.H, j0 = lstm_unit0(), b0 = lstm_row0(), S = p.wo;
    vec4 acc[RB]; /* acc[r][u]: unit j0 + u */
    [[unroll]] for (uint r = 0u; r < RB; r++) {
        uint b = min(b0 + r, p.B - 1u); /* clamped rows and units: read, never stored */
        acc[r] = vec4(0.0);
        for (uint s = 0u; p.has_next != 0u && s < S; s++)
            [[unroll]] for (uint u = 0u; u < RU; u++)
                acc[r][u] += part_[(s * p.B + b) * H + min(j0 + u, H - 1u)];
    }
    lstm_cells_backward(b0, j0, acc);
}
