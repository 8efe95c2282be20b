/* layernorm_param_partial.comp — per chunk of chunk_rows rows: part[k*2C + c] = sum dout *
 * norm (dweight), part[k*2C + C + c] = sum dout (dbias); colsum_finish adds the chunks. */
#version 450
#include "common.glsl"
BUF(0, part_) BUF(1, dy_) BUF(2, x_) BUF(3, mean_) BUF(4, rstd_)
layout(push_constant) uniform P { uint dyo, xo, mo, ro, N, C, chunks, chunk_rows; } p;
void main() {
    uint i = ts_flat();
    if (i >= p.chunks * p.C) return;
    uint k = i / p.C, c = i % p.C;
    uint r0 = k * p.chunk_rows, r1 = min(p.N, r0 + p.chunk_rows);
    float dw = 0.0, db = 0.0;
    for (uint r = r0; r < r1; r++) {
        uint e = r * p.C + c;
        float dy = dy_[p.dyo + e];
        float norm = (x_[p.xo + e] - mean_[p.mo + r]) * rstd_[p.ro + r];
        dw += dy * norm;
        db += dy;
    }
    part_[k * 2u * p.C + c] = dw;
    part_[k * 2u * p.C + p.C + c] = db;
}
