/*
 * scale2d.comp — C = beta * C over batch blocks of M x N with row stride ldc
 * (gemm's beta for K == 0, and beta == 0, which writes zeros without reading C: BLAS says C
 * is not read, so NaN left there must not survive).
 */
#version 450
#include "common.glsl"
BUF(0, c_)
layout(push_constant) uniform P { uint co, M, N, ldc, stride, batch; float beta; } p;
void main() {
    uint i = ts_flat();
    uint per = p.M * p.N;
    if (i >= per * p.batch) return;
    uint b = i / per, r = (i % per) / p.N, c = i % p.N;
    uint k = p.co + b * p.stride + r * p.ldc + c;
    c_[k] = p.beta == 0.0 ? 0.0 : p.beta * c_[k];
}
