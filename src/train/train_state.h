/*
 * train_state.h — the training state a checkpoint carries ("tunescale_state" metadata), read
 * back with every field checked: a resume from a damaged or hand-edited checkpoint is an error
 * naming the field, never a crash or a silent restart.
 */
#ifndef TS_TRAIN_TRAIN_STATE_H
#define TS_TRAIN_TRAIN_STATE_H

#include <cjson/cJSON.h>

#include "util/error.h"

typedef struct {
    long step;              /* optimizer steps done */
    double train_time_s;    /* seconds spent in steps */
    double tokens_seen;     /* tokens trained on */
    long nonfinite_skipped; /* steps skipped for a non-finite loss or gradient */
    cJSON *curve;           /* [[step, tokens, loss, lr, grad_norm], ...] (owned) */
} ts_train_state;

/* Checks and takes the fields of a parsed "tunescale_state" object; `path` names the checkpoint
 * in messages. The curve is detached from state into out->curve (caller frees). */
ts_status ts_train_state_take(cJSON *state, const char *path, ts_train_state *out);

#endif
