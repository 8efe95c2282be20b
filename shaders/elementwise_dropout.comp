/*
 * elementwise_dropout.comp — inverted dropout, one item per Philox block of four elements:
 * element i keeps iff (w >> 8) >= thr, w = word (i & 3) of Philox4x32-10(counter {i >> 2, 0,
 * step, tensor id}, key {seed_lo, seed_hi}), thr = ceil(p * 2^24); kept elements are scaled
 * by 1/(1-p), computed on the host as the CPU backend does. out may alias inp.
 */
#version 450
#include "common.glsl"
BUF(0, o_) BUF(1, x_)
layout(push_constant) uniform P {
    uint oo, xo, n, thr;
    float scale;
    uint seed_lo, seed_hi, step, tensor_id;
} p;

uvec4 ts_philox(uvec4 x, uvec2 key) {
    for (int r = 0; r < 10; r++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, x.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, x.z, hi1, lo1);
        x = uvec4(hi1 ^ x.y ^ key.x, lo1, hi0 ^ x.w ^ key.y, lo0);
        key += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return x;
}

void main() {
    uint blk = ts_flat();
    uint i0 = blk * 4u;
    if (i0 >= p.n) return;
    uvec4 w = ts_philox(uvec4(blk, 0u, p.step, p.tensor_id), uvec2(p.seed_lo, p.seed_hi));
    for (uint j = 0u; j < 4u && i0 + j < p.n; j++) {
        float x = x_[p.xo + i0 + j];
        o_[p.oo + i0 + j] = (w[j] >> 8) >= p.thr ? x * p.scale : 0.0;
    }
}
