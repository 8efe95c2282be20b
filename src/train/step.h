/*
 * step.h — one training step, the only one: forward, loss, backward, gradient-norm clipping,
 * AdamW, and skipping a step whose loss or gradient is not finite. The trainer, its
 * data-parallel path and `tunescale bench step` all call it, so the benchmark times exactly
 * what training runs.
 */
#ifndef TS_TRAIN_STEP_H
#define TS_TRAIN_STEP_H

#include <stdint.h>

#include "model/model.h"
#include "train/loss_scale.h"
#include "util/error.h"

/* AdamW and clipping settings. */
typedef struct {
    double lr; /* peak learning rate (the schedule scales it per step) */
    double beta1, beta2, eps;
    double weight_decay;
    double clip; /* max gradient norm (clip_grad_norm_) */
    /* --precision fp16: the dynamic loss scale the step applies and updates (NULL: none) */
    ts_loss_scaler *scaler;
} ts_optimizer;

/* The notebook's settings, the single place they are written: lr 3e-4, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0.01, clip 1.0. */
void ts_optimizer_default(ts_optimizer *o);

/* Data-parallel: this process is rank `rank` of K; each trains its slice of the batch, then
 * all_reduce sums the slices' gradients (and sums[0] loss sum, sums[1] target count) over the
 * ranks into every rank's model. `st` is this rank's outcome so far: a failed rank must still
 * join the collective so that no rank waits for it. */
typedef struct {
    int rank, K;
    ts_status (*all_reduce)(void *ctx, ts_model *m, ts_status st, double sums[2]);
    void *ctx;
} ts_step_shard;

typedef struct {
    float loss;      /* mean over the batch's non-<PAD> targets */
    float grad_norm; /* before clipping */
    int skipped;     /* 1: the loss or gradient was not finite and no update was made */
} ts_step_result;

/* One step on n windows of T tokens (x inputs, y targets). `lr` is this step's learning rate,
 * `step` the number of steps done before (AdamW's bias correction counts from step + 1; dropout
 * masks come from `seed` and `step`). shard NULL: a single process. The clip and the
 * non-finite gate run on the device; the step's one host wait is the readback of its loss,
 * norm and gate at the end, so on return the update is done and the gradients are zero. */
ts_status ts_train_step(ts_model *m, const ts_optimizer *opt, double lr, long step, uint64_t seed,
                        const int32_t *x, const int32_t *y, int n, int T,
                        const ts_step_shard *shard, ts_step_result *out);

/* ts_train_step in two halves, so that the host enqueues step s+1 before it waits for step s's
 * readback (the device never idles while the host prepares a step): begin enqueues the whole
 * step and starts its readback into *p, end waits for it and fills out. Steps end in the order
 * they began; a begun step must be ended (its readback lands in *p) even after an error. The
 * model is in step s's state only once step s has ended and no later step has begun. */
typedef struct {
    float v[TS_STEP_SCALARS]; /* the readback's landing place */
    int targets;              /* non-<PAD> targets of the batch (the loss's divisor) */
    int sharded;              /* data-parallel: the loss below is the global mean */
    float dp_loss;
    ts_loss_scaler *scaler; /* the optimizer's (fp16), updated when the step ends */
    int begun;              /* 1 from a successful begin until its end */
} ts_step_pending;
ts_status ts_train_step_begin(ts_model *m, const ts_optimizer *opt, double lr, long step,
                              uint64_t seed, const int32_t *x, const int32_t *y, int n, int T,
                              const ts_step_shard *shard, ts_step_pending *p);
ts_status ts_train_step_end(ts_model *m, ts_step_pending *p, ts_step_result *out);

#endif
