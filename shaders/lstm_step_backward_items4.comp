/* lstm_step_backward_items4.comp — lstm_step_backward_items.comp reading dpre_next (along n)
 * and W_hh (along units) as vec4, which lavapipe loads with a quarter of the per-lane load
 * loops, and owning two blocks of RU units (each dpre_next load feeds twice the FMAs; about 20%
 * faster than one block on lavapipe). The host runs it only when H and the offsets of dpre_next
 * and W_hh are multiples of 4. Sums still run over n in order. */
#version 450
#include "lstm_step_backward_items.glsl"
layout(std430, set = 0, binding = 4) readonly buffer Dn4 {
    vec4 dn4_[];
};
layout(std430, set = 0, binding = 5) readonly buffer W4 {
    vec4 w4_[];
};
void main() {
    /* units j0 .. j0 + 3 in acc[0], j0 + 4 .. j0 + 7 in acc[1] */
    uint H = p.H, j0 = (gl_WorkGroupID.x * WG + gl_LocalInvocationID.x) * 2u * RU;
    uint b0 = lstm_row0();
    vec4 acc[2][RB];
    [[unroll]] for (uint r = 0u; r < RB; r++)
        acc[0][r] = acc[1][r] = vec4(0.0);
    if (p.has_next != 0u) {
        /* rows past the batch are clamped (read, never stored); H % 4 == 0 keeps a block that
         * starts below H inside it, and one that starts past it is clamped too */
        uint nrow[RB];
        [[unroll]] for (uint r = 0u; r < RB; r++)
            nrow[r] = (p.dno + min(b0 + r, p.B - 1u) * 4u * H) / 4u;
        uint wc0 = (p.wo + min(j0, H - 4u)) / 4u, wc1 = (p.wo + min(j0 + RU, H - 4u)) / 4u;
        uint H4 = H / 4u;
        for (uint n4 = 0u; n4 < H; n4++) {
            mat4 w0, w1; /* w0[i]: W_hh row 4 * n4 + i at units j0 .. j0 + 3 */
            [[unroll]] for (uint i = 0u; i < 4u; i++) {
                w0[i] = w4_[wc0 + (4u * n4 + i) * H4];
                w1[i] = w4_[wc1 + (4u * n4 + i) * H4];
            }
            [[unroll]] for (uint r = 0u; r < RB; r++) {
                vec4 x = dn4_[nrow[r] + n4];
                [[unroll]] for (uint i = 0u; i < 4u; i++) {
                    acc[0][r] += x[i] * w0[i];
                    acc[1][r] += x[i] * w1[i];
                }
            }
        }
    }
    lstm_cells_backward(b0, j0, acc[0]);
    lstm_cells_backward(b0, j0 + RU, acc[1]);
}
