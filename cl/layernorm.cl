/*
 * layernorm.cl — LayerNorm over the last dimension (biased variance, eps inside the sqrt).
 *
 * One work-group of TS_ROW_WG items per row: each item strides over the row's columns, and
 * the work-group sums by a fixed tree (common.cl), so a row's statistics round the same way
 * on every run. Mean and variance are two passes (no cancellation), as the CPU backend.
 */

__kernel void ts_layernorm_forward(__global float *out, ulong oo, __global float *mean, ulong mo,
                                   __global float *rstd, ulong ro, __global const float *inp,
                                   ulong io, __global const float *w, ulong wo,
                                   __global const float *b, ulong bo, uint N, uint C, float eps) {
    __local float tmp[TS_ROW_WG];
    uint r = get_group_id(0), lid = get_local_id(0);
    if (r >= N) return; /* whole groups only: the barrier below stays uniform */
    __global const float *x = inp + io + (ulong)r * C;
    float s = 0.0f;
    for (uint c = lid; c < C; c += TS_ROW_WG)
        s += x[c];
    float mu = ts_group_sum(s, tmp, TS_ROW_WG) / (float)C;
    float ss = 0.0f;
    for (uint c = lid; c < C; c += TS_ROW_WG) {
        float d = x[c] - mu;
        ss += d * d;
    }
    float var = ts_group_sum(ss, tmp, TS_ROW_WG) / (float)C;
    float q = 1.0f / sqrt(var + eps);
    __global float *y = out + oo + (ulong)r * C;
    for (uint c = lid; c < C; c += TS_ROW_WG)
        y[c] = (x[c] - mu) * q * w[wo + c] + b[bo + c];
    if (lid == 0) {
        mean[mo + r] = mu;
        rstd[ro + r] = q;
    }
}

/*
 * dinp = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)), dnorm = dout * w (assign).
 * dinp may alias dout: every item reads its columns of dout for the two sums, the group
 * barriers inside ts_group_sum separate those reads from the writes, and the final pass reads
 * each column before writing it, in the item that owns the column.
 */
__kernel void ts_layernorm_backward(__global float *dinp, ulong dio, __global const float *dout,
                                    ulong doo, __global const float *inp, ulong io,
                                    __global const float *w, ulong wo,
                                    __global const float *mean, ulong mo,
                                    __global const float *rstd, ulong ro, uint N, uint C) {
    __local float tmp[TS_ROW_WG];
    uint r = get_group_id(0);
    if (r >= N) return;
    ts_layernorm_backward_row(dinp, dio, dout, doo, inp, io, w, wo, mean, mo, rstd, ro, r, C, tmp);
}

/* Partial parameter sums over chunks of TS_COLSUM_ROWS rows: part[k * 2C + c] gets
 * dout * norm (for dweight), part[k * 2C + C + c] gets dout (for dbias); global (C, chunks).
 * ts_colsum_finish (bias.cl) adds the chunks in order. */
__kernel void ts_layernorm_param_partial(__global float *part, __global const float *dout,
                                         ulong doo, __global const float *inp, ulong io,
                                         __global const float *mean, ulong mo,
                                         __global const float *rstd, ulong ro, uint N, uint C) {
    uint c = get_global_id(0), k = get_global_id(1);
    if (c >= C) return;
    uint r0 = k * TS_COLSUM_ROWS, r1 = min(N, r0 + TS_COLSUM_ROWS);
    if (r0 >= N) return;
    float dw = 0.0f, db = 0.0f;
    for (uint r = r0; r < r1; r++) {
        ulong e = (ulong)r * C + c;
        float dy = dout[doo + e];
        float norm = (inp[io + e] - mean[mo + r]) * rstd[ro + r];
        dw += dy * norm;
        db += dy;
    }
    part[(ulong)k * 2 * C + c] = dw;
    part[(ulong)k * 2 * C + C + c] = db;
}
