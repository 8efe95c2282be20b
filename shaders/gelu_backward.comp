/* gelu_backward.comp — dinp = dout * (Phi(x) + x phi(x)); dinp may alias dout. */
#version 450
#include "common.glsl"
#include "gelu.glsl"
BUF(0, d_) BUF(1, x_) BUF(2, g_)
layout(push_constant) uniform P { uint dio, xo, go, n; } p;
void main() {
    uint i = ts_flat();
    if (i >= p.n) return;
    float x = x_[p.xo + i];
    float cdf = 0.5 * (1.0 + ts_erf(x * TS_SQRT1_2));
    float pdf = exp(-0.5 * x * x) * TS_INV_SQRT_2PI;
    d_[p.dio + i] = g_[p.go + i] * (cdf + x * pdf);
}
