/*
 * gemm_direct.comp — the same product as gemm.comp, for CPU-like devices (lavapipe): no shared
 * memory and no barriers, which such a driver runs as per-lane memory traffic and coroutine
 * switches. An invocation owns RN columns (lid, lid + WG, ...) of an RM-row block; the
 * work-group's rows are the same for all its invocations, so every A element it reads sits at
 * a uniform address (one scalar load, broadcast to the SIMD lanes), and each B element it
 * loads feeds RM FMAs. Sums run over k in order. RM and RN must match VK_GEMM_DIRECT_RM/RN
 * (vulkan_internal.h); the work-group size WG is a specialization constant.
 */
#version 450
#extension GL_EXT_control_flow_attributes : require
#define TS_NO_WG
#include "common.glsl"
layout(constant_id = 0) const uint WG = 8;
/* Fixed at compile time and unrolled here: a block sized by specialization constants would be
 * left to the driver to unroll, and a CPU driver that does not keeps it in memory. */
#ifndef RM
#define RM 8
#endif
#ifndef RN
#define RN 8
#endif
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

void main() {
    uint lid = gl_LocalInvocationID.x, z = gl_WorkGroupID.z;
    uint m0 = gl_WorkGroupID.y * RM, n0 = gl_WorkGroupID.x * (WG * RN);
    uint abase = p.ao + z * p.sa, bbase = p.bo + z * p.sb, cbase = p.co + z * p.sc;
    /* Rows and columns past the edge are clamped (read twice, stored never), so the k loop
     * has no branches. */
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
        float rb[RN];
        [[unroll]] for (uint j = 0u; j < RN; j++)
            rb[j] = b_[bcol[j] + k * bstep];
        [[unroll]] for (uint i = 0u; i < RM; i++) {
            float ra = a_[arow[i] + k * astep];
            [[unroll]] for (uint j = 0u; j < RN; j++)
                acc[i][j] += ra * rb[j];
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
