/* sample.c — token choice, stop rules and the context window for sampling (see sample.h). */
#include "gen/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/vocab.h"
#include "util/philox.h"
#include "util/progress.h"

enum { SAMPLE_STREAM = 0x53414du }; /* Philox counter word 3: keeps sampling apart from dropout */

void ts_sample_options_default(ts_sample_options *o) {
    memset(o, 0, sizeof *o);
    o->temperature = 0.8f;
    o->top_k = 50;
    o->top_p = 1.0f;
    o->max_len = 400;
    o->blank_lines = 2;
    o->stop_at_eos = 1;
    o->context = 256;
    o->window = TS_WINDOW_HALF;
    o->use_cache = 1;
    o->seed = 42;
}

double ts_sample_uniform(uint64_t seed, uint32_t index, uint32_t i) {
    uint32_t ctr[4] = {i, index, 0, SAMPLE_STREAM},
             key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t w[4];
    ts_philox4x32_10(ctr, key, w);
    /* 53 random bits -> [0, 1) */
    return (double)(((uint64_t)w[0] << 21) ^ (w[1] >> 11)) / 9007199254740992.0;
}

static int desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int ts_sample_pick(const float *logits, int V, float temperature, int top_k, float top_p, double u,
                   float *work) {
    float *p = work, *sorted = work + V;
    if (temperature <= 0.0f) { /* greedy: the first largest logit */
        int best = 0;
        for (int j = 1; j < V; j++)
            if (logits[j] > logits[best]) best = j;
        return best;
    }
    for (int j = 0; j < V; j++)
        p[j] = logits[j] / temperature;
    if (top_k > 0 && top_k < V) { /* drop logits below the k-th largest; ties stay */
        memcpy(sorted, p, (size_t)V * sizeof *p);
        qsort(sorted, (size_t)V, sizeof *sorted, desc);
        float kth = sorted[top_k - 1];
        for (int j = 0; j < V; j++)
            if (p[j] < kth) p[j] = -INFINITY;
    }
    float mx = -INFINITY;
    for (int j = 0; j < V; j++)
        mx = fmaxf(mx, p[j]);
    double sum = 0;
    for (int j = 0; j < V; j++) {
        p[j] = p[j] == -INFINITY ? 0.0f : expf(p[j] - mx);
        sum += p[j];
    }
    for (int j = 0; j < V; j++)
        p[j] = (float)(p[j] / sum);
    if (top_p > 0.0f && top_p < 1.0f) { /* keep the most likely tokens until they reach top_p */
        memcpy(sorted, p, (size_t)V * sizeof *p);
        qsort(sorted, (size_t)V, sizeof *sorted, desc);
        double cum = 0;
        float floor_p = sorted[0];
        for (int j = 0; j < V && cum < top_p; j++) {
            floor_p = sorted[j];
            cum += sorted[j];
        }
        for (int j = 0; j < V; j++)
            if (p[j] < floor_p) p[j] = 0.0f;
    }
    double total = 0;
    for (int j = 0; j < V; j++)
        total += p[j];
    double target = u * total, acc = 0;
    int last = 0;
    for (int j = 0; j < V; j++) {
        if (p[j] <= 0.0f) continue;
        acc += p[j];
        last = j;
        if (target < acc) return j;
    }
    return last; /* u * total rounded up to the total */
}

/* Where the window starts for a context of len tokens whose window started at start. */
static int window_start(const ts_sample_options *o, int ctx, int start, int len) {
    if (len - start <= ctx) return start;
    return o->window == TS_WINDOW_SLIDE ? len - ctx : len - (ctx + 1) / 2;
}

ts_status ts_sample_run(ts_infer *s, const int32_t *prompt, int n_prompt, uint32_t index,
                        int newline_id, const ts_sample_options *o, ts_sample *out) {
    memset(out, 0, sizeof *out);
    if (n_prompt < 1) return ts_set_error_status(TS_EUSAGE, "sampling needs a prompt or <SOS>");
    int ctx = o->context < ts_infer_capacity(s) ? o->context : ts_infer_capacity(s);
    if (ctx < 2) return ts_set_error_status(TS_EUSAGE, "context window of %d tokens", ctx);
    int V = ts_infer_vocab(s), cap = n_prompt + (o->max_len > 0 ? o->max_len : 0);
    out->tokens = malloc((size_t)cap * sizeof *out->tokens);
    float *logits = malloc((size_t)V * sizeof *logits), *work = malloc(2 * (size_t)V * 4);
    if (!out->tokens || !logits || !work) {
        free(logits);
        free(work);
        ts_sample_free(out);
        return ts_set_error("out of host memory");
    }
    memcpy(out->tokens, prompt, (size_t)n_prompt * sizeof *prompt);
    out->n_prompt = out->n_tokens = n_prompt;
    out->stop = "max_len";
    double t0 = ts_now();
    int start = 0, cache_start = -1; /* window start; where the cache's window starts */
    ts_status st = TS_OK;
    for (int i = 0; i < o->max_len; i++) {
        int len = out->n_tokens, ws = window_start(o, ctx, start, len);
        out->rebuilds += ws != start;
        start = ws;
        if (!o->use_cache || cache_start != start) { /* (re)build from the window's start */
            ts_infer_reset(s);
            cache_start = start;
        }
        int have = start + ts_infer_len(s);
        st = ts_infer_feed(s, out->tokens + have, len - have, logits);
        if (st != TS_OK) break;
        double u = ts_sample_uniform(o->seed, index, (uint32_t)i);
        int tok = ts_sample_pick(logits, V, o->temperature, o->top_k, o->top_p, u, work);
        if (tok == TS_TOK_EOS && o->stop_at_eos) {
            out->stop = "eos";
            break;
        }
        out->tokens[out->n_tokens++] = tok;
        if (o->blank_lines > 0 && newline_id >= 0) { /* n blank lines = n + 1 newlines */
            int run = 0;
            for (int j = out->n_tokens - 1; j >= 0 && out->tokens[j] == newline_id; j--)
                run++;
            if (run > o->blank_lines) {
                out->stop = "blank_lines";
                break;
            }
        }
    }
    out->seconds = ts_now() - t0;
    free(logits);
    free(work);
    if (st != TS_OK) ts_sample_free(out);
    return st;
}

void ts_sample_free(ts_sample *s) {
    free(s->tokens);
    s->tokens = NULL;
}
