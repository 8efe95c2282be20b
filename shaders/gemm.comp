/*
 * gemm.comp — C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major, tiled in shared memory
 * with register blocking: a (TX, TY) work-group computes a (TY*RM) x (TX*RN) tile of C, each
 * item RM x RN outputs, stepping through K in slices of BK. Transposes are push-constant flags
 * (they change only how tiles are loaded); batch entry b = gl_WorkGroupID.z, offset by the
 * strides (attention heads). beta == 0 does not read C (BLAS convention).
 */
#version 450
#define TS_NO_WG
#include "common.glsl"
layout(constant_id = 0) const uint TX = 16;
layout(constant_id = 1) const uint TY = 16;
layout(local_size_x_id = 0, local_size_y_id = 1) in;
#define RM 4
#define RN 4
#define BK 16
BUF(0, a_) BUF(1, b_) BUF(2, c_)
layout(push_constant) uniform P {
    uint ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
    float alpha, beta;
} p;

shared float as_[BK][TY * RM];
shared float bs_[BK][TX * RN];

void main() {
    const uint BM = TY * RM, BN = TX * RN, NT = TX * TY;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, tid = ty * TX + tx;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN, z = gl_WorkGroupID.z;
    uint abase = p.ao + z * p.sa, bbase = p.bo + z * p.sb, cbase = p.co + z * p.sc;
    float acc[RM][RN];
    for (uint i = 0u; i < RM; i++)
        for (uint j = 0u; j < RN; j++)
            acc[i][j] = 0.0;
    for (uint k0 = 0u; k0 < p.K; k0 += BK) {
        /* Each tile element is loaded by one item, walking memory contiguously. */
        for (uint idx = tid; idx < BM * BK; idx += NT) {
            uint m, k;
            if (p.ta != 0u) {
                k = idx / BM;
                m = idx % BM;
            } else {
                m = idx / BK;
                k = idx % BK;
            }
            uint gm = m0 + m, gk = k0 + k;
            float v = 0.0;
            if (gm < p.M && gk < p.K)
                v = p.ta != 0u ? a_[abase + gk * p.lda + gm] : a_[abase + gm * p.lda + gk];
            as_[k][m] = v;
        }
        for (uint idx = tid; idx < BN * BK; idx += NT) {
            uint n, k;
            if (p.tb != 0u) {
                n = idx / BK;
                k = idx % BK;
            } else {
                k = idx / BN;
                n = idx % BN;
            }
            uint gn = n0 + n, gk = k0 + k;
            float v = 0.0;
            if (gn < p.N && gk < p.K)
                v = p.tb != 0u ? b_[bbase + gn * p.ldb + gk] : b_[bbase + gk * p.ldb + gn];
            bs_[k][n] = v;
        }
        barrier();
        for (uint k = 0u; k < BK; k++) {
            float ra[RM], rb[RN];
            for (uint i = 0u; i < RM; i++)
                ra[i] = as_[k][ty + i * TY];
            for (uint j = 0u; j < RN; j++)
                rb[j] = bs_[k][tx + j * TX];
            for (uint i = 0u; i < RM; i++)
                for (uint j = 0u; j < RN; j++)
                    acc[i][j] += ra[i] * rb[j];
        }
        barrier();
    }
    for (uint i = 0u; i < RM; i++) {
        uint gm = m0 + ty + i * TY;
        if (gm >= p.M) continue;
        for (uint j = 0u; j < RN; j++) {
            uint gn = n0 + tx + j * TX;
            if (gn >= p.N) continue;
            uint k = cbase + gm * p.ldc + gn;
            float r = p.alpha * acc[i][j];
            c_[k] = p.beta == 0.0 ? r : r + p.beta * c_[k];
        }
    }
}
