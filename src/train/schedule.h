/*
 * schedule.h — the notebook's learning-rate schedule (LambdaLR): linear warmup from 0, then
 * cosine to 0.  lambda(s) = s / W for s < W, else 0.5 * (1 + cos(pi * (s - W) / (S - W))),
 * with W = min(500, S / 10) and S the total number of optimizer steps. Step s (0-based) of the
 * optimizer uses lr * lambda(s): PyTorch calls scheduler.step() after optimizer.step(), so the
 * first update runs at lambda(0) = 0.
 */
#ifndef TS_TRAIN_SCHEDULE_H
#define TS_TRAIN_SCHEDULE_H

long ts_default_warmup(long total_steps);
double ts_lr_lambda(long step, long warmup, long total_steps);

#endif
