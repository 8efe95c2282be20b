/*
 * lstm_sequence.h — the sequence ops (ops.def: lstm_sequence_forward/backward) as the loop over
 * a backend's own fused step routine: the cpu's only form (so its numbers stay bit for bit
 * those of the step ops) and the GPU backends' fallback when the persistent kernel is not
 * used (the same launches as calling the step op T times).
 */
#ifndef TS_BACKENDS_LSTM_SEQUENCE_H
#define TS_BACKENDS_LSTM_SEQUENCE_H

#include "backends/backend.h"
#include "backends/lstm_split.h"

/* The signatures of lstm_step_forward and lstm_step_backward (ops.def). */
typedef void (*ts_lstm_step_forward_fn)(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act,
                                        ts_tensor pre, ts_tensor h_prev, ts_tensor c_prev,
                                        ts_tensor w_hh, ts_tensor b_ih, ts_tensor b_hh, int B,
                                        int H, int ld_state, int has_prev);
typedef void (*ts_lstm_step_backward_fn)(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev,
                                         ts_tensor dh, ts_tensor dc, ts_tensor dpre_next,
                                         ts_tensor w_hh, ts_tensor act, ts_tensor c,
                                         ts_tensor c_prev, int B, int H, int ld_state, int has_prev,
                                         int has_next);

/* lstm_sequence_forward's arguments after `be`, run as T calls of `step`. */
void ts_lstm_sequence_forward_steps(ts_backend *be, ts_lstm_step_forward_fn step, ts_tensor h,
                                    ts_tensor c, ts_tensor act, ts_tensor pre, ts_tensor h0,
                                    ts_tensor c0, ts_tensor w_hh, ts_tensor b_ih, ts_tensor b_hh,
                                    int T, int B, int H, int has_init);
/* lstm_sequence_backward's arguments after `be`, run as T calls of `step`. */
void ts_lstm_sequence_backward_steps(ts_backend *be, ts_lstm_step_backward_fn step, ts_tensor dpre,
                                     ts_tensor dc, ts_tensor dh, ts_tensor w_hh, ts_tensor act,
                                     ts_tensor c, ts_tensor c0, int T, int B, int H, int has_init);

/*
 * The sequence ops of a GPU backend with a persistent kernel, expanded next to what they need in
 * scope (prefix: ocl, vk; state: its kernel state type):
 *   typedef ... persistent_plan;
 *   static int use_persistent(ts_backend *be, int T, int B, int H, persistent_plan *pl,
 *                             state **st);  -- 1: the persistent kernel runs this problem
 *   static void persistent_forward(be, st, &pl, <lstm_sequence_forward's arguments>);
 *   static void persistent_backward(be, st, &pl, <lstm_sequence_backward's arguments>);
 *   int prefix##_lstm_split_on(ts_backend *be, int H, const ts_lstm_split_kernels **k);
 *       -- 1 with its kernels: the split-K path (backends/lstm_split.h) runs this problem
 * (asked only when the persistent kernel is not taken), and otherwise loop over the backend's
 * fused step routines.
 */
#define TS_LSTM_SEQUENCE_OPS(prefix, state)                                                        \
    void prefix##_lstm_sequence_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act,   \
                                        ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh, \
                                        ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H,       \
                                        int has_init) {                                            \
        persistent_plan pl;                                                                        \
        state *st = NULL;                                                                          \
        const ts_lstm_split_kernels *sk = NULL;                                                    \
        if (T <= 0 || B <= 0 || H <= 0) return;                                                    \
        if (use_persistent(be, T, B, H, &pl, &st))                                                 \
            persistent_forward(be, st, &pl, h, c, act, pre, h0, c0, w_hh, b_ih, b_hh, T, B, H,     \
                               has_init);                                                          \
        else if (prefix##_lstm_split_on(be, H, &sk))                                               \
            ts_lstm_split_forward(be, sk, h, c, act, pre, h0, c0, w_hh, b_ih, b_hh, T, B, H,       \
                                  has_init);                                                       \
        else                                                                                       \
            ts_lstm_sequence_forward_steps(be, prefix##_lstm_step_forward, h, c, act, pre, h0, c0, \
                                           w_hh, b_ih, b_hh, T, B, H, has_init);                   \
    }                                                                                              \
    void prefix##_lstm_sequence_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc,             \
                                         ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c, \
                                         ts_tensor c0, int T, int B, int H, int has_init) {        \
        persistent_plan pl;                                                                        \
        state *st = NULL;                                                                          \
        const ts_lstm_split_kernels *sk = NULL;                                                    \
        if (T <= 0 || B <= 0 || H <= 0) return;                                                    \
        if (use_persistent(be, T, B, H, &pl, &st))                                                 \
            persistent_backward(be, st, &pl, dpre, dc, dh, w_hh, act, c, c0, T, B, H, has_init);   \
        else if (prefix##_lstm_split_on(be, H, &sk))                                               \
            ts_lstm_split_backward(be, sk, dpre, dc, dh, w_hh, act, c, c0, T, B, H, has_init);     \
        else                                                                                       \
            ts_lstm_sequence_backward_steps(be, prefix##_lstm_step_backward, dpre, dc, dh, w_hh,   \
                                            act, c, c0, T, B, H, has_init);                        \
    }

#endif
