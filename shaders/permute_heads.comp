/*
 * permute_heads.comp — moves one element per item between packed rows (B, T,
 * parts * C) and `parts` head tensors (B, NH, T, HS): q, k, v for the qkv split (parts 3),
 * one tensor for the head merge (parts 1; h1, h2 unused). to_heads = 1 reads packed.
 */
#version 450
#include "common.glsl"
BUF(0, pk_) BUF(1, h0_) BUF(2, h1_) BUF(3, h2_)
layout(push_constant) uniform P { uint po, o0, o1, o2, parts, B, T, NH, HS; int to_heads; } p;
void main() {
    uint e = ts_flat();
    if (e >= p.B * p.NH * p.T * p.HS) return;
    uint d = e % p.HS, rest = e / p.HS;
    uint t = rest % p.T;
    rest /= p.T;
    uint h = rest % p.NH, b = rest / p.NH;
    uint C = p.NH * p.HS;
    uint k = p.po + (b * p.T + t) * p.parts * C + h * p.HS + d;
    if (p.to_heads != 0) {
        h0_[p.o0 + e] = pk_[k];
        if (p.parts == 3u) {
            h1_[p.o1 + e] = pk_[k + C];
            h2_[p.o2 + e] = pk_[k + 2u * C];
        }
    } else {
        pk_[k] = h0_[p.o0 + e];
        if (p.parts == 3u) {
            pk_[k + C] = h1_[p.o1 + e];
            pk_[k + 2u * C] = h2_[p.o2 + e];
        }
    }
}
