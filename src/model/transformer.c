/*
 * transformer.c — the notebook's TransformerLM, forward and backward, layer by layer.
 *
 *   x = Drop(tok[ids] + pos[t])
 *   per block (post-LN, PyTorch nn.MultiheadAttention with packed in_proj, causal mask):
 *     x = LN1(x + out_proj(Attn(in_proj(x))))     Attn: softmax(q k^T / sqrt(HS)) -> Drop -> @ v
 *     x = LN2(x + Drop(W2 Drop(GELU(W1 x))))
 *   logits = output(LN(x))
 *
 * Shapes: N = B*T rows of C channels; heads NH of size HS = C/NH; attention maps (B*NH, T, T).
 * Every activation the backward needs is kept (in as few buffers as the per-buffer cap allows,
 * arena.h); transient ones share scratch.
 *
 * Memory: attention runs fused (attention_forward/backward) whenever HS allows it, so no layer
 * keeps its (B*NH, T, T) maps, only their log-sum-exp; the unfused path (gemm, softmax, dropout,
 * gemm) remains for larger heads. The feed-forward's Drop(GELU(h)) is not kept either: the
 * backward recomputes it from h and the dropout key (one GELU and one mask per layer, far
 * cheaper than holding an (N, d_ff) tensor per layer).
 *
 * Launches: the small ops around the GEMMs run fused (ops.def's fused section), each one
 * kernel on the GPU APIs: the biases of in_proj, out_proj and ff.3 ride along with the qkv
 * split and the residual+LayerNorm, their gradients with the split's backward and the GELU's;
 * LayerNorm's backward takes its parameter sums and the dropout before it in the same pass.
 * ff.0's bias, GELU and dropout, and the output layer's bias, are the epilogue of their product
 * (linear_bias_forward: inside the GEMM's launch where the tiled kernel runs it). h keeps ff.0's
 * output with its bias.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

typedef struct {
    ts_tensor q, k, v;            /* (B, NH, T, HS) */
    ts_tensor att;                /* unfused: (B*NH, T, T) softmax output */
    ts_tensor attd;               /* unfused: dropout(att) */
    ts_tensor lse;                /* fused: (B*NH*T) log-sum-exp of each attention row */
    ts_tensor y;                  /* (N, C) heads merged: input of out_proj */
    ts_tensor r1;                 /* (N, C) x + attention: input of LN1 */
    ts_tensor ln1_mean, ln1_rstd; /* (N) */
    ts_tensor x1;                 /* (N, C) LN1 output */
    ts_tensor h;                  /* (N, d_ff) ff.0 output: input of GELU */
    ts_tensor r2;                 /* (N, C) x1 + ff: input of LN2 */
    ts_tensor ln2_mean, ln2_rstd;
    ts_tensor out; /* (N, C) LN2 output: input of the next block */
} block_acts;

typedef struct {
    int fused; /* attention through attention_forward/backward (HS <= TS_ATTENTION_MAX_HS) */
    ts_arena arena, grad_arena; /* activations; their gradients (split under the buffer cap) */
    ts_buffer *pos_ids;         /* int32 (B*T): t for each row */
    int pos_B, pos_T;           /* shape pos_ids was written for */
    ts_tensor encoded;          /* (N, C) token + position embedding */
    ts_tensor x0;               /* (N, C) Drop(encoded) */
    block_acts *blocks;
    ts_tensor xf, lnf_mean, lnf_rstd; /* final LayerNorm */
    ts_tensor logits;                 /* (N, V) */
    /* scratch, shared by all blocks: (N,3C) (BH,T,T) unfused (N,C) (N,dff) (N,C) */
    ts_tensor qkv, pre, ao, g, f;
    /* gradients of activations, shared by all blocks; datt, dpre (BH,T,T) unfused only, delta
     * (BH*T) fused only */
    ts_tensor dx, dr, dtmp, dqkv, dq, dk, dv, dyh, datt, dpre, delta, dh, dg, dxf;
} tf_acts;

/* Lays out the activations in two arenas: planning them the first time, pointing the views into
 * their buffers once they are allocated (arena.h). */
static void layout(tf_acts *a, const ts_model_config *c, int B, int T, ts_arena *acts,
                   ts_arena *grads) {
    size_t N = (size_t)B * T, C = (size_t)c->d_model, F = (size_t)c->d_ff, V = c->vocab_size;
    size_t NH = (size_t)c->n_heads, att = (size_t)B * NH * T * T;
    a->fused = c->d_model / c->n_heads <= TS_ATTENTION_MAX_HS;
    if (a->fused) att = 0; /* no (T, T) map exists anywhere */
    ts_carver k = {0, NULL, acts};
    a->encoded = ts_carve(&k, N * C);
    a->x0 = ts_carve(&k, N * C);
    for (int l = 0; l < c->n_layers; l++) {
        block_acts *b = &a->blocks[l];
        b->q = ts_carve(&k, N * C);
        b->k = ts_carve(&k, N * C);
        b->v = ts_carve(&k, N * C);
        b->att = ts_carve(&k, att);
        b->attd = c->dropout > 0 && att ? ts_carve(&k, att) : b->att; /* no dropout: same map */
        b->lse = ts_carve(&k, a->fused ? (size_t)B * NH * T : 0);
        b->y = ts_carve(&k, N * C);
        b->r1 = ts_carve(&k, N * C);
        b->ln1_mean = ts_carve(&k, N);
        b->ln1_rstd = ts_carve(&k, N);
        b->x1 = ts_carve(&k, N * C);
        b->h = ts_carve(&k, N * F);
        b->r2 = ts_carve(&k, N * C);
        b->ln2_mean = ts_carve(&k, N);
        b->ln2_rstd = ts_carve(&k, N);
        b->out = ts_carve(&k, N * C);
    }
    a->xf = ts_carve(&k, N * C);
    a->lnf_mean = ts_carve(&k, N);
    a->lnf_rstd = ts_carve(&k, N);
    a->logits = ts_carve(&k, N * V);
    a->qkv = ts_carve(&k, N * 3 * C);
    a->pre = ts_carve(&k, att);
    a->ao = ts_carve(&k, N * C);
    a->g = ts_carve(&k, N * F);
    a->f = ts_carve(&k, N * C);
    ts_carver g = {0, NULL, grads};
    a->dx = ts_carve(&g, N * C);
    a->dr = ts_carve(&g, N * C);
    a->dtmp = ts_carve(&g, N * C);
    a->dqkv = ts_carve(&g, N * 3 * C);
    a->dq = ts_carve(&g, N * C);
    a->dk = ts_carve(&g, N * C);
    a->dv = ts_carve(&g, N * C);
    a->dyh = ts_carve(&g, N * C);
    a->datt = ts_carve(&g, att);
    a->dpre = ts_carve(&g, att);
    a->delta = ts_carve(&g, a->fused ? (size_t)B * NH * T : 0);
    a->dh = ts_carve(&g, N * F);
    a->dg = ts_carve(&g, N * F);
    a->dxf = ts_carve(&g, N * C);
}

int ts_transformer_act_plan(const ts_model_config *c, int B, int T, ts_arena *acts,
                            ts_arena *grads) {
    tf_acts a;
    a.blocks = calloc((size_t)c->n_layers, sizeof *a.blocks);
    if (a.blocks) layout(&a, c, B, T, acts, grads);
    free(a.blocks);
    return a.blocks != NULL && !acts->no_memory && !grads->no_memory;
}

void ts_transformer_free_acts(ts_model *m) {
    tf_acts *a = m->acts;
    if (!a) return;
    ts_arena_free(&a->arena, m->be);
    ts_arena_free(&a->grad_arena, m->be);
    ts_buffer_free(m->be, a->pos_ids);
    free(a->blocks);
    free(a);
    m->acts = NULL;
}

ts_status ts_transformer_reserve(ts_model *m, int B, int T) {
    const ts_model_config *c = &m->cfg;
    if (T > c->max_seq_len)
        return ts_set_error_status(TS_EUSAGE, "sequence length %d exceeds %s's max_seq_len %d", T,
                                   c->name, c->max_seq_len);
    tf_acts *a = calloc(1, sizeof *a);
    if (!a || !(a->blocks = calloc((size_t)c->n_layers, sizeof *a->blocks))) {
        free(a);
        return ts_set_error("out of host memory");
    }
    m->acts = a;
    ts_arena_init(&a->arena, m->be->max_buffer_bytes);
    ts_arena_init(&a->grad_arena, m->be->max_buffer_bytes);
    layout(a, c, B, T, &a->arena, &a->grad_arena);
    ts_status st;
    if ((st = ts_arena_alloc(&a->arena, m->be, TS_MEM_ACTIVATIONS)) != TS_OK ||
        (st = ts_arena_alloc(&a->grad_arena, m->be, TS_MEM_SCRATCH)) != TS_OK ||
        (st = ts_buffer_alloc(m->be, (size_t)B * T * sizeof(int32_t), &a->pos_ids)) != TS_OK) {
        ts_transformer_free_acts(m);
        return st;
    }
    layout(a, c, B, T, &a->arena, &a->grad_arena);
    return TS_OK;
}

ts_tensor ts_transformer_logits(ts_model *m) {
    return ((tf_acts *)m->acts)->logits;
}

/* Parameter views of block l, in state_dict order (see config.c). */
typedef struct {
    ts_tensor in_w, in_b, out_w, out_b, ln1_w, ln1_b, ln2_w, ln2_b, ff0_w, ff0_b, ff3_w, ff3_b;
} block_params;

static block_params block_view(const ts_model *m, ts_buffer *flat, int l) {
    const ts_param_spec *s = &m->specs[2 + 12 * l]; /* after token and position embeddings */
    block_params p;
    ts_tensor *v = &p.in_w;
    for (int i = 0; i < 12; i++)
        v[i] = ts_param_view(flat, &s[i]);
    return p;
}

static void ensure_positions(ts_model *m, tf_acts *a) {
    if (a->pos_B == m->B && a->pos_T == m->T) return;
    int32_t *pos = malloc((size_t)m->B * m->T * sizeof *pos);
    if (!pos) {
        m->be->error = ts_set_error("out of host memory");
        return;
    }
    for (int b = 0; b < m->B; b++)
        for (int t = 0; t < m->T; t++)
            pos[b * m->T + t] = t;
    ts_tensor dst = {a->pos_ids, 0};
    ts_status st = m->be->iface->upload(m->be, dst, pos, (size_t)m->B * m->T * sizeof *pos);
    if (st != TS_OK) m->be->error = st;
    free(pos);
    a->pos_B = m->B;
    a->pos_T = m->T;
}

/* The dropout key of g = Drop(GELU(h)), the input of ff.3. */
static ts_dropout_key ff_key(const ts_model *m, uint64_t seed, uint32_t step, uint32_t site) {
    return ts_model_drop_key(m, seed, step, site + 1, (size_t)m->T * m->cfg.d_ff);
}

void ts_transformer_forward(ts_model *m, uint64_t seed, uint32_t step) {
    ts_backend *be = m->be;
    const ts_backend_iface *op = be->iface;
    const ts_model_config *c = &m->cfg;
    tf_acts *a = m->acts;
    int B = m->B, T = m->T, N = B * T, C = c->d_model, F = c->d_ff, V = c->vocab_size;
    int NH = c->n_heads, HS = C / NH, BH = B * NH;
    float p = m->training ? c->dropout : 0.0f;
    ensure_positions(m, a);
    ts_tensor ids = {m->ids, 0}, pos = {a->pos_ids, 0};

    op->embedding_forward(be, a->encoded, ts_param_at(m, m->params, 0), ids, N, C, V, 0);
    op->embedding_forward(be, a->encoded, ts_param_at(m, m->params, 1), pos, N, C, c->max_seq_len,
                          1);
    op->dropout_forward(be, a->x0, a->encoded, (size_t)N * C, p,
                        ts_model_drop_key(m, seed, step, TS_DROP_EMBED, (size_t)T * C));

    const ts_tensor no_bias = {0};
    const ts_dropout_key no_drop = {0}; /* for p == 0 */
    ts_tensor x = a->x0;
    for (int l = 0; l < c->n_layers; l++) {
        block_acts *b = &a->blocks[l];
        block_params w = block_view(m, m->params, l);
        uint32_t site = TS_DROP_LAYER_BASE + 8 * (uint32_t)l;
        /* attention */
        ts_linear_forward(be, a->qkv, x, w.in_w, no_bias, N, C, 3 * C);
        op->bias_qkv_split_forward(be, b->q, b->k, b->v, a->qkv, w.in_b, B, T, NH, HS);
        ts_dropout_key att_key = ts_model_drop_key(m, seed, step, site, (size_t)NH * T * T);
        float scale = 1.0f / sqrtf((float)HS);
        if (a->fused) {
            /* yh (B, NH, T, HS) into the ao scratch */
            op->attention_forward(be, a->ao, b->lse, b->q, b->k, b->v, BH, T, HS, scale, p,
                                  att_key);
        } else {
            /* pre (T x T) = q (T x HS) k^T, per (batch, head) */
            op->gemm(be, 0, 1, T, T, HS, 1.0f, b->q, HS, (long)T * HS, b->k, HS, (long)T * HS, 0.0f,
                     a->pre, T, (long)T * T, BH);
            op->softmax_causal_forward(be, b->att, a->pre, BH, T, scale);
            if (b->attd.buf != b->att.buf || b->attd.off != b->att.off)
                op->dropout_forward(be, b->attd, b->att, (size_t)BH * T * T, p, att_key);
            /* yh (T x HS) = attd (T x T) v, into the ao scratch */
            op->gemm(be, 0, 0, T, HS, T, 1.0f, b->attd, T, (long)T * T, b->v, HS, (long)T * HS,
                     0.0f, a->ao, HS, (long)T * HS, BH);
        }
        op->heads_merge_forward(be, b->y, a->ao, B, T, NH, HS);
        /* the biases of out_proj, ff.0 and ff.3 are added by the fused ops that follow */
        ts_linear_forward(be, a->ao, b->y, w.out_w, no_bias, N, C, C);
        /* r1 = x + (ao + out_b), x1 = LN1(r1) */
        op->residual_layernorm_forward(be, b->r1, b->x1, b->ln1_mean, b->ln1_rstd, x, a->ao,
                                       w.out_b, w.ln1_w, w.ln1_b, N, C, 1e-5f, 0.0f, no_drop);
        /* feed-forward */
        /* h = x1 W0^T + ff0_b (kept), g = Drop(GELU(h)): one launch where the tiled GEMM runs */
        op->linear_bias_forward(be, b->h, a->g, b->x1, w.ff0_w, w.ff0_b, N, C, F, 1, p,
                                ff_key(m, seed, step, site));
        ts_linear_forward(be, a->f, a->g, w.ff3_w, no_bias, N, F, C);
        /* r2 = x1 + Drop(f + ff3_b), out = LN2(r2) */
        op->residual_layernorm_forward(be, b->r2, b->out, b->ln2_mean, b->ln2_rstd, b->x1, a->f,
                                       w.ff3_b, w.ln2_w, w.ln2_b, N, C, 1e-5f, p,
                                       ts_model_drop_key(m, seed, step, site + 2, (size_t)T * C));
        x = b->out;
    }
    size_t last = 2 + 12 * (size_t)c->n_layers; /* norm.weight, norm.bias, output.weight, .bias */
    op->layernorm_forward(be, a->xf, a->lnf_mean, a->lnf_rstd, x, ts_param_at(m, m->params, last),
                          ts_param_at(m, m->params, last + 1), N, C, 1e-5f);
    ts_linear_forward(be, a->logits, a->xf, ts_param_at(m, m->params, last + 2),
                      ts_param_at(m, m->params, last + 3), N, C, V);
}

void ts_transformer_backward(ts_model *m, uint64_t seed, uint32_t step) {
    ts_backend *be = m->be;
    const ts_backend_iface *op = be->iface;
    const ts_model_config *c = &m->cfg;
    tf_acts *a = m->acts;
    int B = m->B, T = m->T, N = B * T, C = c->d_model, F = c->d_ff, V = c->vocab_size;
    int NH = c->n_heads, HS = C / NH, BH = B * NH;
    float p = m->training ? c->dropout : 0.0f;
    size_t NC = (size_t)N * C;
    ts_tensor dlogits = {m->dlogits, 0}, ids = {m->ids, 0}, pos = {a->pos_ids, 0};
    size_t last = 2 + 12 * (size_t)c->n_layers;

    ts_tensor x_top = c->n_layers ? a->blocks[c->n_layers - 1].out : a->x0;
    ts_linear_backward(be, a->dxf, ts_param_at(m, m->grads, last + 2),
                       ts_param_at(m, m->grads, last + 3), dlogits, a->xf,
                       ts_param_at(m, m->params, last + 2), N, C, V, 0);
    const ts_tensor no_bias = {0};
    const ts_dropout_key no_drop = {0}; /* for p == 0 */
    op->layernorm_backward_dropout(be, a->dx, a->dx, ts_param_at(m, m->grads, last),
                                   ts_param_at(m, m->grads, last + 1), a->dxf, x_top,
                                   ts_param_at(m, m->params, last), a->lnf_mean, a->lnf_rstd, N, C,
                                   0.0f, no_drop);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        block_acts *b = &a->blocks[l];
        block_params w = block_view(m, m->params, l);
        block_params dw = block_view(m, m->grads, l);
        uint32_t site = TS_DROP_LAYER_BASE + 8 * (uint32_t)l;
        ts_tensor x_in = l ? a->blocks[l - 1].out : a->x0;
        /* out = LN2(r2), r2 = x1 + Drop(ff3(gd)) */
        /* dr = LN2'(dx), dtmp = Drop(dr) */
        op->layernorm_backward_dropout(be, a->dr, a->dtmp, dw.ln2_w, dw.ln2_b, a->dx, b->r2,
                                       w.ln2_w, b->ln2_mean, b->ln2_rstd, N, C, p,
                                       ts_model_drop_key(m, seed, step, site + 2, (size_t)T * C));
        /* g recomputed from h, not kept */
        op->bias_gelu_dropout_forward(be, a->g, b->h, w.ff0_b, N, F, 0, p,
                                      ff_key(m, seed, step, site));
        ts_linear_backward(be, a->dg, dw.ff3_w, dw.ff3_b, a->dtmp, a->g, w.ff3_w, N, F, C, 0);
        /* dh = GELU'(h) Drop(dg), and ff.0's bias gradient in the same pass */
        op->gelu_dropout_backward_bias(be, a->dh, dw.ff0_b, a->dg, b->h, N, F, p,
                                       ts_model_drop_key(m, seed, step, site + 1, (size_t)T * F));
        /* dx1 = dr (residual) + dh W1 */
        ts_linear_backward(be, a->dr, dw.ff0_w, no_bias, a->dh, b->x1, w.ff0_w, N, C, F, 1);
        /* x1 = LN1(r1), r1 = x_in + out_proj(y) */
        op->layernorm_backward_dropout(be, a->dx, a->dx, dw.ln1_w, dw.ln1_b, a->dr, b->r1, w.ln1_w,
                                       b->ln1_mean, b->ln1_rstd, N, C, 0.0f, no_drop);
        ts_linear_backward(be, a->dtmp, dw.out_w, dw.out_b, a->dx, b->y, w.out_w, N, C, C, 0);
        op->heads_merge_backward(be, a->dyh, a->dtmp, B, T, NH, HS);
        ts_dropout_key att_key = ts_model_drop_key(m, seed, step, site, (size_t)NH * T * T);
        float scale = 1.0f / sqrtf((float)HS);
        if (a->fused) {
            /* the forward's yh, back in head layout from y (a permutation) */
            op->heads_merge_backward(be, a->ao, b->y, B, T, NH, HS);
            op->attention_backward(be, a->dq, a->dk, a->dv, a->delta, a->dyh, a->ao, b->q, b->k,
                                   b->v, b->lse, BH, T, HS, scale, p, att_key);
        } else {
            /* yh = attd v:  dattd = dyh v^T,  dv = attd^T dyh */
            op->gemm(be, 0, 1, T, T, HS, 1.0f, a->dyh, HS, (long)T * HS, b->v, HS, (long)T * HS,
                     0.0f, a->datt, T, (long)T * T, BH);
            op->gemm(be, 1, 0, T, HS, T, 1.0f, b->attd, T, (long)T * T, a->dyh, HS, (long)T * HS,
                     0.0f, a->dv, HS, (long)T * HS, BH);
            if (b->attd.buf != b->att.buf || b->attd.off != b->att.off)
                op->dropout_backward(be, a->datt, a->datt, (size_t)BH * T * T, p, att_key);
            op->softmax_causal_backward(be, a->dpre, a->datt, b->att, BH, T, scale);
            /* pre = q k^T:  dq = dpre k,  dk = dpre^T q */
            op->gemm(be, 0, 0, T, HS, T, 1.0f, a->dpre, T, (long)T * T, b->k, HS, (long)T * HS,
                     0.0f, a->dq, HS, (long)T * HS, BH);
            op->gemm(be, 1, 0, T, HS, T, 1.0f, a->dpre, T, (long)T * T, b->q, HS, (long)T * HS,
                     0.0f, a->dk, HS, (long)T * HS, BH);
        }
        /* dqkv, and in_proj's bias gradient in the same pass */
        op->qkv_split_backward_bias(be, a->dqkv, dw.in_b, a->dq, a->dk, a->dv, B, T, NH, HS);
        /* dx_in = dr1 (residual, in dx) + dqkv W_in */
        ts_linear_backward(be, a->dx, dw.in_w, no_bias, a->dqkv, x_in, w.in_w, N, C, 3 * C, 1);
    }
    op->dropout_backward(be, a->dx, a->dx, NC, p,
                         ts_model_drop_key(m, seed, step, TS_DROP_EMBED, (size_t)T * C));
    op->embedding_backward(be, ts_param_at(m, m->grads, 0), a->dx, ids, N, C, V);
    op->embedding_backward(be, ts_param_at(m, m->grads, 1), a->dx, pos, N, C, c->max_seq_len);
}
