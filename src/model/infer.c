/* infer.c — the family-independent face of incremental decoding (see infer.h). */
#include "model/infer.h"

#include <stdlib.h>

struct ts_infer {
    ts_model *m;
    int len; /* tokens fed since the reset */
    ts_tf_cache *tf;
    ts_lstm_state *lstm;
};

ts_status ts_infer_create(ts_model *m, ts_infer **out) {
    *out = NULL;
    ts_infer *s = calloc(1, sizeof *s);
    if (!s) return ts_set_error("out of host memory");
    s->m = m;
    ts_status st = m->cfg.family == TS_LSTM ? ts_lstm_state_create(m, &s->lstm)
                                            : ts_tf_cache_create(m, &s->tf);
    if (st != TS_OK) {
        free(s);
        return st;
    }
    *out = s;
    return TS_OK;
}

void ts_infer_free(ts_infer *s) {
    if (!s) return;
    ts_tf_cache_free(s->m, s->tf);
    ts_lstm_state_free(s->m, s->lstm);
    free(s);
}

void ts_infer_reset(ts_infer *s) {
    if (s->lstm && s->len) ts_lstm_state_reset(s->m, s->lstm);
    s->len = 0; /* a Transformer cache is simply overwritten from position 0 */
}

int ts_infer_len(const ts_infer *s) {
    return s->len;
}

int ts_infer_capacity(const ts_infer *s) {
    return s->tf ? s->m->cfg.max_seq_len : INT32_MAX;
}

int ts_infer_vocab(const ts_infer *s) {
    return s->m->cfg.vocab_size;
}

ts_status ts_infer_feed(ts_infer *s, const int32_t *ids, int n, float *logits) {
    if (n < 1) return ts_set_error("ts_infer_feed: no tokens");
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= s->m->cfg.vocab_size)
            return ts_set_error("token id %d is outside the model's vocabulary (%d)", ids[i],
                                s->m->cfg.vocab_size);
    if (n > ts_infer_capacity(s) - s->len)
        return ts_set_error("context of %d tokens exceeds the model's %d positions", s->len + n,
                            ts_infer_capacity(s));
    ts_status st;
    if (s->lstm) {
        st = ts_lstm_state_feed(s->m, s->lstm, s->len == 0, ids, n, logits);
        if (st == TS_OK) s->len += n;
        return st;
    }
    if (s->len == 0) { /* prefill: one causal pass over the chunk */
        st = ts_tf_cache_run(s->m, s->tf, 0, ids, n, logits);
        if (st == TS_OK) s->len = n;
        return st;
    }
    st = TS_OK;
    for (int i = 0; i < n && st == TS_OK; i++) {
        st = ts_tf_cache_run(s->m, s->tf, s->len, ids + i, 1, i == n - 1 ? logits : NULL);
        if (st == TS_OK) s->len++;
    }
    return st;
}
