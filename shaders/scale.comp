/* scale.comp — x *= s. */
#version 450
#include "common.glsl"
BUF(0, x_)
layout(push_constant) uniform P { uint xo, n; float s; } p;
void main() {
    uint i = ts_flat();
    if (i < p.n) x_[p.xo + i] *= p.s;
}
