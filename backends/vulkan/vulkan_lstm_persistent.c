/*
 * vulkan_lstm_persistent.c — the sequence ops (ops.def: lstm_sequence_forward/backward) on
 * Vulkan: the per-step fused dispatches (vulkan_lstm.c) over all T steps.
 */
#include "backends/vulkan/vulkan_internal.h"
#include "backends/lstm_sequence.h"
#include "backends/lstm_variant.h"

void vk_lstm_sequence_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act,
                              ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                              ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init) {
    if (ts_lstm_path_mode_of(be) == TS_LSTM_PATH_PERSISTENT) {
        ts_backend_fail(be, TS_ERR,
                        "TUNESCALE_LSTM_PATH=persistent: the Vulkan backend has no "
                        "persistent LSTM kernel yet (unset it or use fused-step)");
        return;
    }
    ts_lstm_path_record(be, 0, "not built for Vulkan yet");
    ts_lstm_sequence_forward_steps(be, vk_lstm_step_forward, h, c, act, pre, h0, c0, w_hh, b_ih,
                                   b_hh, T, B, H, has_init);
}

void vk_lstm_sequence_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc, ts_tensor dh,
                               ts_tensor w_hh, ts_tensor act, ts_tensor c, ts_tensor c0, int T,
                               int B, int H, int has_init) {
    ts_lstm_sequence_backward_steps(be, vk_lstm_step_backward, dpre, dc, dh, w_hh, act, c, c0, T, B,
                                    H, has_init);
}
