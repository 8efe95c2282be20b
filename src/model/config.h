/*
 * config.h — model shapes: the seed's ten named models, small test models, and JSON files.
 *
 * Parameter names, shapes, order and initialisation follow the state_dict of the notebook's
 * PyTorch modules (TransformerLM, LSTMLM), so checkpoints load there with strict=True.
 */
#ifndef TS_MODEL_CONFIG_H
#define TS_MODEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util/error.h"

typedef enum { TS_TRANSFORMER = 0, TS_LSTM = 1 } ts_family;

typedef struct {
    char name[64];
    ts_family family;
    int vocab_size; /* V */
    int d_model;    /* C (Transformer) or hidden size H (LSTM) */
    int n_layers;
    int n_heads;     /* Transformer only */
    int d_ff;        /* Transformer only */
    int max_seq_len; /* Transformer position table (the notebook builds it with 256) */
    float dropout;   /* 0.1 in the notebook */
} ts_model_config;

typedef enum {
    TS_INIT_NORMAL, /* N(0, 0.02): Linear and Embedding weights (the notebook's _init_weights) */
    TS_INIT_ZEROS,  /* Linear biases, LayerNorm bias, MHA in_proj_bias */
    TS_INIT_ONES,   /* LayerNorm weight */
    TS_INIT_XAVIER, /* MHA in_proj_weight: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    TS_INIT_LSTM,   /* nn.LSTM weights and biases: U(-1/sqrt(H), 1/sqrt(H)) */
} ts_init_kind;

typedef struct {
    char name[96]; /* PyTorch state_dict name */
    int ndim;      /* 1 or 2 */
    int64_t shape[2];
    size_t numel;
    size_t offset; /* in elements, within the one parameter allocation */
    ts_init_kind init;
    float init_arg; /* bound for XAVIER and LSTM */
} ts_param_spec;

/* Shape limits, checked before anything is allocated: each dimension, and the parameter count
 * (2^36 = 6.9e10 fp32 parameters: 275 GB before gradients and moments, beyond any device). */
enum { TS_MAX_DIM = 1 << 16, TS_MAX_LAYERS = 4096, TS_MAX_SEQ = 1 << 20 };
#define TS_MAX_PARAMS 68719476736.0

/* Looks up a named model ("transformer-1M" … "lstm-100M", "transformer-tiny", "lstm-tiny") or
 * reads a JSON file describing one. vocab_size is filled by the caller (from the dataset) when
 * the name gives none; the seed's table uses 100. */
ts_status ts_model_config_lookup(const char *name_or_file, ts_model_config *out);
/* Reads a model shape from a JSON object (keys: name, family, d_model, n_layers, n_heads, d_ff,
 * max_seq_len, dropout, vocab_size); `where` names it in error messages. */
ts_status ts_model_config_from_json(const cJSON *j, const char *where, ts_model_config *out);
/* The seed's ten models, in table order (transformers then LSTMs). */
size_t ts_seed_models(const char *const **names);

/* The sequence length a model trains with when none is given: 256, or a Transformer's whole
 * position table when that is shorter (transformer-tiny's is 8). */
int ts_model_default_seq_len(const ts_model_config *c);
ts_status ts_model_config_validate(const ts_model_config *c);

/* Fills specs (up to cap) and returns the count; returns the count needed if cap is too small.
 * Offsets are consecutive in state_dict order. */
size_t ts_param_specs(const ts_model_config *c, ts_param_spec *specs, size_t cap);
size_t ts_param_count(const ts_model_config *c);
/* Parameters outside the embedding tables (for the scaling-law fit on non-embedding N). */
size_t ts_param_count_non_embedding(const ts_model_config *c);

#endif
