/*
 * lstm_variant.h — which form of the fused LSTM step's forward kernel a device runs, and which
 * recurrence the sequence ops (ops.def: lstm_sequence_forward/backward) take.
 *
 * Step forms: "tiled" stages W_hh and h_prev in local/shared memory so W_hh is read in
 * contiguous runs: what a GPU wants. "items" has each item read its four W_hh rows directly,
 * with no barriers: CPU drivers (PoCL, lavapipe) run it about three times faster, as they pay
 * for every barrier. On Vulkan the choice covers the backward too
 * (shaders/lstm_step_*_items*.comp). TUNESCALE_LSTM_STEP=tiled|items overrides the choice (the
 * parity test runs both).
 *
 * Sequence paths: "fused-step" runs one step launch per time step (T launches); "persistent"
 * runs all T steps of a layer in one launch, each work-group owning a fixed slice of hidden
 * units, with a device-wide barrier between steps. The persistent kernel is only safe when
 * every work-group is resident at once, so a backend takes it only when its device facts say
 * so AND a one-time self-test on a small problem completed and matched the step path (the
 * barrier's spin is bounded: a timeout sets a failure flag and poisons the outputs with NaN).
 * By default OpenCL takes it on GPU devices only (on a CPU driver the groups are OS threads
 * that can be descheduled while the others spin); Vulkan only when forced (not yet validated
 * on a GPU). TUNESCALE_LSTM_PATH=persistent|fused-step|split forces a
 * path (persistent and split fail with an error where they cannot run, never fall back quietly).
 *
 * "split" (split-K, backends/lstm_split.h) is for large H, where W_hh (64 MiB at H = 2048)
 * fits no work-group's local memory and the fused step's items each walk all K = H (forward) or
 * 4H (backward) columns serially: per time step a partial-product launch spreads K over S
 * splits (more work-groups, shorter loops, partial sums in a scratch buffer [S][B][M]), then the
 * cell launch adds the S partials in a fixed order (deterministic) and runs the fused step's
 * cell. Two launches per step and direction instead of one. Taken by default on a GPU device
 * when the persistent kernel is not and H >= TS_LSTM_SPLIT_MIN_H; on a CPU device only forced.
 */
#ifndef TS_BACKENDS_LSTM_VARIANT_H
#define TS_BACKENDS_LSTM_VARIANT_H

#include "backends/backend.h"

/* 1: the tiled form; 0: one item per unit. device_is_cpu picks when the override is unset. */
int ts_lstm_step_tiled(int device_is_cpu);

typedef enum {
    TS_LSTM_PATH_AUTO,
    TS_LSTM_PATH_PERSISTENT,
    TS_LSTM_PATH_FUSED_STEP,
    TS_LSTM_PATH_SPLIT
} ts_lstm_path_mode;

/* TUNESCALE_LSTM_PATH, read per call (tests switch it between cases); an unknown value records a
 * usage error on be and returns TS_LSTM_PATH_FUSED_STEP. */
ts_lstm_path_mode ts_lstm_path_mode_of(ts_backend *be);

/* Records on be which path a sequence op ran (not AUTO) and why (printf format), for `bench
 * step`. */
void ts_lstm_path_record(ts_backend *be, ts_lstm_path_mode path, const char *why, ...)
    __attribute__((format(printf, 3, 4)));

/* The first half of a backend's choice: 0 when the persistent kernel is not wanted:
 * TUNESCALE_LSTM_PATH=fused-step (recorded), =split (ts_lstm_split_wanted records it), or unset
 * where not_by_default names why the backend does not take it on its own (recorded; NULL: it
 * does); 1: plan it. */
int ts_lstm_persistent_wanted(ts_backend *be, const char *not_by_default);
/* The reason a CPU device does not take the persistent kernel by default. */
#define TS_LSTM_NOT_ON_CPU                                                                         \
    "not by default on a CPU device, whose work-groups are OS threads (TUNESCALE_LSTM_PATH="       \
    "persistent forces it)"
/* TUNESCALE_LSTM_UNSAFE=1 (a test hook) skips the residency check, so that the self-test meets
 * groups that cannot all run at once and must refuse them (the barrier's timeout). */
int ts_lstm_skip_residency(void);
/* The second half: records the verdict (ok: the plan, in why; else the refusal) and returns ok;
 * a refusal under TUNESCALE_LSTM_PATH=persistent is also recorded as an error. */
int ts_lstm_persistent_decide(ts_backend *be, int ok, const char *why);

/* The persistent kernels' device-wide barrier gives up after this many polls of the generation
 * word (far beyond any legitimate wait for a resident group), then sets the failure flag. */
#define TS_LSTM_SPIN_CAP (1u << 24)

/* Auto takes the split path from this H on (a GPU device, the persistent kernel not taken):
 * 4 gate rows of W_hh for even a few units are then more than a work-group's local memory. */
#define TS_LSTM_SPLIT_MIN_H 1024
/* 1 when the sequence op runs the split path (the persistent kernel was not taken): forced, or
 * auto on a GPU device (device_is_cpu 0) with H >= TS_LSTM_SPLIT_MIN_H; records why. */
int ts_lstm_split_wanted(ts_backend *be, int device_is_cpu, int H);

#endif
