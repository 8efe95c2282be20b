/* loss_scale.c — dynamic loss scaling (see loss_scale.h). */
#include "train/loss_scale.h"

void ts_loss_scaler_init(ts_loss_scaler *s) {
    s->scale = 65536.0f;
    s->growth_interval = 2000;
    s->good_steps = 0;
    s->overflows = 0;
}

void ts_loss_scaler_update(ts_loss_scaler *s, int finite) {
    if (!finite) {
        s->overflows++;
        s->good_steps = 0;
        if (s->scale > 1.0f) s->scale *= 0.5f;
        return;
    }
    if (++s->good_steps >= s->growth_interval) {
        s->good_steps = 0;
        if (s->scale < 16777216.0f) s->scale *= 2.0f;
    }
}
