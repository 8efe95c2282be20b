/*
 * gemm_direct4.glsl — gemm_direct.comp with vec4 loads, for CPU devices when every view is
 * 16-byte aligned (offsets, strides and leading dimensions multiples of 4; M, N, K too). A CPU
 * driver such as lavapipe fetches storage-buffer data lane by lane, so the cost is per load
 * instruction: a vec4 brings four floats for the price of one. Each step of 4 along k loads
 * an RM x 4 block of op(A) and a 4 x (4*RN4) block of op(B), whichever way each lies in
 * memory (along k, or along m / n when transposed the other way), and does RM*RN4*16 FMAs.
 * An invocation owns RN4 groups of four adjacent columns. TA and TB are specialization
 * constants so the driver compiles only the loads it needs.
 *
 * The register block RM x RN4 is fixed at compile time (a CPU driver does not unroll loops
 * sized by specialization constants): each gemm_direct4_<RM>x<RN4>.comp defines it and
 * includes this body, one SPIR-V per block the tuner may choose (VK_GEMM_DIRECT4_BLOCKS in
 * vulkan_internal.h lists them in the same order).
 */
#extension GL_EXT_control_flow_attributes : require
#define TS_NO_WG
#include "common.glsl"
layout(constant_id = 0) const uint WG = 8;
layout(constant_id = 1) const uint TA = 0;
layout(constant_id = 2) const uint TB = 0;
layout(local_size_x_id = 0) in;
layout(std430, set = 0, binding = 0) readonly buffer BufA {
    vec4 a4[];
};
layout(std430, set = 0, binding = 1) readonly buffer BufB {
    vec4 b4[];
};
BUF(2, c_)
layout(push_constant) uniform P {
    uint ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
    float alpha, beta;
} p;

void main() {
    uint lid = gl_LocalInvocationID.x, z = gl_WorkGroupID.z;
    uint m0 = gl_WorkGroupID.y * RM, n0 = gl_WorkGroupID.x * (WG * 4u * RN4);
    uint abase = p.ao + z * p.sa, bbase = p.bo + z * p.sb, cbase = p.co + z * p.sc;
    /* Edge rows and column groups are clamped inside (read, never stored): no branches in the
     * k loop. M and N are multiples of 4, so a clamped group of four is whole. */
    uint arow[RM], bcol[RN4];
    [[unroll]] for (uint i = 0u; i < RM; i++) {
        uint m = TA != 0u ? min(m0 + (i & ~3u), p.M - 4u) : min(m0 + i, p.M - 1u);
        arow[i] = TA != 0u ? abase + m : abase + m * p.lda;
    }
    [[unroll]] for (uint j = 0u; j < RN4; j++)
        bcol[j] = min(n0 + (lid + j * WG) * 4u, p.N - 4u);
    vec4 acc[RM][RN4];
    [[unroll]] for (uint i = 0u; i < RM; i++)
        [[unroll]] for (uint j = 0u; j < RN4; j++)
            acc[i][j] = vec4(0.0);
    for (uint k = 0u; k < p.K; k += 4u) {
        vec4 av[RM]; /* av[i][kk] = op(A)(m0 + i, k + kk) */
        if (TA == 0u) {
            [[unroll]] for (uint i = 0u; i < RM; i++)
                av[i] = a4[(arow[i] + k) >> 2];
        } else {
            [[unroll]] for (uint i = 0u; i < RM; i += 4u) {
                vec4 t0 = a4[(arow[i] + k * p.lda) >> 2];
                vec4 t1 = a4[(arow[i] + (k + 1u) * p.lda) >> 2];
                vec4 t2 = a4[(arow[i] + (k + 2u) * p.lda) >> 2];
                vec4 t3 = a4[(arow[i] + (k + 3u) * p.lda) >> 2];
                [[unroll]] for (uint r = 0u; r < 4u; r++)
                    av[i + r] = vec4(t0[r], t1[r], t2[r], t3[r]);
            }
        }
        vec4 bv[4][RN4]; /* bv[kk][j][c] = op(B)(k + kk, bcol[j] + c) */
        if (TB == 0u) {
            [[unroll]] for (uint kk = 0u; kk < 4u; kk++)
                [[unroll]] for (uint j = 0u; j < RN4; j++)
                    bv[kk][j] = b4[(bbase + (k + kk) * p.ldb + bcol[j]) >> 2];
        } else {
            [[unroll]] for (uint j = 0u; j < RN4; j++) {
                vec4 t0 = b4[(bbase + bcol[j] * p.ldb + k) >> 2];
                vec4 t1 = b4[(bbase + (bcol[j] + 1u) * p.ldb + k) >> 2];
                vec4 t2 = b4[(bbase + (bcol[j] + 2u) * p.ldb + k) >> 2];
                vec4 t3 = b4[(bbase + (bcol[j] + 3u) * p.ldb + k) >> 2];
                [[unroll]] for (uint kk = 0u; kk < 4u; kk++)
                    bv[kk][j] = vec4(t0[kk], t1[kk], t2[kk], t3[kk]);
            }
        }
        /* k innermost per output keeps the sum in k order, as the scalar shaders do. */
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++)
            [[unroll]] for (uint i = 0u; i < RM; i++)
                [[unroll]] for (uint j = 0u; j < RN4; j++)
                    acc[i][j] += av[i][kk] * bv[kk][j];
    }
    [[unroll]] for (uint i = 0u; i < RM; i++) {
        uint gm = m0 + i;
        [[unroll]] for (uint j = 0u; j < RN4; j++) {
            uint gn = n0 + (lid + j * WG) * 4u;
            [[unroll]] for (uint c = 0u; c < 4u; c++) {
                if (gm < p.M && gn + c < p.N) {
                    uint idx = cbase + gm * p.ldc + gn + c;
                    float r = p.alpha * acc[i][j][c];
                    c_[idx] = p.beta == 0.0 ? r : r + p.beta * c_[idx];
                }
            }
        }
    }
}
