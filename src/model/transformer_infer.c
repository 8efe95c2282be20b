/*
 * transformer_infer.c — the Transformer forward for decoding, with a key/value cache.
 *
 * The cache of layer l is the in_proj output itself: qkv rows (S, 3C) in PyTorch's packed order
 * [q | k | v], each (NH, HS). A new token's in_proj writes its row into the cache, and the
 * per-head products read keys and values straight from it with leading dimension 3C and a head
 * stride of HS, so there is no split, no merge and no copy:
 *
 *   prefill (empty cache, n tokens):  pre (NH, n, n) = Q K^T -> causal softmax -> y = att V
 *   step (1 token at position p, t = p + 1 keys):  pre (NH, 1, t) = q K^T / sqrt(HS) -> softmax
 *        over the row -> y = att V
 *
 * The row softmax of a step is the backend's cross-entropy forward with every target ignored:
 * it writes probs = softmax(row) for rows of any length, which is exactly what one query over t
 * keys needs and avoids a new op. Everything after attention (out_proj, LayerNorms, the MLP)
 * runs on the n new rows only; the final LayerNorm and output layer on the last row only.
 * It is ts_transformer_forward (transformer.c) with dropout off, restricted to new rows.
 */
#include <math.h>
#include <stdlib.h>

#include "model/infer.h"

struct ts_tf_cache {
    ts_buffer *buf, *ibuf;
    int S;                            /* positions the cache holds (max_seq_len) */
    ts_tensor *qkv;                   /* per layer (S, 3C): the cache */
    ts_tensor x, r, x1, y, ao;        /* (S, C) residual stream and scratch */
    ts_tensor h, g;                   /* (S, F) MLP */
    ts_tensor mean, rstd;             /* (S) LayerNorm statistics (not needed after) */
    ts_tensor pre, att;               /* (NH, S, S) attention scores and weights */
    ts_tensor losses;                 /* (NH) by-product of the row softmax */
    ts_tensor xf, lnf_mean, lnf_rstd; /* final LayerNorm of the last row */
    ts_tensor logits;                 /* (V) */
    ts_tensor ids, pos, ignore;       /* int32: new ids (S), positions 0..S-1, NH x -1 */
};

static size_t layout(ts_tf_cache *c, const ts_model_config *cf, ts_buffer *buf) {
    size_t S = (size_t)c->S, C = (size_t)cf->d_model, F = (size_t)cf->d_ff;
    size_t NH = (size_t)cf->n_heads;
    ts_carver k = {0, buf, NULL};
    for (int l = 0; l < cf->n_layers; l++)
        c->qkv[l] = ts_carve(&k, S * 3 * C);
    c->x = ts_carve(&k, S * C);
    c->r = ts_carve(&k, S * C);
    c->x1 = ts_carve(&k, S * C);
    c->y = ts_carve(&k, S * C);
    c->ao = ts_carve(&k, S * C);
    c->h = ts_carve(&k, S * F);
    c->g = ts_carve(&k, S * F);
    c->mean = ts_carve(&k, S);
    c->rstd = ts_carve(&k, S);
    c->pre = ts_carve(&k, NH * S * S);
    c->att = ts_carve(&k, NH * S * S);
    c->losses = ts_carve(&k, NH);
    c->xf = ts_carve(&k, C);
    c->lnf_mean = ts_carve(&k, 1);
    c->lnf_rstd = ts_carve(&k, 1);
    c->logits = ts_carve(&k, (size_t)cf->vocab_size);
    return k.off;
}

void ts_tf_cache_free(ts_model *m, ts_tf_cache *c) {
    if (!c) return;
    ts_buffer_free(m->be, c->buf);
    ts_buffer_free(m->be, c->ibuf);
    free(c->qkv);
    free(c);
}

ts_status ts_tf_cache_create(ts_model *m, ts_tf_cache **out) {
    const ts_model_config *cf = &m->cfg;
    *out = NULL;
    ts_tf_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->qkv = calloc((size_t)cf->n_layers, sizeof *c->qkv))) {
        free(c);
        return ts_set_error("out of host memory");
    }
    c->S = cf->max_seq_len;
    size_t floats = layout(c, cf, NULL), S = (size_t)c->S, NH = (size_t)cf->n_heads;
    int32_t *host = malloc((2 * S + NH) * sizeof *host);
    ts_status st = host ? TS_OK : ts_set_error("out of host memory");
    if (st == TS_OK) st = ts_buffer_alloc(m->be, floats * sizeof(float), &c->buf);
    if (st == TS_OK) st = ts_buffer_alloc(m->be, (2 * S + NH) * sizeof(int32_t), &c->ibuf);
    if (st == TS_OK) {
        layout(c, cf, c->buf);
        c->ids = (ts_tensor){c->ibuf, 0};
        c->pos = (ts_tensor){c->ibuf, S};
        c->ignore = (ts_tensor){c->ibuf, 2 * S};
        for (size_t i = 0; i < S; i++)
            host[S + i] = (int32_t)i;
        for (size_t i = 0; i < NH; i++)
            host[2 * S + i] = -1; /* the ignore index of the row softmax */
        st = m->be->iface->upload(m->be, c->pos, host + S, (S + NH) * sizeof *host);
    }
    free(host);
    if (st != TS_OK) {
        ts_tf_cache_free(m, c);
        return st;
    }
    *out = c;
    return TS_OK;
}

/* Runs n new tokens at positions p0 .. p0+n-1; either p0 == 0 (prefill) or n == 1 (step). */
ts_status ts_tf_cache_run(ts_model *m, ts_tf_cache *c, int p0, const int32_t *ids, int n,
                          float *logits) {
    ts_backend *be = m->be;
    const ts_backend_iface *op = be->iface;
    const ts_model_config *cf = &m->cfg;
    int C = cf->d_model, F = cf->d_ff, V = cf->vocab_size, NH = cf->n_heads, HS = C / NH;
    int C3 = 3 * C, t = p0 + n;
    float scale = 1.0f / sqrtf((float)HS);
    if (n < 1 || t > c->S || (p0 > 0 && n != 1))
        return ts_set_error("transformer cache: cannot run %d tokens at position %d (holds %d)", n,
                            p0, c->S);
    ts_status st = op->upload(be, c->ids, ids, (size_t)n * sizeof *ids);
    if (st != TS_OK) return st;

    op->embedding_forward(be, c->x, ts_param_at(m, m->params, 0), c->ids, n, C, V, 0);
    op->embedding_forward(be, c->x, ts_param_at(m, m->params, 1), ts_view(c->pos, (size_t)p0), n, C,
                          cf->max_seq_len, 1);
    for (int l = 0; l < cf->n_layers; l++) {
        const ts_param_spec *s = &m->specs[2 + 12 * l]; /* block l, state_dict order */
        ts_tensor w[12];
        for (int i = 0; i < 12; i++)
            w[i] = ts_param_view(m->params, &s[i]);
        /* in_w in_b out_w out_b ln1_w ln1_b ln2_w ln2_b ff0_w ff0_b ff3_w ff3_b */
        ts_tensor cache = c->qkv[l], keys = ts_view(cache, (size_t)C);
        ts_tensor vals = ts_view(cache, 2 * (size_t)C);
        ts_linear_forward(be, ts_view(cache, (size_t)p0 * C3), c->x, w[0], w[1], n, C, C3);
        if (p0 == 0) {
            /* pre_h (n x n) = Q_h K_h^T for every head h, then the causal softmax */
            op->gemm(be, 0, 1, n, n, HS, 1.0f, cache, C3, HS, keys, C3, HS, 0.0f, c->pre, n,
                     (long)n * n, NH);
            op->softmax_causal_forward(be, c->att, c->pre, NH, n, scale);
            op->gemm(be, 0, 0, n, HS, n, 1.0f, c->att, n, (long)n * n, vals, C3, HS, 0.0f, c->y, C,
                     HS, NH);
        } else {
            /* pre_h (1 x t) = q_h K_h^T / sqrt(HS); softmax over the row; y_h = att_h V_h */
            op->gemm(be, 0, 1, 1, t, HS, scale, ts_view(cache, (size_t)p0 * C3), C3, HS, keys, C3,
                     HS, 0.0f, c->pre, t, t, NH);
            op->crossentropy_forward(be, c->losses, c->att, c->pre, c->ignore, NH, t, -1);
            op->gemm(be, 0, 0, 1, HS, t, 1.0f, c->att, t, t, vals, C3, HS, 0.0f, c->y, C, HS, NH);
        }
        size_t nc = (size_t)n * C;
        ts_linear_forward(be, c->ao, c->y, w[2], w[3], n, C, C);
        op->add(be, c->r, c->x, c->ao, nc);
        op->layernorm_forward(be, c->x1, c->mean, c->rstd, c->r, w[4], w[5], n, C, 1e-5f);
        ts_linear_forward(be, c->h, c->x1, w[8], w[9], n, C, F);
        op->gelu_forward(be, c->g, c->h, (size_t)n * F);
        ts_linear_forward(be, c->ao, c->g, w[10], w[11], n, F, C);
        op->add(be, c->r, c->x1, c->ao, nc);
        op->layernorm_forward(be, c->x, c->mean, c->rstd, c->r, w[6], w[7], n, C, 1e-5f);
    }
    if (!logits) return be->error;
    size_t last = 2 + 12 * (size_t)cf->n_layers; /* norm.weight, norm.bias, output.* */
    op->layernorm_forward(be, c->xf, c->lnf_mean, c->lnf_rstd, ts_view(c->x, (size_t)(n - 1) * C),
                          ts_param_at(m, m->params, last), ts_param_at(m, m->params, last + 1), 1,
                          C, 1e-5f);
    ts_linear_forward(be, c->logits, c->xf, ts_param_at(m, m->params, last + 2),
                      ts_param_at(m, m->params, last + 3), 1, C, V);
    if ((st = ts_backend_sync(be)) != TS_OK) return st;
    return op->download(be, logits, c->logits, (size_t)V * sizeof *logits);
}
