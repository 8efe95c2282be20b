/*
 * sample.h — drawing tunes from a model: the notebook's generate_text, made reproducible and
 * fast.
 *
 * A sample starts from <SOS> (unconditional) or from a prompt, and draws one token at a time:
 * logits / temperature -> top-k (ties at the k-th value kept, as torch.topk + `<` does) ->
 * optional top-p (smallest set of most likely tokens whose probability reaches p) -> softmax ->
 * inverse CDF at a uniform from Philox4x32-10 keyed by (seed; token index, sample index), so a
 * sample depends only on (seed, index) and is the same on every backend up to float rounding.
 *
 * Stop rules (the notebook's): <EOS> (not kept), a run of blank lines (the notebook stops when
 * the text contains "\n\n\n", i.e. two blank lines), or max_len new tokens.
 *
 * Context window. The notebook feeds the last 256 tokens, re-encoding positions from 0, at every
 * step. A key/value cache cannot slide by one (every position would change), so by default when
 * the context fills the window the window jumps to the last half and the cache is rebuilt from
 * those tokens in one prefill (TS_WINDOW_HALF). TS_WINDOW_SLIDE is the notebook's rule exactly;
 * with a cache it rebuilds at every step past the window, i.e. no saving there. The policy
 * decides the window and both paths (cache and no cache) compute logits over the same window,
 * so they draw the same tokens.
 */
#ifndef TS_GEN_SAMPLE_H
#define TS_GEN_SAMPLE_H

#include <stdint.h>

#include "model/infer.h"

typedef enum { TS_WINDOW_HALF = 0, TS_WINDOW_SLIDE = 1 } ts_window_policy;

typedef struct {
    float temperature; /* 0.8 (the notebook: 0.9 unconditional, 0.8 with a prompt); 0 = greedy */
    int top_k;         /* 50; 0 = all tokens */
    float top_p;       /* 1 = off */
    int max_len;       /* new tokens, 400 */
    int blank_lines;   /* stop after this many blank lines in a row, 2; 0 = never */
    int stop_at_eos;   /* 1 */
    int context;       /* window length in tokens, 256 (capped by the model's positions) */
    ts_window_policy window;
    int use_cache; /* 0: recompute the whole window for every token (the notebook's way) */
    uint64_t seed;
} ts_sample_options;

typedef struct {
    int32_t *tokens; /* prompt then generated tokens (n_tokens) */
    int n_prompt, n_tokens;
    const char *stop; /* "eos", "blank_lines", "max_len" */
    double seconds;   /* generation time, prompt included */
    int rebuilds;     /* window moves (each a cache rebuild when caching) */
} ts_sample;

void ts_sample_options_default(ts_sample_options *o);

/* Draws sample number `index` after the prompt (n_prompt >= 1 tokens; unconditional sampling
 * passes {<SOS>}). newline_id is the vocabulary's '\n' (-1 if absent: no blank-line rule). */
ts_status ts_sample_run(ts_infer *s, const int32_t *prompt, int n_prompt, uint32_t index,
                        int newline_id, const ts_sample_options *o, ts_sample *out);
void ts_sample_free(ts_sample *s);

/* The choice of one token from logits (V) at uniform u in [0, 1); work holds 2V floats. */
int ts_sample_pick(const float *logits, int V, float temperature, int top_k, float top_p, double u,
                   float *work);
/* The uniform for token i of sample `index` under seed. */
double ts_sample_uniform(uint64_t seed, uint32_t index, uint32_t i);

#endif
