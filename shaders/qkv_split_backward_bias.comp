/*
 * qkv_split_backward_bias.comp — items [0, B*NH*T*HS) merge dq, dk, dv into dqkv
 * (permute_heads.comp's indexing); the groups from elem_groups on each sum WG columns of dqkv,
 * read from dq, dk, dv, over every row in order, COLSUM_ROWS rows per partial (as
 * colsum_partial/colsum_finish), into dbias.
 */
#version 450
#include "common.glsl"
BUF(0, pk_) BUF(1, db_) BUF(2, dq_) BUF(3, dk_) BUF(4, dv_)
layout(push_constant) uniform P { uint po, dbo, qo, ko, vo, B, T, NH, HS, elem_groups, colsum_rows; } p;

float head_at(uint part, uint i) {
    return part == 0u ? dq_[p.qo + i] : part == 1u ? dk_[p.ko + i] : dv_[p.vo + i];
}

void main() {
    uint grp = ts_group(), C = p.NH * p.HS;
    if (grp < p.elem_groups) {
        uint e = ts_flat();
        if (e >= p.B * p.NH * p.T * p.HS) return;
        uint d = e % p.HS, rest = e / p.HS;
        uint t = rest % p.T;
        rest /= p.T;
        uint h = rest % p.NH, b = rest / p.NH;
        uint k = p.po + (b * p.T + t) * 3u * C + h * p.HS + d;
        pk_[k] = dq_[p.qo + e];
        pk_[k + C] = dk_[p.ko + e];
        pk_[k + 2u * C] = dv_[p.vo + e];
        return;
    }
    uint j = (grp - p.elem_groups) * WG + gl_LocalInvocationID.x;
    if (j >= 3u * C) return;
    uint part = j / C, h = (j % C) / p.HS, d = j % p.HS;
    uint rows = p.B * p.T;
    float total = 0.0;
    for (uint r0 = 0u; r0 < rows; r0 += p.colsum_rows) {
        uint r1 = min(rows, r0 + p.colsum_rows);
        float partial = 0.0;
        for (uint r = r0; r < r1; r++) {
            uint b = r / p.T, t = r % p.T;
            partial += head_at(part, ((b * p.NH + h) * p.T + t) * p.HS + d);
        }
        total += partial;
    }
    db_[p.dbo + j] += total;
}
