/* bias_qkv_split_forward.comp — one item per head-tensor element (B, NH, T, HS): q, k, v =
 * split(qkv + bias) (permute_heads.comp's indexing); qkv keeps the sum. */
#version 450
#include "common.glsl"
BUF(0, q_) BUF(1, k_) BUF(2, v_) BUF(3, pk_) BUF(4, b_)
layout(push_constant) uniform P { uint qo, ko, vo, po, bo, B, T, NH, HS; } p;
void main() {
    uint e = ts_flat();
    if (e >= p.B * p.NH * p.T * p.HS) return;
    uint d = e % p.HS, rest = e / p.HS;
    uint t = rest % p.T;
    rest /= p.T;
    uint h = rest % p.NH, b = rest / p.NH;
    uint C = p.NH * p.HS, col = h * p.HS + d;
    uint k = p.po + (b * p.T + t) * 3u * C + col;
    float x0 = pk_[k] + b_[p.bo + col];
    float x1 = pk_[k + C] + b_[p.bo + col + C];
    float x2 = pk_[k + 2u * C] + b_[p.bo + col + 2u * C];
    pk_[k] = x0;
    pk_[k + C] = x1;
    pk_[k + 2u * C] = x2;
    q_[p.qo + e] = x0;
    k_[p.ko + e] = x1;
    v_[p.vo + e] = x2;
}
