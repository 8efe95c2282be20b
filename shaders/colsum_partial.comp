/*
 * colsum_partial.comp — part[k * cols + c] = sum of src[r, c] over the rows of chunk k
 * (chunk_rows rows each, added in row order); one item per (chunk, column). With
 * colsum_finish this is the CPU backend's two-level order, with no atomics.
 */
#version 450
#include "common.glsl"
BUF(0, part_) BUF(1, s_)
layout(push_constant) uniform P { uint so, rows, cols, chunks, chunk_rows; } p;
void main() {
    uint i = ts_flat();
    if (i >= p.chunks * p.cols) return;
    uint k = i / p.cols, c = i % p.cols;
    uint r0 = k * p.chunk_rows, r1 = min(p.rows, r0 + p.chunk_rows);
    float acc = 0.0;
    for (uint r = r0; r < r1; r++)
        acc += s_[p.so + r * p.cols + c];
    part_[i] = acc;
}
