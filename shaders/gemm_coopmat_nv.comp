/*
 * gemm_coopmat_nv.comp — --precision fp16 on tensor cores through VK_NV_cooperative_matrix
 * (the cooperative-matrix extension this build's glslc compiles; vulkan_gemm_lowp.c picks it
 * when the device offers 16x16x16 fp16 x fp16 -> fp32 at subgroup scope, subgroups of 32).
 *
 * C = alpha op(A) op(B) + beta C over fp32 buffers. A work-group of 4 subgroups owns a 64x64
 * block of C; each subgroup a 32x32 quarter as 2x2 accumulators of fp32. Per step of 16 along
 * K the group converts a 64x16 tile of op(A) and a 16x64 tile of op(B) to float16_t into
 * shared memory (zeros past the edges, transposes resolved here), and each subgroup multiplies
 * its tiles with coopMatMulAddNV. The accumulators go through shared memory to C, where alpha
 * and beta are applied and the edges are cut. Push constants as gemm_direct.comp's.
 */
#version 450
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define TS_NO_WG
#include "common.glsl"
layout(local_size_x = 128) in;
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

#define BM 64
#define BN 64
#define BK 16
#define SUBGROUP_SCOPE 3 /* gl_ScopeSubgroup */
shared float16_t tile_a[BM * BK]; /* row-major, BK per row */
shared float16_t tile_b[BK * BN]; /* row-major, BN per row */
shared float tile_c[BM * BN];

void main() {
    uint lid = gl_LocalInvocationID.x, z = gl_WorkGroupID.z;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    uint abase = p.ao + z * p.sa, bbase = p.bo + z * p.sb, cbase = p.co + z * p.sc;
    uint sg = gl_SubgroupID, wr = (sg >> 1) * 32u, wc = (sg & 1u) * 32u;
    fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16> acc00 = fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16>(0.0);
    fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16> acc01 = fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16>(0.0);
    fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16> acc10 = fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16>(0.0);
    fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16> acc11 = fcoopmatNV<32, SUBGROUP_SCOPE, 16, 16>(0.0);
    for (uint k0 = 0u; k0 < p.K; k0 += BK) {
        for (uint e = lid; e < BM * BK; e += 128u) {
            uint r = e / BK, kk = e % BK, m = m0 + r, k = k0 + kk;
            float v = 0.0;
            if (m < p.M && k < p.K)
                v = a_[p.ta != 0u ? abase + k * p.lda + m : abase + m * p.lda + k];
            tile_a[e] = float16_t(v);
        }
        for (uint e = lid; e < BK * BN; e += 128u) {
            uint kk = e / BN, c = e % BN, n = n0 + c, k = k0 + kk;
            float v = 0.0;
            if (n < p.N && k < p.K)
                v = b_[p.tb != 0u ? bbase + n * p.ldb + k : bbase + k * p.ldb + n];
            tile_b[e] = float16_t(v);
        }
        barrier();
        fcoopmatNV<16, SUBGROUP_SCOPE, 16, 16> a0, a1, b0, b1;
        coopMatLoadNV(a0, tile_a, wr * BK, BK, false);
        coopMatLoadNV(a1, tile_a, (wr + 16u) * BK, BK, false);
        coopMatLoadNV(b0, tile_b, wc, BN, false);
        coopMatLoadNV(b1, tile_b, wc + 16u, BN, false);
        acc00 = coopMatMulAddNV(a0, b0, acc00);
        acc01 = coopMatMulAddNV(a0, b1, acc01);
        acc10 = coopMatMulAddNV(a1, b0, acc10);
        acc11 = coopMatMulAddNV(a1, b1, acc11);
        barrier();
    }
    coopMatStoreNV(acc00, tile_c, wr * BN + wc, BN, false);
    coopMatStoreNV(acc01, tile_c, wr * BN + wc + 16u, BN, false);
    coopMatStoreNV(acc10, tile_c, (wr + 16u) * BN + wc, BN, false);
    coopMatStoreNV(acc11, tile_c, (wr + 16u) * BN + wc + 16u, BN, false);
    barrier();
    for (uint e = lid; e < BM * BN; e += 128u) {
        uint m = m0 + e / BN, n = n0 + e % BN;
        if (m < p.M && n < p.N) {
            uint idx = cbase + m * p.ldc + n;
            float r = p.alpha * tile_c[e];
            c_[idx] = p.beta == 0.0 ? r : r + p.beta * c_[idx];
        }
    }
}
