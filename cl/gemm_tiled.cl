/*
 * gemm_tiled.cl — C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major, the same design as
 * shaders/gemm_tiled.comp (backends/gemm_plan.h):
 *  - a (WGN x WGM) work-group computes a BM x BN tile of C (BM = WGM*TM, BN = WGN*TN), each
 *    item a TM x TN register block at rows ty + i*WGM, columns tx + j*WGN (so local reads do
 *    not conflict and stores to C coalesce);
 *  - K goes by TK-column tiles, double-buffered in local memory: the next tile is read from
 *    global memory into registers while the current one is multiplied, so one barrier per tile;
 *  - global reads are float4 (vload4) along the contiguous side when VW == 4 (the host builds
 *    that variant only when offsets, leading dimensions and strides are multiples of 4), with
 *    guarded scalar reads at the edges, so any size works;
 *  - grid z is (split, batch entry): with splits > 1 each split multiplies K columns
 *    [s*kchunk, (s+1)*kchunk) and writes its partial product to P; ts_gemm_splitk_reduce then
 *    adds the partials in split order (deterministic) and applies alpha and beta.
 *  - an epilogue (epi, backends/gemm_epilogue.h) may finish the product before it is stored:
 *    1 adds bias[n] to every row, 2 also writes G = Drop(GELU(C)) (G contiguous M x N, the
 *    dropout of element m*N + n as fused.cl's); the host asks only without a split, alpha 1,
 *    beta 0 and batch 1. C then keeps the biased product (the GELU's input).
 * Build options: -DWGN -DWGM -DTN -DTM -DTK -DVW. beta == 0 never reads C.
 */
#define BM  (WGM * TM)
#define BN  (WGN * TN)
#define NT  (WGM * WGN)
/* float4 (or float) slots of the A and B tiles, and how many each item loads */
#define A_SLOTS  (BM * TK / VW)
#define B_SLOTS  (BN * TK / VW)
#define A_PER    ((A_SLOTS + NT - 1) / NT)
#define B_PER    ((B_SLOTS + NT - 1) / NT)

/* Reads VW consecutive elements of row `r` of a (rows x cols, ld) matrix starting at column c,
 * zero past the edges; the slot is whole and aligned when VW == 4 and it is inside. */
inline void load_run(__global const float *X, uint ld, uint rows, uint cols, uint r, uint c,
                     float *out) {
#if VW == 4
    if (r < rows && c + 3 < cols) {
        float4 v = vload4(0, X + (ulong)r * ld + c);
        out[0] = v.s0;
        out[1] = v.s1;
        out[2] = v.s2;
        out[3] = v.s3;
        return;
    }
#endif
    for (int v = 0; v < VW; v++)
        out[v] = (r < rows && c + v < cols) ? X[(ulong)r * ld + c + v] : 0.0f;
}

/* The A tile (rows m0.., K columns k0..kend) into registers. Non-transposed A runs along k;
 * transposed A (stored K x M) runs along m. */
inline void fetch_a(__global const float *A, uint lda, uint ta, uint M, uint kend, uint m0,
                    uint k0, uint tid, float *ra) {
    for (int i = 0; i < A_PER; i++) {
        uint s = tid + i * NT;
        if (s >= A_SLOTS) break;
        if (ta)
            load_run(A, lda, kend, M, k0 + s / (BM / VW),
                     m0 + (s % (BM / VW)) * VW, ra + i * VW);
        else
            load_run(A, lda, M, kend, m0 + s / (TK / VW), k0 + (s % (TK / VW)) * VW, ra + i * VW);
    }
}

inline void store_a(__local float *as, uint ta, uint tid, const float *ra) {
    for (int i = 0; i < A_PER; i++) {
        uint s = tid + i * NT;
        if (s >= A_SLOTS) break;
        for (int v = 0; v < VW; v++) {
            uint m = ta ? (s % (BM / VW)) * VW + v : s / (TK / VW);
            uint k = ta ? s / (BM / VW) : (s % (TK / VW)) * VW + v;
            as[k * BM + m] = ra[i * VW + v];
        }
    }
}

/* The B tile (K rows k0.., columns n0..). Non-transposed B (K x N) runs along n; transposed B
 * (stored N x K) runs along k. */
inline void fetch_b(__global const float *B, uint ldb, uint tb, uint N, uint kend, uint n0,
                    uint k0, uint tid, float *rb) {
    for (int i = 0; i < B_PER; i++) {
        uint s = tid + i * NT;
        if (s >= B_SLOTS) break;
        if (tb)
            load_run(B, ldb, N, kend, n0 + s / (TK / VW), k0 + (s % (TK / VW)) * VW, rb + i * VW);
        else
            load_run(B, ldb, kend, N, k0 + s / (BN / VW),
                     n0 + (s % (BN / VW)) * VW, rb + i * VW);
    }
}

inline void store_b(__local float *bs, uint tb, uint tid, const float *rb) {
    for (int i = 0; i < B_PER; i++) {
        uint s = tid + i * NT;
        if (s >= B_SLOTS) break;
        for (int v = 0; v < VW; v++) {
            uint n = tb ? s / (TK / VW) : (s % (BN / VW)) * VW + v;
            uint k = tb ? (s % (TK / VW)) * VW + v : s / (BN / VW);
            bs[k * BN + n] = rb[i * VW + v];
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WGN, WGM, 1))) void
ts_gemm_tiled(__global const float *A, ulong ao, __global const float *B, ulong bo,
              __global float *C, ulong co, uint M, uint N, uint K, uint lda, uint ldb, uint ldc,
              ulong sa, ulong sb, ulong sc, uint ta, uint tb, float alpha, float beta, uint batch,
              uint kchunk, ulong split_stride, __global const float *bias, ulong biaso,
              __global float *G, ulong go, uint epi, TS_DROP_ARGS) {
    __local float as[2][TK * BM];
    __local float bs[2][TK * BN];
    uint tx = get_local_id(0), ty = get_local_id(1), tid = ty * WGN + tx;
    uint n0 = get_group_id(0) * BN, m0 = get_group_id(1) * BM;
    uint z = get_group_id(2), b = z % batch, split = z / batch;
    uint kbeg = split * kchunk, kend = min(K, kbeg + kchunk);
    A += ao + b * sa;
    B += bo + b * sb;
    C += co + b * sc + split * split_stride;

    float acc[TM][TN];
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++)
            acc[i][j] = 0.0f;
    float ra[A_PER * VW], rb[B_PER * VW];
    fetch_a(A, lda, ta, M, kend, m0, kbeg, tid, ra);
    fetch_b(B, ldb, tb, N, kend, n0, kbeg, tid, rb);
    store_a(as[0], ta, tid, ra);
    store_b(bs[0], tb, tid, rb);
    barrier(CLK_LOCAL_MEM_FENCE);
    uint cur = 0;
    for (uint k0 = kbeg; k0 < kend; k0 += TK) {
        int more = k0 + TK < kend;
        if (more) {
            fetch_a(A, lda, ta, M, kend, m0, k0 + TK, tid, ra);
            fetch_b(B, ldb, tb, N, kend, n0, k0 + TK, tid, rb);
        }
        __local const float *at = as[cur], *bt = bs[cur];
        for (int k = 0; k < TK; k++) {
            float av[TM], bv[TN];
            for (int i = 0; i < TM; i++)
                av[i] = at[k * BM + ty + i * WGM];
            for (int j = 0; j < TN; j++)
                bv[j] = bt[k * BN + tx + j * WGN];
            for (int i = 0; i < TM; i++)
                for (int j = 0; j < TN; j++)
                    acc[i][j] += av[i] * bv[j];
        }
        if (more) {
            store_a(as[cur ^ 1], ta, tid, ra);
            store_b(bs[cur ^ 1], tb, tid, rb);
        }
        /* one barrier: the other buffer is complete, and nobody still reads this one */
        barrier(CLK_LOCAL_MEM_FENCE);
        cur ^= 1;
    }
    for (int i = 0; i < TM; i++) {
        uint gm = m0 + ty + i * WGM;
        if (gm >= M) continue;
        for (int j = 0; j < TN; j++) {
            uint gn = n0 + tx + j * WGN;
            if (gn >= N) continue;
            ulong at = (ulong)gm * ldc + gn;
            float r = alpha * acc[i][j];
            if (epi == 0) {
                C[at] = beta == 0.0f ? r : r + beta * C[at];
                continue;
            }
            /* as bias_add, then bias_gelu_dropout_forward's GELU and dropout */
            r += bias[biaso + gn];
            C[at] = r;
            if (epi == 2) {
                ulong e = (ulong)gm * N + gn;
                G[go + e] = TS_DROP(ts_gelu(r), e);
            }
        }
    }
}

/* C_b = alpha * sum over s (in order) of P[s][b] + beta * C_b; P holds (M x N) partials,
 * batch entries M*N apart, splits batch*M*N apart. Grid (N, M, batch). */
__kernel void ts_gemm_splitk_reduce(__global const float *P, __global float *C, ulong co, uint M,
                                    uint N, uint ldc, ulong sc, uint batch, uint splits,
                                    float alpha, float beta) {
    uint n = get_global_id(0), m = get_global_id(1), b = get_global_id(2);
    if (n >= N || m >= M || b >= batch) return;
    ulong mn = (ulong)M * N, p = b * mn + (ulong)m * N + n;
    float s = 0.0f;
    for (uint i = 0; i < splits; i++)
        s += P[p + i * batch * mn];
    ulong at = co + b * sc + (ulong)m * ldc + n;
    float r = alpha * s;
    C[at] = beta == 0.0f ? r : r + beta * C[at];
}
