/*
 * infer.h — incremental decoding for sampling: feed tokens and get the logits of the last one
 * without recomputing the past (batch 1, eval mode: no dropout).
 *
 *   Transformer: a key/value cache per layer. A new token computes q, k, v for its own position
 *   only, appends k and v to the cache and attends over it. The cache holds up to max_seq_len
 *   positions (the position table's size); what happens when a context outgrows it is the
 *   caller's policy (src/gen/sample.c rebuilds the cache from a shorter window).
 *   LSTM: (h, c) of every layer carried from token to token; no length limit.
 *
 * Everything runs on backend ops, so it works on every backend; only the logits row (V floats)
 * comes back to the host per call.
 */
#ifndef TS_MODEL_INFER_H
#define TS_MODEL_INFER_H

#include <stdint.h>

#include "model/model.h"

typedef struct ts_infer ts_infer;

/* Allocates the cache (Transformer) or state (LSTM) for model m, which must outlive it. */
ts_status ts_infer_create(ts_model *m, ts_infer **out);
void ts_infer_free(ts_infer *s);
/* Forgets every token fed so far. */
void ts_infer_reset(ts_infer *s);
/* Tokens fed since the last reset, and the most the state can hold (INT32_MAX: unbounded). */
int ts_infer_len(const ts_infer *s);
int ts_infer_capacity(const ts_infer *s);
/* The model's vocabulary size (length of a logits row). */
int ts_infer_vocab(const ts_infer *s);
/* Appends n tokens at positions len .. len+n-1; when logits != NULL, writes the V logits that
 * predict the token after the last one. A first chunk into an empty Transformer cache runs as
 * one causal pass (prefill); later tokens run one at a time against the cache. */
ts_status ts_infer_feed(ts_infer *s, const int32_t *ids, int n, float *logits);

/* Family implementations (internal). */
typedef struct ts_tf_cache ts_tf_cache;
ts_status ts_tf_cache_create(ts_model *m, ts_tf_cache **out);
void ts_tf_cache_free(ts_model *m, ts_tf_cache *c);
ts_status ts_tf_cache_run(ts_model *m, ts_tf_cache *c, int p0, const int32_t *ids, int n,
                          float *logits);

typedef struct ts_lstm_state ts_lstm_state;
ts_status ts_lstm_state_create(ts_model *m, ts_lstm_state **out);
void ts_lstm_state_free(ts_model *m, ts_lstm_state *s);
void ts_lstm_state_reset(ts_model *m, ts_lstm_state *s);
ts_status ts_lstm_state_feed(ts_model *m, ts_lstm_state *s, int first, const int32_t *ids, int n,
                             float *logits);

#endif
