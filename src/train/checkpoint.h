/*
 * checkpoint.h — checkpoints as safetensors files with PyTorch names.
 *
 *   checkpoint.safetensors  the resume point: every parameter under its state_dict name, the
 *                           AdamW moments as "__optimizer__.exp_avg" / ".exp_avg_sq" (flat, in
 *                           parameter order), and the training state as JSON in the metadata
 *                           key "tunescale_state". One file, written atomically with a checksum,
 *                           so a crash leaves either the previous checkpoint or the new one.
 *   model.safetensors       the weights alone, loadable by the notebook's PyTorch model with
 *                           load_state_dict(strict=True).
 */
#ifndef TS_TRAIN_CHECKPOINT_H
#define TS_TRAIN_CHECKPOINT_H

#include <cjson/cJSON.h>

#include "model/model.h"

/* Writes params (and moments and state when state != NULL) to path atomically. */
ts_status ts_checkpoint_save(ts_model *m, const char *path, const cJSON *state);
/* Loads parameters by name from any safetensors file holding all of the model's tensors (extra
 * tensors are ignored). With moments != 0 also loads the optimizer moments. *state, if not NULL,
 * receives the parsed "tunescale_state" (NULL if absent; caller frees). */
ts_status ts_checkpoint_load(ts_model *m, const char *path, int moments, cJSON **state);

/* Reads only the "tunescale_state" JSON of a checkpoint (caller frees; NULL if absent). */
ts_status ts_checkpoint_read_state(const char *path, cJSON **state);

#endif
