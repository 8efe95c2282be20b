/*
 * lstm_split.cl — the partial recurrent products of the split-K LSTM path (backends/lstm_split.h):
 * part[(s * B + b) * M + m] = sum over k in [s * ks, min(K, (s + 1) * ks)) of
 * x[b * ldx + k] * w[m * sm + k * sk]. Forward: x = h_{t-1}, M = 4H gate rows, K = H, w row-major
 * (sm = H, sk = 1); backward: x = dpre_t, M = H, K = 4H, w read by columns (sm = 1, sk = H).
 * The grid is (M, batch blocks of RB rows, S splits): S times the items of the fused step, each
 * with a loop 1/S as long. Each item sums its k in order, so the result is the same every run.
 */
#define TS_SPLIT_RB 8 /* TS_LSTM_SPLIT_ROWS in backends/lstm_split.h */

__kernel void ts_lstm_split_partial(__global float *part, __global const float *x, ulong xo,
                                    __global const float *w, ulong wo, uint B, uint M, uint K,
                                    uint ks, uint ldx, uint sm, uint sk) {
    uint m = get_global_id(0), b0 = get_global_id(1) * TS_SPLIT_RB, s = get_global_id(2);
    if (m >= M || b0 >= B) return;
    uint k0 = s * ks, k1 = min(K, k0 + ks);
    /* rows past the batch are clamped (read, never stored): the loop has no branches */
    __global const float *xr[TS_SPLIT_RB];
    for (uint r = 0; r < TS_SPLIT_RB; r++)
        xr[r] = x + xo + (ulong)min(b0 + r, B - 1) * ldx;
    __global const float *wm = w + wo + (ulong)m * sm;
    float acc[TS_SPLIT_RB];
    for (uint r = 0; r < TS_SPLIT_RB; r++)
        acc[r] = 0.0f;
    for (uint k = k0; k < k1; k++) {
        float wv = wm[(ulong)k * sk];
        for (uint r = 0; r < TS_SPLIT_RB; r++)
            acc[r] += xr[r][k] * wv;
    }
    for (uint r = 0; r < TS_SPLIT_RB && b0 + r < B; r++)
        part[((ulong)s * B + b0 + r) * M + m] = acc[r];
}
