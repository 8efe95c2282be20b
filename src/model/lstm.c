/*
 * lstm.c — the notebook's LSTMLM, forward and backward through time.
 *
 *   x = emb[ids];  per layer k: PyTorch nn.LSTM cell (gates i, f, g, o; bias_ih + bias_hh),
 *   Drop between layers;  logits = output(Drop(h_last))
 *
 * Sequences are stored time-major, (T, B, H), so one time step is a contiguous (B, H) block
 * and the input projection of all steps is a single GEMM; model.c transposes ids and targets.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

typedef struct {
    ts_tensor x;   /* (T*B, H) layer input: embedding, or Drop(h of the layer below) */
    ts_tensor act; /* (T*B, 4H) activated gates */
    ts_tensor c;   /* (T*B, H) cell states */
    ts_tensor h;   /* (T*B, H) hidden states (layer output) */
} layer_acts;

typedef struct {
    ts_arena arena, grad_arena; /* activations; their gradients (split under the buffer cap) */
    layer_acts *layers;
    ts_tensor hd;               /* (T*B, H) Drop(h of the last layer): input of output */
    ts_tensor logits;           /* (T*B, V) */
    ts_tensor pre;              /* (T*B, 4H) scratch: gate pre-activations */
    ts_tensor dpre, dH, dX, dc; /* dc (B, H): the backward's cell-state gradient */
} lstm_acts;

/* Plans the two arenas the first time, points the views into their buffers afterwards. */
static void layout(lstm_acts *a, const ts_model_config *c, int B, int T, ts_arena *acts,
                   ts_arena *grads) {
    size_t N = (size_t)B * T, H = (size_t)c->d_model, V = (size_t)c->vocab_size;
    ts_carver k = {0, NULL, acts};
    for (int l = 0; l < c->n_layers; l++) {
        layer_acts *L = &a->layers[l];
        L->x = ts_carve(&k, N * H);
        L->act = ts_carve(&k, N * 4 * H);
        L->c = ts_carve(&k, N * H);
        L->h = ts_carve(&k, N * H);
    }
    a->hd = ts_carve(&k, N * H);
    a->logits = ts_carve(&k, N * V);
    a->pre = ts_carve(&k, N * 4 * H);
    ts_carver g = {0, NULL, grads};
    a->dpre = ts_carve(&g, N * 4 * H);
    a->dH = ts_carve(&g, N * H);
    a->dX = ts_carve(&g, N * H);
    a->dc = ts_carve(&g, (size_t)B * H);
}

int ts_lstm_act_plan(const ts_model_config *c, int B, int T, ts_arena *acts, ts_arena *grads) {
    lstm_acts a;
    a.layers = calloc((size_t)c->n_layers, sizeof *a.layers);
    if (a.layers) layout(&a, c, B, T, acts, grads);
    free(a.layers);
    return a.layers != NULL && !acts->no_memory && !grads->no_memory;
}

void ts_lstm_free_acts(ts_model *m) {
    lstm_acts *a = m->acts;
    if (!a) return;
    ts_arena_free(&a->arena, m->be);
    ts_arena_free(&a->grad_arena, m->be);
    free(a->layers);
    free(a);
    m->acts = NULL;
}

ts_status ts_lstm_reserve(ts_model *m, int B, int T) {
    const ts_model_config *c = &m->cfg;
    lstm_acts *a = calloc(1, sizeof *a);
    if (!a || !(a->layers = calloc((size_t)c->n_layers, sizeof *a->layers))) {
        free(a);
        return ts_set_error("out of host memory");
    }
    m->acts = a;
    ts_arena_init(&a->arena, m->be->max_buffer_bytes);
    ts_arena_init(&a->grad_arena, m->be->max_buffer_bytes);
    layout(a, c, B, T, &a->arena, &a->grad_arena);
    ts_status st;
    if ((st = ts_arena_alloc(&a->arena, m->be, TS_MEM_ACTIVATIONS)) != TS_OK ||
        (st = ts_arena_alloc(&a->grad_arena, m->be, TS_MEM_SCRATCH)) != TS_OK) {
        ts_lstm_free_acts(m);
        return st;
    }
    layout(a, c, B, T, &a->arena, &a->grad_arena);
    return TS_OK;
}

ts_tensor ts_lstm_logits(ts_model *m) {
    return ((lstm_acts *)m->acts)->logits;
}

/* Parameter indices (config.c): 0 embedding, then 4 per layer (w_ih, w_hh, b_ih, b_hh), then
 * output.weight, output.bias. */
void ts_lstm_forward(ts_model *m, uint64_t seed, uint32_t step) {
    ts_backend *be = m->be;
    const ts_backend_iface *op = be->iface;
    const ts_model_config *c = &m->cfg;
    lstm_acts *a = m->acts;
    int B = m->B, T = m->T, N = B * T, H = c->d_model, V = c->vocab_size, L = c->n_layers;
    float p = m->training ? c->dropout : 0.0f;
    ts_tensor ids = {m->ids, 0}, none = {NULL, 0}; /* none: a view the op does not read */

    op->embedding_forward(be, a->layers[0].x, ts_param_at(m, m->params, 0), ids, N, H, V, 0);
    for (int l = 0; l < L; l++) {
        layer_acts *A = &a->layers[l];
        ts_tensor w_ih = ts_param_at(m, m->params, 1 + 4 * (size_t)l);
        ts_tensor w_hh = ts_param_at(m, m->params, 2 + 4 * (size_t)l);
        ts_tensor b_ih = ts_param_at(m, m->params, 3 + 4 * (size_t)l);
        ts_tensor b_hh = ts_param_at(m, m->params, 4 + 4 * (size_t)l);
        if (l > 0) /* inter-layer dropout on the layer below's output */
            op->dropout_forward(
                be, A->x, a->layers[l - 1].h, (size_t)N * H, p,
                ts_model_drop_key(m, seed, step, TS_DROP_LAYER_BASE + 8 * (uint32_t)(l - 1), H));
        /* pre = x W_ih^T for every step at once; both biases join in the step */
        ts_linear_forward(be, a->pre, A->x, w_ih, none, N, H, 4 * H);
        /* all steps: pre_t + biases + h_{t-1} W_hh^T, the cell (one fused launch per step, or
         * one persistent launch for the layer: backends/lstm_variant.h) */
        op->lstm_sequence_forward(be, A->h, A->c, A->act, a->pre, none, none, w_hh, b_ih, b_hh, T,
                                  B, H, 0);
    }
    op->dropout_forward(be, a->hd, a->layers[L - 1].h, (size_t)N * H, p,
                        ts_model_drop_key(m, seed, step, TS_DROP_OUTPUT, H));
    size_t out = 1 + 4 * (size_t)L;
    ts_linear_forward(be, a->logits, a->hd, ts_param_at(m, m->params, out),
                      ts_param_at(m, m->params, out + 1), N, H, V);
}

void ts_lstm_backward(ts_model *m, uint64_t seed, uint32_t step) {
    ts_backend *be = m->be;
    const ts_backend_iface *op = be->iface;
    const ts_model_config *c = &m->cfg;
    lstm_acts *a = m->acts;
    int B = m->B, T = m->T, N = B * T, H = c->d_model, V = c->vocab_size, L = c->n_layers;
    size_t B4H = 4 * (size_t)B * H;
    float p = m->training ? c->dropout : 0.0f;
    ts_tensor ids = {m->ids, 0}, dlogits = {m->dlogits, 0}, none = {NULL, 0};
    size_t out = 1 + 4 * (size_t)L;

    ts_linear_backward(be, a->dH, ts_param_at(m, m->grads, out), ts_param_at(m, m->grads, out + 1),
                       dlogits, a->hd, ts_param_at(m, m->params, out), N, H, V, 0);
    op->dropout_backward(be, a->dH, a->dH, (size_t)N * H, p,
                         ts_model_drop_key(m, seed, step, TS_DROP_OUTPUT, H));
    for (int l = L - 1; l >= 0; l--) {
        layer_acts *A = &a->layers[l];
        ts_tensor w_ih = ts_param_at(m, m->params, 1 + 4 * (size_t)l);
        ts_tensor w_hh = ts_param_at(m, m->params, 2 + 4 * (size_t)l);
        ts_tensor dw_ih = ts_param_at(m, m->grads, 1 + 4 * (size_t)l);
        ts_tensor dw_hh = ts_param_at(m, m->grads, 2 + 4 * (size_t)l);
        ts_tensor db_ih = ts_param_at(m, m->grads, 3 + 4 * (size_t)l);
        ts_tensor db_hh = ts_param_at(m, m->grads, 4 + 4 * (size_t)l);
        /* all steps from the last: dh_t += dpre_{t+1} W_hh, then the cell backward */
        op->lstm_sequence_backward(be, a->dpre, a->dc, a->dH, w_hh, A->act, A->c, none, T, B, H, 0);
        /* dW_hh += sum_t dpre_t^T h_{t-1} (h_{-1} = 0 adds nothing) */
        if (T > 1)
            op->gemm(be, 1, 0, 4 * H, H, (T - 1) * B, 1.0f, ts_view(a->dpre, B4H), 4 * H, 0, A->h,
                     H, 0, 1.0f, dw_hh, H, 0, 1);
        ts_linear_backward(be, a->dX, dw_ih, db_ih, a->dpre, A->x, w_ih, N, H, 4 * H, 0);
        /* db_hh gets exactly what db_ih gets (both sum dpre over rows), every backward since
         * the gradients were last zeroed, so it equals db_ih: a copy instead of a second sum */
        op->copy(be, db_hh, db_ih, 4 * (size_t)H);
        if (l > 0)
            op->dropout_backward(
                be, a->dH, a->dX, (size_t)N * H, p,
                ts_model_drop_key(m, seed, step, TS_DROP_LAYER_BASE + 8 * (uint32_t)(l - 1), H));
    }
    op->embedding_backward(be, ts_param_at(m, m->grads, 0), a->dX, ids, N, H, V);
}
