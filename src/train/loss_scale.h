/*
 * loss_scale.h — dynamic loss scaling for --precision fp16 (PyTorch's GradScaler rule).
 *
 * fp16 GEMM inputs flush gradients below 2^-24 to zero, so the loss's gradient is multiplied
 * by `scale` before the backward and the parameter gradients are divided by it again before
 * clipping and AdamW (the master weights and moments stay fp32 and unscaled). A step whose
 * gradient is not finite (an overflow at this scale) makes no update and halves the scale;
 * after growth_interval finite steps in a row the scale doubles. step.c consults it through
 * ts_optimizer.scaler (NULL: no scaling, the fp32/tf32/bf16 path, bit for bit as before).
 */
#ifndef TS_TRAIN_LOSS_SCALE_H
#define TS_TRAIN_LOSS_SCALE_H

typedef struct {
    float scale;          /* multiplies the loss gradient; a power of two, so unscaling is exact */
    long growth_interval; /* finite steps in a row before it doubles */
    long good_steps;      /* finite steps since the last change */
    long overflows;       /* steps skipped because the scaled gradient overflowed */
} ts_loss_scaler;

/* GradScaler's defaults: scale 2^16, doubling after 2000 good steps, halving on overflow. */
void ts_loss_scaler_init(ts_loss_scaler *s);
/* After a step: finite 0 halves the scale (not below 1) and counts an overflow; finite 1
 * counts a good step and doubles the scale (not above 2^24) every growth_interval of them. */
void ts_loss_scaler_update(ts_loss_scaler *s, int finite);

#endif
