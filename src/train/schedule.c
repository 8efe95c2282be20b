/* schedule.c — warmup + cosine learning-rate multiplier (see schedule.h). */
#include "train/schedule.h"

#include <math.h>

long ts_default_warmup(long total_steps) {
    long tenth = total_steps / 10;
    return tenth < 500 ? tenth : 500;
}

double ts_lr_lambda(long step, long warmup, long total_steps) {
    if (step < warmup) return (double)step / (double)warmup;
    if (total_steps <= warmup) return 1.0; /* the notebook would divide by zero here */
    double progress = (double)(step - warmup) / (double)(total_steps - warmup);
    return 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
}
