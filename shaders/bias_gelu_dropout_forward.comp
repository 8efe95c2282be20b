/* bias_gelu_dropout_forward.comp — one item per element: h += bias[c] when add_bias (h keeps
 * the pre-activation), g = Drop(GELU(h)). */
#version 450
#include "common.glsl"
#include "gelu.glsl"
#include "philox.glsl"
#include "fused_drop.glsl"
BUF(0, g_) BUF(1, h_) BUF(2, b_)
layout(push_constant) uniform P {
    uint go, ho, bo, rows, cols;
    int add_bias;
    TS_DROP_FIELDS
} p;
#include "fused_drop.glsl"
void main() {
    uint i = ts_flat();
    if (i >= p.rows * p.cols) return;
    float v = h_[p.ho + i];
    if (p.add_bias != 0) {
        v += b_[p.bo + i % p.cols];
        h_[p.ho + i] = v;
    }
    g_[p.go + i] = ts_drop(0.5 * v * (1.0 + ts_erf(v * TS_SQRT1_2)), i);
}
