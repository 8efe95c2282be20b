/*
 * gemm_splitk_reduce.comp — the second pass of a split-K product (gemm_tiled.comp):
 * C_b = alpha * (sum over splits, in split order) + beta * C_b. Partials are (M x N), batch
 * entries M*N apart, splits batch*M*N apart; one invocation per element of C.
 */
#version 450
#include "common.glsl"
BUF(0, p_) BUF(1, c_)
layout(push_constant) uniform P {
    uint po, co, M, N, ldc, sc, batch, splits;
    float alpha, beta;
} p;

void main() {
    uint i = ts_flat(), mn = p.M * p.N;
    if (i >= mn * p.batch) return;
    uint b = i / mn, m = (i % mn) / p.N, n = i % p.N;
    float s = 0.0;
    for (uint k = 0u; k < p.splits; k++)
        s += p_[p.po + k * p.batch * mn + i];
    uint at = p.co + b * p.sc + m * p.ldc + n;
    float r = p.alpha * s;
    c_[at] = p.beta == 0.0 ? r : r + p.beta * c_[at];
}
