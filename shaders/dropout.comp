/*
 * dropout.comp — inverted dropout: element i keeps iff (w >> 8) >= thr, w = word
 * (g & 3) of Philox4x32-10(counter {g >> 2, 0, step, tensor id}, key {seed_lo, seed_hi}),
 * thr = ceil(p * 2^24); kept elements are scaled by 1/(1-p), computed on the host as the CPU
 * backend does. out may alias inp. g = offset + (i / span) * stride + i % span (span 0:
 * offset + i) places a data-parallel slice in the global tensor (the host checks g < 2^32).
 * Aligned contiguous tensors take one item per Philox block of four elements, others one item
 * per element.
 */
#version 450
#include "common.glsl"
#include "philox.glsl"
BUF(0, o_) BUF(1, x_)
layout(push_constant) uniform P {
    uint oo, xo, n, thr;
    float scale;
    uint seed_lo, seed_hi, step, tensor_id;
    uint offset, span, stride;
} p;

void main() {
    uvec2 key = uvec2(p.seed_lo, p.seed_hi);
    if (p.span == 0u && (p.offset & 3u) == 0u) {
        uint blk = ts_flat();
        uint i0 = blk * 4u;
        if (i0 >= p.n) return;
        uvec4 w = ts_philox(uvec4((p.offset >> 2) + blk, 0u, p.step, p.tensor_id), key);
        for (uint j = 0u; j < 4u && i0 + j < p.n; j++) {
            float x = x_[p.xo + i0 + j];
            o_[p.oo + i0 + j] = (w[j] >> 8) >= p.thr ? x * p.scale : 0.0;
        }
        return;
    }
    uint i = ts_flat();
    if (i >= p.n) return;
    uint g = p.span != 0u ? p.offset + (i / p.span) * p.stride + i % p.span : p.offset + i;
    uvec4 w = ts_philox(uvec4(g >> 2, 0u, p.step, p.tensor_id), key);
    float x = x_[p.xo + i];
    o_[p.oo + i] = (w[g & 3u] >> 8) >= p.thr ? x * p.scale : 0.0;
}
