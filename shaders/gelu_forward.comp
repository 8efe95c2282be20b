/* gelu_forward.comp — exact GELU, x * Phi(x), with erf from gelu.glsl. */
#version 450
#include "common.glsl"
#include "gelu.glsl"
BUF(0, o_) BUF(1, x_)
layout(push_constant) uniform P { uint oo, xo, n; } p;
void main() {
    uint i = ts_flat();
    if (i >= p.n) return;
    float x = x_[p.xo + i];
    o_[p.oo + i] = 0.5 * x * (1.0 + ts_erf(x * TS_SQRT1_2));
}
