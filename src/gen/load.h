/*
 * load.h — a trained model ready for sampling or evaluation: weights from a safetensors file,
 * its shape and its dataset (vocabulary, framing) found from the run folder.
 *
 * The shape comes from --model when given, else from result.json beside the checkpoint (the
 * run's model name, or its recorded fields for FILE.json models), else from the resume state
 * inside a checkpoint.safetensors. The dataset is --data, else result.json's dataset.dir.
 */
#ifndef TS_GEN_LOAD_H
#define TS_GEN_LOAD_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "data/vocab.h"
#include "model/model.h"

typedef struct {
    const char *checkpoint; /* model.safetensors or checkpoint.safetensors */
    const char *data_dir;   /* NULL: from result.json */
    const char *model;      /* NULL: from result.json or the checkpoint's state */
    const char *backend;    /* cpu | opencl | vulkan */
    int device, threads;
    size_t mem_limit;
} ts_load_options;

typedef struct {
    ts_model_config cfg;
    ts_backend *be;
    ts_model *model;
    ts_vocab vocab;
    char data_dir[4096];
    int sos_framing; /* the dataset frames each tune as <SOS> ... <EOS> */
    int newline_id;  /* token id of '\n', -1 if the vocabulary has none */
} ts_loaded;

ts_status ts_load(const ts_load_options *o, ts_loaded *out);
void ts_loaded_free(ts_loaded *l);

/* Prompt text to token ids (malloc'd): <SOS> first when the dataset frames tunes with it or the
 * prompt is empty (the notebook's unconditional start). */
ts_status ts_prompt_tokens(const ts_loaded *l, const char *prompt, int32_t **ids, int *n);

#endif
