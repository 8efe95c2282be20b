/*
 * gelu_dropout_backward_bias.comp — items [0, rows * cols) write dh = GELU'(h) * Drop(dg); the
 * groups from elem_groups on each sum WG columns of the same dh, recomputed, over every row in
 * order, COLSUM_ROWS rows per partial (as colsum_partial/colsum_finish), into dbias.
 */
#version 450
#include "common.glsl"
#include "gelu.glsl"
#include "philox.glsl"
#include "fused_drop.glsl"
BUF(0, dh_) BUF(1, db_) BUF(2, dg_) BUF(3, h_)
layout(push_constant) uniform P {
    uint dho, dbo, dgo, ho, rows, cols, elem_groups, colsum_rows;
    TS_DROP_FIELDS
} p;
#include "fused_drop.glsl"

float dh_at(uint e) {
    float x = h_[p.ho + e];
    float cdf = 0.5 * (1.0 + ts_erf(x * TS_SQRT1_2));
    float pdf = exp(-0.5 * x * x) * TS_INV_SQRT_2PI;
    return ts_drop(dg_[p.dgo + e], e) * (cdf + x * pdf);
}

void main() {
    uint grp = ts_group();
    if (grp < p.elem_groups) {
        uint i = ts_flat();
        if (i < p.rows * p.cols) dh_[p.dho + i] = dh_at(i);
        return;
    }
    uint c = (grp - p.elem_groups) * WG + gl_LocalInvocationID.x;
    if (c >= p.cols) return;
    float total = 0.0;
    for (uint r0 = 0u; r0 < p.rows; r0 += p.colsum_rows) {
        uint r1 = min(p.rows, r0 + p.colsum_rows);
        float part = 0.0;
        for (uint r = r0; r < r1; r++)
            part += dh_at(r * p.cols + c);
        total += part;
    }
    db_[p.dbo + c] += total;
}
