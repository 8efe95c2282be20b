/* reduce_finish.comp — one work-group: out[0] = the tree sum of the `groups` partials. */
#version 450
#define TS_GROUP_REDUCE
#include "common.glsl"
BUF(0, o_) BUF(1, part_)
layout(push_constant) uniform P { uint oo, groups; } p;
void main() {
    uint lid = gl_LocalInvocationID.x;
    float s = 0.0;
    for (uint k = lid; k < p.groups; k += WG)
        s += part_[k];
    s = ts_group_sum(s);
    if (lid == 0u) o_[p.oo] = s;
}
