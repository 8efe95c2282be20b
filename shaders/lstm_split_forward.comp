/* lstm_split_forward.comp — the split-K path's forward cell (backends/lstm_split.h): the
 * recurrent sums are the S partials part[s][b][4H] (lstm_split_partial.comp) added in split
 * order, then the fused step's cell (lstm_step_forward_items.glsl), block layout and all. The
 * push constants are the fused step's; wo carries S (this shader reads no W_hh), hpo is unused. */
#version 450
#include "lstm_step_forward_items.glsl"
BUF(4, part_)
void main() {
    uint H = p.H, j0 = lstm_unit0(), b0 = lstm_row0(), S = p.wo;
    vec4 acc[RB][RU];
    [[unroll]] for (uint r = 0u; r < RB; r++) {
        uint b = min(b0 + r, p.B - 1u); /* clamped rows and units: read, never stored */
        [[unroll]] for (uint u = 0u; u < RU; u++) {
            uint j = min(j0 + u, H - 1u);
            acc[r][u] = vec4(0.0);
            for (uint s = 0u; p.has_prev != 0u && s < S; s++) {
                uint g = (s * p.B + b) * 4u * H + j;
                acc[r][u] += vec4(part_[g], part_[g + H], part_[g + 2u * H], part_[g + 3u * H]);
            }
        }
    }
    lstm_cells(b0, j0, acc);
}
