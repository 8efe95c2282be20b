/*
 * gemm_fp16.comp — --precision fp16 on a device with shaderFloat16 but no cooperative matrix:
 * C = alpha op(A) op(B) + beta C where every A and B element is converted to float16_t (the
 * device's own fp32 -> fp16 conversion, round to nearest even) as it is read, and the products
 * of those halves are summed in fp32. That is the arithmetic of a tensor-core fp16 GEMM with
 * fp32 accumulation; only the speed is not. Buffers stay fp32 (the model's tensors).
 *
 * Layout as gemm_direct.comp (the push constants are the same): an invocation owns RN columns
 * lid + j*WG of an RM-row block, rows and columns past the edge are clamped (read, never
 * stored), sums run over k in order. WG is specialization constant 0.
 */
#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define TS_NO_WG
#include "common.glsl"
layout(constant_id = 0) const uint WG = 8;
#define RM 4
#define RN 4
layout(local_size_x_id = 0) in;
layout(std430, set = 0, binding = 0) readonly buffer BufA {
    float a_[];
};
layout(std430, set = 0, binding = 1) readonly buffer BufB {
    float b_[];
};
BUF(2, c_)
layout(push_constant) uniform P {
    uint ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
    float alpha, beta;
} p;

/* The fp16 input a tensor core would read for fp32 value x. */
float half_of(float x) {
    return float(float16_t(x));
}

void main() {
    uint lid = gl_LocalInvocationID.x, z = gl_WorkGroupID.z;
    uint m0 = gl_WorkGroupID.y * RM, n0 = gl_WorkGroupID.x * (WG * RN);
    uint abase = p.ao + z * p.sa, bbase = p.bo + z * p.sb, cbase = p.co + z * p.sc;
    uint arow[RM], bcol[RN];
    [[unroll]] for (uint i = 0u; i < RM; i++) {
        uint m = min(m0 + i, p.M - 1u);
        arow[i] = p.ta != 0u ? abase + m : abase + m * p.lda;
    }
    [[unroll]] for (uint j = 0u; j < RN; j++) {
        uint n = min(n0 + lid + j * WG, p.N - 1u);
        bcol[j] = p.tb != 0u ? bbase + n * p.ldb : bbase + n;
    }
    uint astep = p.ta != 0u ? p.lda : 1u, bstep = p.tb != 0u ? 1u : p.ldb;
    float acc[RM][RN];
    [[unroll]] for (uint i = 0u; i < RM; i++)
        [[unroll]] for (uint j = 0u; j < RN; j++)
            acc[i][j] = 0.0;
    for (uint k = 0u; k < p.K; k++) {
        float hb[RN];
        [[unroll]] for (uint j = 0u; j < RN; j++)
            hb[j] = half_of(b_[bcol[j] + k * bstep]);
        [[unroll]] for (uint i = 0u; i < RM; i++) {
            float ha = half_of(a_[arow[i] + k * astep]);
            /* a product of two halves is exact in fp32: only the sum rounds */
            [[unroll]] for (uint j = 0u; j < RN; j++)
                acc[i][j] += ha * hb[j];
        }
    }
    [[unroll]] for (uint i = 0u; i < RM; i++) {
        uint gm = m0 + i;
        [[unroll]] for (uint j = 0u; j < RN; j++) {
            uint gn = n0 + lid + j * WG;
            if (gm < p.M && gn < p.N) {
                uint idx = cbase + gm * p.ldc + gn;
                float r = p.alpha * acc[i][j];
                c_[idx] = p.beta == 0.0 ? r : r + p.beta * c_[idx];
            }
        }
    }
}
