/* colsum_finish.comp — dst[c] += sum_k part[k * width + base + c], chunks in order. */
#version 450
#include "common.glsl"
BUF(0, d_) BUF(1, part_)
layout(push_constant) uniform P { uint dso, cols, chunks, width, base; } p;
void main() {
    uint c = ts_flat();
    if (c >= p.cols) return;
    float acc = 0.0;
    for (uint k = 0u; k < p.chunks; k++)
        acc += part_[k * p.width + p.base + c];
    d_[p.dso + c] += acc;
}
