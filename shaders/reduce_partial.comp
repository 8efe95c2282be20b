/*
 * reduce_partial.comp — first pass of the deterministic sum / sum of squares: a fixed grid of
 * `groups` work-groups; item g adds elements g, g + G, ... (G = all items) with Kahan
 * compensation, then each group adds its items by a fixed tree. The order depends on n only.
 */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, part_) BUF(1, x_)
layout(push_constant) uniform P { uint xo, n, squares, groups; } p;
void main() {
    /* spare groups of a folded grid: whole groups leave, so barriers stay uniform */
    if (ts_group() >= p.groups) return;
    uint g = ts_flat(), G = WG * p.groups;
    float s = 0.0, comp = 0.0;
    for (uint i = g; i < p.n; i += G) {
        float v = x_[p.xo + i];
        float y = (p.squares != 0u ? v * v : v) - comp;
        float t = s + y;
        comp = (t - s) - y;
        s = t;
    }
    s = ts_group_sum(s);
    if (gl_LocalInvocationID.x == 0u) part_[ts_group()] = s;
}
