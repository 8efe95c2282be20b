/*
 * lstm_split.h — the split-K sequence path (backends/lstm_variant.h: "split") as a host loop
 * over three backend kernels, so OpenCL and Vulkan share the schedule:
 *
 *   forward, per step t:  partial: P[s][b][m] = sum over k in split s of h_{t-1}[b][k] W_hh[m][k]
 *                         (M = 4H gate rows, K = H), skipped without a previous state;
 *                         cell:    gates = (pre + b_ih + b_hh) + sum_s P[s] (s in order), then
 *                         the fused step's cell (same outputs, same layout).
 *   backward, t = T-1..0: cell:    dh_t += sum_s P[s] (the partials of dpre_{t+1} W_hh), then
 *                         the fused step's cell backward (dpre_t, dc_{t-1});
 *                         partial: P[s][b][j] = sum over n in split s of dpre_t[b][n] W_hh[n][j]
 *                         (M = H, K = 4H), for step t-1; none after t = 0.
 *
 * P lives in the backend's scratch buffer; the in-order stream orders its reuse.
 */
#ifndef TS_BACKENDS_LSTM_SPLIT_H
#define TS_BACKENDS_LSTM_SPLIT_H

#include "backends/backend.h"

/* Columns of K per split, and the most splits (beyond, the splits widen instead). */
#define TS_LSTM_SPLIT_K   256
#define TS_LSTM_SPLIT_MAX 16
/* Batch rows one item of the partial kernel owns: each W_hh element it loads feeds this many
 * FMAs, and W_hh (64 MiB at H = 2048, past any L2) is streamed B / this many times per step
 * (RB in cl/lstm_split.cl and shaders/lstm_split_partial.comp). */
#define TS_LSTM_SPLIT_ROWS 8

typedef struct {
    int ks, splits; /* columns per split (the last may be shorter), number of splits */
} ts_lstm_split_plan;

/* The plan for a product over K columns: TS_LSTM_SPLIT_K per split, or $TUNESCALE_LSTM_SPLIT_K
 * (a test hook: several splits at small H), at most TS_LSTM_SPLIT_MAX splits. */
ts_lstm_split_plan ts_lstm_split_plan_for(int K);

/* A backend's kernels. out[s][b][m] = sum_{k in split s} x[b * ldx + k] * w[m * sm + k * sk]
 * into the scratch; the cells read `splits` partials from it (B x 4H forward, B x H
 * backward). The cells' state views have row stride H. */
typedef struct ts_lstm_split_kernels {
    void (*partial)(ts_backend *be, ts_tensor x, int ldx, ts_tensor w, int B, int M, int K, int sm,
                    int sk, ts_lstm_split_plan pl);
    void (*cell_forward)(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                         ts_tensor c_prev, ts_tensor b_ih, ts_tensor b_hh, int B, int H,
                         int has_prev, int splits);
    void (*cell_backward)(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                          ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B, int H,
                          int has_prev, int has_next, int splits);
} ts_lstm_split_kernels;

/* lstm_sequence_forward's arguments after `be` (ops.def), on the split path. */
void ts_lstm_split_forward(ts_backend *be, const ts_lstm_split_kernels *k, ts_tensor h, ts_tensor c,
                           ts_tensor act, ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                           ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init);
/* lstm_sequence_backward's arguments after `be`, on the split path. */
void ts_lstm_split_backward(ts_backend *be, const ts_lstm_split_kernels *k, ts_tensor dpre,
                            ts_tensor dc, ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c,
                            ts_tensor c0, int T, int B, int H, int has_init);

#endif
