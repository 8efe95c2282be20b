/*
 * gemm_tiled.comp — C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major: the design of
 * cl/gemm_tiled.cl in GLSL (backends/gemm_plan.h). A (WGN x WGM) work-group computes a BM x BN
 * tile (BM = WGM*TM, BN = WGN*TN), each invocation a TM x TN register block at rows
 * ty + i*WGM, columns tx + j*WGN; K goes by TK-column tiles double-buffered in shared memory
 * (the next tile is read into registers while the current one is multiplied: one barrier per
 * tile). With VW == 4 (the host asks only when offsets, leading dimensions and strides are
 * multiples of 4) global reads are vec4 through an aliased binding, scalar at the edges.
 * Grid z is (split, batch entry): each split multiplies K columns [s*kchunk, (s+1)*kchunk) and
 * writes its partial product (gemm_splitk_reduce.comp adds them in split order). beta == 0
 * never reads C. Tile sizes are specialization constants. An epilogue (epi; the host asks only
 * without a split, alpha 1, beta 0, batch 1) finishes the product before the store: 1 adds
 * bias[n] to every row, 2 also writes g = Drop(GELU(C)) (g contiguous M x N, the dropout of
 * element m*N + n as bias_gelu_dropout_forward.comp's); C keeps the biased product.
 */
#version 450
#define TS_NO_WG
#include "common.glsl"
#include "gelu.glsl"
#include "philox.glsl"
#include "fused_drop.glsl"
layout(constant_id = 0) const uint WGN = 16;
layout(constant_id = 1) const uint WGM = 16;
layout(constant_id = 2) const uint TN = 4;
layout(constant_id = 3) const uint TM = 4;
layout(constant_id = 4) const uint TK = 16;
layout(constant_id = 5) const uint VW = 1;
layout(local_size_x_id = 0, local_size_y_id = 1) in;
BUF(0, a_) BUF(1, b_) BUF(2, c_) BUF(3, bias_) BUF(4, g_)
layout(std430, set = 0, binding = 0) readonly buffer BufA4 { vec4 a4_[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufB4 { vec4 b4_[]; };
layout(push_constant) uniform P {
    uint ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
    float alpha, beta;
    uint batch, kchunk, split_stride;
    uint epi, biaso, go;
    TS_DROP_FIELDS
} p;
#include "fused_drop.glsl"

const uint BM = WGM * TM, BN = WGN * TN, NT = WGM * WGN;
const uint A_SLOTS = BM * TK / VW, B_SLOTS = BN * TK / VW;
const uint A_PER = (A_SLOTS + NT - 1) / NT, B_PER = (B_SLOTS + NT - 1) / NT;

shared float as_[2 * TK * BM];
shared float bs_[2 * TK * BN];
float ra[A_PER * VW], rb[B_PER * VW];

/* VW elements of row r (rows x cols, ld) from column c of A (which == 0) or B, zero past the
 * edges, into ra/rb at `at`. */
void load_run(uint which, uint base, uint ld, uint rows, uint cols, uint r, uint c, uint at) {
    uint idx = base + r * ld + c;
    if (VW == 4u && r < rows && c + 3u < cols) {
        vec4 v = which == 0u ? a4_[idx >> 2] : b4_[idx >> 2];
        for (uint e = 0u; e < 4u; e++) {
            if (which == 0u)
                ra[at + e] = v[e];
            else
                rb[at + e] = v[e];
        }
        return;
    }
    for (uint e = 0u; e < VW; e++) {
        float x = 0.0;
        if (r < rows && c + e < cols) x = which == 0u ? a_[idx + e] : b_[idx + e];
        if (which == 0u)
            ra[at + e] = x;
        else
            rb[at + e] = x;
    }
}

void fetch(uint abase, uint bbase, uint kend, uint m0, uint n0, uint k0, uint tid) {
    for (uint i = 0u; i < A_PER; i++) {
        uint s = tid + i * NT;
        if (s >= A_SLOTS) break;
        if (p.ta != 0u)
            load_run(0u, abase, p.lda, kend, p.M, k0 + s / (BM / VW), m0 + (s % (BM / VW)) * VW,
                     i * VW);
        else
            load_run(0u, abase, p.lda, p.M, kend, m0 + s / (TK / VW), k0 + (s % (TK / VW)) * VW,
                     i * VW);
    }
    for (uint i = 0u; i < B_PER; i++) {
        uint s = tid + i * NT;
        if (s >= B_SLOTS) break;
        if (p.tb != 0u)
            load_run(1u, bbase, p.ldb, p.N, kend, n0 + s / (TK / VW), k0 + (s % (TK / VW)) * VW,
                     i * VW);
        else
            load_run(1u, bbase, p.ldb, kend, p.N, k0 + s / (BN / VW), n0 + (s % (BN / VW)) * VW,
                     i * VW);
    }
}

void store(uint buf, uint tid) {
    for (uint i = 0u; i < A_PER; i++) {
        uint s = tid + i * NT;
        if (s >= A_SLOTS) break;
        for (uint e = 0u; e < VW; e++) {
            uint m = p.ta != 0u ? (s % (BM / VW)) * VW + e : s / (TK / VW);
            uint k = p.ta != 0u ? s / (BM / VW) : (s % (TK / VW)) * VW + e;
            as_[buf * TK * BM + k * BM + m] = ra[i * VW + e];
        }
    }
    for (uint i = 0u; i < B_PER; i++) {
        uint s = tid + i * NT;
        if (s >= B_SLOTS) break;
        for (uint e = 0u; e < VW; e++) {
            uint n = p.tb != 0u ? s / (TK / VW) : (s % (BN / VW)) * VW + e;
            uint k = p.tb != 0u ? (s % (TK / VW)) * VW + e : s / (BN / VW);
            bs_[buf * TK * BN + k * BN + n] = rb[i * VW + e];
        }
    }
}

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, tid = ty * WGN + tx;
    uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM;
    uint z = gl_WorkGroupID.z, b = z % p.batch, split = z / p.batch;
    uint kbeg = split * p.kchunk, kend = min(p.K, kbeg + p.kchunk);
    uint abase = p.ao + b * p.sa, bbase = p.bo + b * p.sb;
    uint cbase = p.co + b * p.sc + split * p.split_stride;
    float acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++)
        acc[i] = 0.0;
    fetch(abase, bbase, kend, m0, n0, kbeg, tid);
    store(0u, tid);
    barrier();
    uint cur = 0u;
    for (uint k0 = kbeg; k0 < kend; k0 += TK) {
        bool more = k0 + TK < kend;
        if (more) fetch(abase, bbase, kend, m0, n0, k0 + TK, tid);
        uint at = cur * TK * BM, bt = cur * TK * BN;
        for (uint k = 0u; k < TK; k++) {
            float av[TM], bv[TN];
            for (uint i = 0u; i < TM; i++)
                av[i] = as_[at + k * BM + ty + i * WGM];
            for (uint j = 0u; j < TN; j++)
                bv[j] = bs_[bt + k * BN + tx + j * WGN];
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] += av[i] * bv[j];
        }
        if (more) store(cur ^ 1u, tid);
        barrier(); /* the other buffer is complete, and nobody still reads this one */
        cur ^= 1u;
    }
    for (uint i = 0u; i < TM; i++) {
        uint gm = m0 + ty + i * WGM;
        if (gm >= p.M) continue;
        for (uint j = 0u; j < TN; j++) {
            uint gn = n0 + tx + j * WGN;
            if (gn >= p.N) continue;
            uint k = cbase + gm * p.ldc + gn;
            float r = p.alpha * acc[i * TN + j];
            if (p.epi == 0u) {
                c_[k] = p.beta == 0.0 ? r : r + p.beta * c_[k];
                continue;
            }
            /* as bias_add, then bias_gelu_dropout_forward's GELU and dropout */
            r += bias_[p.biaso + gn];
            c_[k] = r;
            if (p.epi == 2u) {
                uint e = gm * p.N + gn;
                g_[p.go + e] = ts_drop(0.5 * r * (1.0 + ts_erf(r * TS_SQRT1_2)), e);
            }
        }
    }
}
