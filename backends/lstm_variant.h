/*
 * lstm_variant.h — which form of the fused LSTM step's forward kernel a device runs.
 *
 * "tiled" stages W_hh and h_prev in local/shared memory so W_hh is read in contiguous runs:
 * what a GPU wants. "items" has each item read its four W_hh rows directly, with no barriers:
 * CPU drivers (PoCL, lavapipe) run it about three times faster, as they pay for every barrier.
 * On Vulkan the choice covers the backward too (shaders/lstm_step_*_items*.comp).
 * TUNESCALE_LSTM_STEP=tiled|items overrides the choice (the parity test runs both).
 */
#ifndef TS_BACKENDS_LSTM_VARIANT_H
#define TS_BACKENDS_LSTM_VARIANT_H

/* 1: the tiled form; 0: one item per unit. device_is_cpu picks when the override is unset. */
int ts_lstm_step_tiled(int device_is_cpu);

#endif
