/* add.comp — out = a + b (out may alias a or b: one element per item). */
#version 450
#include "common.glsl"
BUF(0, o_) BUF(1, a_) BUF(2, b_)
layout(push_constant) uniform P { uint oo, ao, bo, n; } p;
void main() {
    uint i = ts_flat();
    if (i < p.n) o_[p.oo + i] = a_[p.ao + i] + b_[p.bo + i];
}
