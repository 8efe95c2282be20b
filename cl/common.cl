/*
 * common.cl — put in front of every kernel file: shared settings and work-group reductions.
 *
 * Build options define the tuning values (TS_WG, TS_ROW_WG) and the fixed reduction shape
 * (TS_RED_WG, TS_RED_GROUPS, TS_COLSUM_ROWS, TS_EMB_TILE); see backends/opencl/opencl_internal.h.
 * Views arrive as (pointer, ulong element offset); sizes as uint, checked on the host.
 */

/* No fused multiply-adds: the CPU reference rounds every product (ISO C, no contraction), and
 * the parity test and the cross-backend loss curves compare against it. */
#pragma OPENCL FP_CONTRACT OFF

/* Sum of v over a work-group of n items (n a power of two), by a fixed tree: every item gets
 * the same total, and the order of additions depends only on n. */
inline float ts_group_sum(float v, __local float *tmp, int n) {
    int lid = get_local_id(0);
    tmp[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (lid < s) tmp[lid] += tmp[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = tmp[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* tmp may be reused at once by the caller */
    return total;
}

inline float ts_group_max(float v, __local float *tmp, int n) {
    int lid = get_local_id(0);
    tmp[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (lid < s) tmp[lid] = fmax(tmp[lid], tmp[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float m = tmp[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return m;
}

/*
 * Philox4x32-10 (Salmon et al., SC'11), the same function as util/philox.c
 * (dropout in elementwise.cl, the attention mask in attention_flash.cl): ten rounds of two
 * 32x32->64 multiplies with a Weyl-sequence key schedule.
 */
inline uint4 ts_philox(uint4 x, uint2 key) {
    for (int r = 0; r < 10; r++) {
        uint lo0 = 0xD2511F53u * x.s0, hi0 = mul_hi(0xD2511F53u, x.s0);
        uint lo1 = 0xCD9E8D57u * x.s2, hi1 = mul_hi(0xCD9E8D57u, x.s2);
        x = (uint4)(hi1 ^ x.s1 ^ key.s0, lo1, hi0 ^ x.s3 ^ key.s1, lo0);
        key += (uint2)(0x9E3779B9u, 0xBB67AE85u);
    }
    return x;
}

/* Row grp of LayerNorm's input gradient, dinp = rstd * (dnorm - mean(dnorm) - norm *
 * mean(dnorm * norm)), dnorm = dout * w: one work-group of TS_ROW_WG items (layernorm.cl's
 * ts_layernorm_backward and fused.cl's ts_layernorm_backward_dropout). */
inline void ts_layernorm_backward_row(__global float *dinp, ulong dio,
                                      __global const float *dout, ulong doo,
                                      __global const float *inp, ulong io,
                                      __global const float *w, ulong wo,
                                      __global const float *mean, ulong mo,
                                      __global const float *rstd, ulong ro, uint grp, uint C,
                                      __local float *tmp) {
    uint lid = get_local_id(0);
    ulong base = (ulong)grp * C;
    __global const float *dy = dout + doo + base;
    __global const float *x = inp + io + base;
    float m = mean[mo + grp], q = rstd[ro + grp];
    float s1 = 0.0f, s2 = 0.0f;
    for (uint c = lid; c < C; c += TS_ROW_WG) {
        float norm = (x[c] - m) * q;
        float dn = dy[c] * w[wo + c];
        s1 += dn;
        s2 += dn * norm;
    }
    float mean1 = ts_group_sum(s1, tmp, TS_ROW_WG) / (float)C;
    float mean2 = ts_group_sum(s2, tmp, TS_ROW_WG) / (float)C;
    for (uint c = lid; c < C; c += TS_ROW_WG) {
        float norm = (x[c] - m) * q;
        float dn = dy[c] * w[wo + c];
        dinp[dio + base + c] = q * (dn - mean1 - norm * mean2);
    }
}

/* A cross-entropy row's target, or -1 when the row is ignored; a target outside [0, V) sets the
 * status word and the row counts as ignored (loss.cl and fused.cl). */
inline int ts_row_target(__global const int *targets, ulong to, uint r, uint V, int ignore_index,
                         __global int *status) {
    int tg = targets[to + r];
    if (tg == ignore_index) return -1;
    if (tg < 0 || (uint)tg >= V) {
        if (get_local_id(0) == 0) *status = TS_BAD_TARGET;
        return -1;
    }
    return tg;
}

/* The largest of a row's V values, over one work-group of TS_ROW_WG items. */
inline float ts_row_max(__global const float *x, uint V, __local float *tmp) {
    float mx = -INFINITY;
    for (uint j = get_local_id(0); j < V; j += TS_ROW_WG)
        mx = fmax(mx, x[j]);
    return ts_group_max(mx, tmp, TS_ROW_WG);
}

/* GELU and the dropout of one element, shared by the fused ops (fused.cl) and the tiled
 * GEMM's epilogue (gemm_tiled.cl). */
#define TS_SQRT1_2      0.70710678118654752440f
#define TS_INV_SQRT_2PI 0.39894228040143267794f

/* The dropout of element i (dropout_forward in elementwise.cl, one element at a time):
 * thr == 0 means p == 0, which keeps everything unscaled. */
#define TS_DROP_ARGS                                                                               \
    uint thr, float dscale, uint seed_lo, uint seed_hi, uint dstep, uint dtid, ulong doff,         \
        uint dspan, uint dstride
#define TS_DROP(v, i)                                                                              \
    ts_fused_drop((v), (i), thr, dscale, seed_lo, seed_hi, dstep, dtid, doff, dspan, dstride)

inline float ts_fused_drop(float v, ulong i, uint thr, float scale, uint seed_lo, uint seed_hi,
                           uint step, uint tid, ulong offset, uint span, uint stride) {
    if (thr == 0) return v;
    ulong g = span ? offset + (i / span) * stride + i % span : offset + i;
    uint4 w = ts_philox((uint4)((uint)(g >> 2), 0, step, tid), (uint2)(seed_lo, seed_hi));
    /* word g & 3 by selects, not an indexed array: pocl then keeps the lanes vectorised */
    uint word = (g & 2) ? ((g & 1) ? w.s3 : w.s2) : ((g & 1) ? w.s1 : w.s0);
    return (word >> 8) >= thr ? v * scale : 0.0f;
}

inline float ts_gelu(float x) {
    return 0.5f * x * (1.0f + erf(x * TS_SQRT1_2));
}
