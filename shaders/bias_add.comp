/* bias_add.comp — out[r, c] += bias[c], one item per element. */
#version 450
#include "common.glsl"
BUF(0, o_) BUF(1, b_)
layout(push_constant) uniform P { uint oo, bo, rows, cols; } p;
void main() {
    uint i = ts_flat();
    if (i < p.rows * p.cols) o_[p.oo + i] += b_[p.bo + i % p.cols];
}
