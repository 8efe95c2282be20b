/* lstm_step_backward_items4.comp — lstm_step_backward_items.comp reading dpre_next (along n)
 * and W_hh (along the block's four units) as vec4, which lavapipe loads with a quarter of the
 * per-lane load loops. The host runs it only when H and the offsets of dpre_next and W_hh are
 * multiples of 4. Sums still run over n in order. */
#version 450
#include "lstm_step_backward_items.glsl"
layout(std430, set = 0, binding = 4) readonly buffer Dn4 {
    vec4 dn4_[];
};
layout(std430, set = 0, binding = 5) readonly buffer W4 {
    vec4 w4_[];
};
void main() {
    uint H = p.H, j0 = lstm_unit0(), b0 = lstm_row0();
    vec4 acc[RB]; /* acc[r][u]: unit j0 + u */
    [[unroll]] for (uint r = 0u; r < RB; r++)
        acc[r] = vec4(0.0);
    if (p.has_next != 0u) {
        /* rows past the batch are clamped (read, never stored); H % 4 == 0 keeps j0 + 3 < H */
        uint nrow[RB];
        [[unroll]] for (uint r = 0u; r < RB; r++)
            nrow[r] = (p.dno + min(b0 + r, p.B - 1u) * 4u * H) / 4u;
        uint wc = (p.wo + min(j0, H - 4u)) / 4u, H4 = H / 4u;
        for (uint n4 = 0u; n4 < H; n4++) { /* n = 4 * n4 .. 4 * n4 + 3 of 4H */
            mat4 w; /* w[i]: W_hh row 4 * n4 + i at units j0 .. j0 + 3 */
            [[unroll]] for (uint i = 0u; i < 4u; i++)
                w[i] = w4_[wc + (4u * n4 + i) * H4];
            [[unroll]] for (uint r = 0u; r < RB; r++) {
                vec4 x = dn4_[nrow[r] + n4];
                [[unroll]] for (uint i = 0u; i < 4u; i++)
                    acc[r] += x[i] * w[i];
            }
        }
    }
    lstm_cells_backward(b0, j0, acc);
}
