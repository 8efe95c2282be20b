/*
 * lstm_infer.c — the LSTM forward for decoding: (h, c) of every layer carried from call to call.
 *
 * A call runs a chunk of up to CHUNK tokens exactly as ts_lstm_forward (lstm.c) runs a sequence,
 * with dropout off: the embedding and input projection of the whole chunk at once,
 * pre = x W_ih^T, then the recurrence of the chunk as one lstm_sequence_forward (per step:
 * + b_ih + b_hh + h_{t-1} W_hh^T, then the cell). The first step after a reset starts from h = c =
 * 0 and skips the W_hh product, as lstm.c does at t = 0; later chunks start from the carried state.
 */
#include <stdlib.h>

#include "model/infer.h"

enum { CHUNK = 64 };

struct ts_lstm_state {
    ts_buffer *buf, *ibuf;
    ts_tensor a, b;     /* (CHUNK, H) layer input and output, swapped per layer */
    ts_tensor cs;       /* (CHUNK, H) cell states of the chunk */
    ts_tensor pre, act; /* (CHUNK, 4H) each */
    ts_tensor *h, *c;   /* per layer (H): the carried state */
    ts_tensor logits;   /* (V) */
    ts_tensor ids;      /* int32 (CHUNK) */
};

void ts_lstm_state_free(ts_model *m, ts_lstm_state *s) {
    if (!s) return;
    ts_buffer_free(m->be, s->buf);
    ts_buffer_free(m->be, s->ibuf);
    free(s->h);
    free(s->c);
    free(s);
}

static size_t layout(ts_lstm_state *s, const ts_model_config *cf, ts_buffer *buf) {
    size_t H = (size_t)cf->d_model;
    ts_carver k = {0, buf, NULL};
    s->a = ts_carve(&k, CHUNK * H);
    s->b = ts_carve(&k, CHUNK * H);
    s->cs = ts_carve(&k, CHUNK * H);
    s->pre = ts_carve(&k, CHUNK * 4 * H);
    s->act = ts_carve(&k, CHUNK * 4 * H);
    for (int l = 0; l < cf->n_layers; l++) {
        s->h[l] = ts_carve(&k, H);
        s->c[l] = ts_carve(&k, H);
    }
    s->logits = ts_carve(&k, (size_t)cf->vocab_size);
    return k.off;
}

ts_status ts_lstm_state_create(ts_model *m, ts_lstm_state **out) {
    const ts_model_config *cf = &m->cfg;
    size_t L = (size_t)cf->n_layers;
    *out = NULL;
    ts_lstm_state *s = calloc(1, sizeof *s);
    if (!s || !(s->h = calloc(L, sizeof *s->h)) || !(s->c = calloc(L, sizeof *s->c))) {
        ts_lstm_state_free(m, s);
        return ts_set_error("out of host memory");
    }
    size_t floats = layout(s, cf, NULL);
    ts_status st = ts_buffer_alloc(m->be, floats * sizeof(float), &s->buf);
    if (st == TS_OK) st = ts_buffer_alloc(m->be, CHUNK * sizeof(int32_t), &s->ibuf);
    if (st != TS_OK) {
        ts_lstm_state_free(m, s);
        return st;
    }
    layout(s, cf, s->buf);
    s->ids = (ts_tensor){s->ibuf, 0};
    ts_lstm_state_reset(m, s);
    *out = s;
    return TS_OK;
}

void ts_lstm_state_reset(ts_model *m, ts_lstm_state *s) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        m->be->iface->fill(m->be, s->h[l], 0.0f, (size_t)m->cfg.d_model);
        m->be->iface->fill(m->be, s->c[l], 0.0f, (size_t)m->cfg.d_model);
    }
}

/* Runs ids[0..n), n <= CHUNK; first = no token before them since the reset. */
static ts_status run_chunk(ts_model *m, ts_lstm_state *s, int first, const int32_t *ids, int n,
                           float *logits) {
    ts_backend *be = m->be;
    const ts_backend_iface *op = be->iface;
    const ts_model_config *cf = &m->cfg;
    int H = cf->d_model, V = cf->vocab_size, L = cf->n_layers;
    ts_status st = op->upload(be, s->ids, ids, (size_t)n * sizeof *ids);
    if (st != TS_OK) return st;
    ts_tensor x = s->a, y = s->b;
    op->embedding_forward(be, x, ts_param_at(m, m->params, 0), s->ids, n, H, V, 0);
    for (int l = 0; l < L; l++) {
        ts_tensor w_ih = ts_param_at(m, m->params, 1 + 4 * (size_t)l);
        ts_tensor w_hh = ts_param_at(m, m->params, 2 + 4 * (size_t)l);
        ts_tensor b_ih = ts_param_at(m, m->params, 3 + 4 * (size_t)l);
        ts_tensor b_hh = ts_param_at(m, m->params, 4 + 4 * (size_t)l);
        ts_linear_forward(be, s->pre, x, w_ih, (ts_tensor){NULL, 0}, n, H, 4 * H);
        /* the training step's recurrence: one op for the chunk (per-step launches or the
         * persistent kernel), from the carried state unless this is the first chunk */
        op->lstm_sequence_forward(be, y, s->cs, s->act, s->pre, s->h[l], s->c[l], w_hh, b_ih, b_hh,
                                  n, 1, H, !first);
        op->copy(be, s->h[l], ts_view(y, (size_t)(n - 1) * H), (size_t)H);
        op->copy(be, s->c[l], ts_view(s->cs, (size_t)(n - 1) * H), (size_t)H);
        ts_tensor swap = x;
        x = y;
        y = swap;
    }
    if (!logits) return be->error;
    size_t out = 1 + 4 * (size_t)L;
    ts_linear_forward(be, s->logits, s->h[L - 1], ts_param_at(m, m->params, out),
                      ts_param_at(m, m->params, out + 1), 1, H, V);
    if ((st = ts_backend_sync(be)) != TS_OK) return st;
    return op->download(be, logits, s->logits, (size_t)V * sizeof *logits);
}

ts_status ts_lstm_state_feed(ts_model *m, ts_lstm_state *s, int first, const int32_t *ids, int n,
                             float *logits) {
    ts_status st = TS_OK;
    for (int i = 0; i < n && st == TS_OK; i += CHUNK) {
        int k = n - i < CHUNK ? n - i : CHUNK;
        st = run_chunk(m, s, first && i == 0, ids + i, k, i + k == n ? logits : NULL);
    }
    return st;
}
