/* model.c — model lifetime, initialisation, the loss head, and the optimizer step. */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/philox.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { INIT_STREAM_BASE = 0x10000u }; /* Philox stream of parameter p: base + p */

static int is_lstm(const ts_model *m) {
    return m->cfg.family == TS_LSTM;
}

ts_status ts_model_create(const ts_model_config *cfg, ts_backend *be, ts_model **out) {
    *out = NULL;
    if (ts_model_config_validate(cfg) != TS_OK) return TS_EUSAGE;
    ts_model *m = calloc(1, sizeof *m);
    if (!m) return ts_set_error("out of host memory");
    m->cfg = *cfg;
    m->be = be;
    m->n_specs = ts_param_specs(cfg, NULL, 0);
    m->specs = calloc(m->n_specs, sizeof *m->specs);
    if (!m->specs) {
        free(m);
        return ts_set_error("out of host memory");
    }
    ts_param_specs(cfg, m->specs, m->n_specs);
    m->n_params = m->specs[m->n_specs - 1].offset + m->specs[m->n_specs - 1].numel;
    size_t bytes = m->n_params * sizeof(float);
    ts_status st;
    if ((st = ts_buffer_alloc_as(be, bytes, TS_MEM_PARAMS, &m->params)) != TS_OK ||
        (st = ts_buffer_alloc_as(be, bytes, TS_MEM_PARAMS, &m->grads)) != TS_OK ||
        (st = ts_buffer_alloc(be, 16 * sizeof(float), &m->scalars)) != TS_OK) {
        ts_model_free(m);
        return st;
    }
    m->grads_zero = 1; /* buffers are allocated zeroed */
    *out = m;
    return TS_OK;
}

static void free_acts(ts_model *m) {
    if (is_lstm(m))
        ts_lstm_free_acts(m);
    else
        ts_transformer_free_acts(m);
    ts_buffer_free(m->be, m->ids);
    ts_buffer_free(m->be, m->targets);
    ts_buffer_free(m->be, m->losses);
    ts_buffer_free(m->be, m->probs);
    ts_buffer_free(m->be, m->dlogits);
    m->ids = m->targets = m->losses = m->probs = m->dlogits = NULL;
    m->B_max = m->T_max = 0;
}

void ts_model_free(ts_model *m) {
    if (!m) return;
    free_acts(m);
    ts_buffer_free(m->be, m->params);
    ts_buffer_free(m->be, m->grads);
    ts_buffer_free(m->be, m->m);
    ts_buffer_free(m->be, m->v);
    ts_buffer_free(m->be, m->scalars);
    free(m->specs);
    free(m);
}

const ts_param_spec *ts_model_find_param(const ts_model *m, const char *name) {
    for (size_t i = 0; i < m->n_specs; i++)
        if (!strcmp(m->specs[i].name, name)) return &m->specs[i];
    return NULL;
}

/* ---- initialisation ------------------------------------------------------------------------ */

/* Uniform in (0, 1): 32 random bits, centred so that 0 never occurs (log below). */
static double unit_open(ts_rng *r) {
    return ((double)ts_rng_u32(r) + 0.5) / 4294967296.0;
}

static void init_tensor(const ts_param_spec *s, float *w, ts_rng *r) {
    switch (s->init) {
    case TS_INIT_ZEROS:
        memset(w, 0, s->numel * sizeof *w);
        break;
    case TS_INIT_ONES:
        for (size_t i = 0; i < s->numel; i++)
            w[i] = 1.0f;
        break;
    case TS_INIT_NORMAL: /* Box-Muller, two normals per pair of uniforms */
        for (size_t i = 0; i < s->numel; i += 2) {
            double rad = sqrt(-2.0 * log(unit_open(r))), ang = 2.0 * M_PI * unit_open(r);
            w[i] = (float)(0.02 * rad * cos(ang));
            if (i + 1 < s->numel) w[i + 1] = (float)(0.02 * rad * sin(ang));
        }
        break;
    case TS_INIT_XAVIER:
    case TS_INIT_LSTM:
        for (size_t i = 0; i < s->numel; i++)
            w[i] = (float)((2.0 * unit_open(r) - 1.0) * s->init_arg);
        break;
    }
}

ts_status ts_model_init_params(ts_model *m, uint64_t seed) {
    float *w = malloc(m->n_params * sizeof *w);
    if (!w) return ts_set_error("out of host memory");
    for (size_t p = 0; p < m->n_specs; p++) {
        ts_rng r;
        ts_rng_init(&r, seed, INIT_STREAM_BASE + (uint32_t)p);
        init_tensor(&m->specs[p], w + m->specs[p].offset, &r);
    }
    ts_status st = ts_model_set_params(m, w);
    free(w);
    return st;
}

/* ---- activations --------------------------------------------------------------------------- */

/* The family's activation arenas (kept activations, their gradients) for batch B x T. */
static int act_plan(const ts_model_config *cfg, int B, int T, ts_arena *acts, ts_arena *grads) {
    return cfg->family == TS_LSTM ? ts_lstm_act_plan(cfg, B, T, acts, grads)
                                  : ts_transformer_act_plan(cfg, B, T, acts, grads);
}

size_t ts_model_activation_bytes(const ts_model_config *cfg, int B, int T) {
    size_t N = (size_t)B * T, V = (size_t)cfg->vocab_size;
    size_t head = 2 * N + N + 2 * N * V; /* ids, targets, losses, probs, dlogits */
    ts_arena acts, grads;                /* no cap: the total is the same however it is split */
    ts_arena_init(&acts, 0);
    ts_arena_init(&grads, 0);
    size_t fam =
        act_plan(cfg, B, T, &acts, &grads) ? ts_arena_floats(&acts) + ts_arena_floats(&grads) : 0;
    ts_arena_free(&acts, NULL);
    ts_arena_free(&grads, NULL);
    /* the Transformer's position ids (B·T int32), plus B·T of margin this estimate has always had
     */
    if (cfg->family != TS_LSTM) fam += 2 * N;
    return (head + fam) * sizeof(float);
}

size_t ts_model_activation_buffers(const ts_model_config *cfg, int B, int T, size_t cap_bytes,
                                   size_t *largest_bytes) {
    ts_arena acts, grads;
    ts_arena_init(&acts, cap_bytes ? cap_bytes : TS_MAX_BUFFER_ELEMENTS * 4);
    ts_arena_init(&grads, acts.cap * 4);
    int ok = act_plan(cfg, B, T, &acts, &grads);
    size_t n = 0, largest = 0;
    if (ok && !acts.too_big && !grads.too_big) {
        const ts_arena *both[2] = {&acts, &grads};
        for (int i = 0; i < 2; i++)
            for (size_t c = 0; c < both[i]->n_chunks; c++)
                if (both[i]->chunks[c].floats * 4 > largest)
                    largest = both[i]->chunks[c].floats * 4;
        n = ts_arena_buffers(&acts) + ts_arena_buffers(&grads);
    }
    ts_arena_free(&acts, NULL);
    ts_arena_free(&grads, NULL);
    if (largest_bytes) *largest_bytes = largest;
    return n;
}

ts_status ts_model_reserve(ts_model *m, int B, int T) {
    if (B <= m->B_max && T == m->T_max) return TS_OK;
    free_acts(m);
    size_t N = (size_t)B * T, V = (size_t)m->cfg.vocab_size;
    ts_status st = is_lstm(m) ? ts_lstm_reserve(m, B, T) : ts_transformer_reserve(m, B, T);
    if (st == TS_OK) st = ts_buffer_alloc(m->be, N * sizeof(int32_t), &m->ids);
    if (st == TS_OK) st = ts_buffer_alloc(m->be, N * sizeof(int32_t), &m->targets);
    if (st == TS_OK) st = ts_buffer_alloc(m->be, N * sizeof(float), &m->losses);
    if (st == TS_OK) st = ts_buffer_alloc_as(m->be, N * V * 4, TS_MEM_ACTIVATIONS, &m->probs);
    if (st == TS_OK) st = ts_buffer_alloc_as(m->be, N * V * 4, TS_MEM_SCRATCH, &m->dlogits);
    if (st != TS_OK) {
        free_acts(m);
        return st;
    }
    m->B_max = B;
    m->T_max = T;
    return TS_OK;
}

/* ---- forward, loss, backward --------------------------------------------------------------- */

/* Uploads a (B, T) int32 array, transposed to time-major (T, B) for the LSTM. */
static ts_status upload_tokens(ts_model *m, ts_buffer *dst, const int32_t *src, int B, int T) {
    ts_tensor t = {dst, 0};
    size_t bytes = (size_t)B * T * sizeof *src;
    if (!is_lstm(m)) return m->be->iface->upload(m->be, t, src, bytes);
    int32_t *tm = malloc(bytes);
    if (!tm) return ts_set_error("out of host memory");
    for (int b = 0; b < B; b++)
        for (int s = 0; s < T; s++)
            tm[s * B + b] = src[b * T + s];
    ts_status st = m->be->iface->upload(m->be, t, tm, bytes);
    free(tm);
    return st;
}

static ts_tensor logits_of(ts_model *m) {
    return is_lstm(m) ? ts_lstm_logits(m) : ts_transformer_logits(m);
}

/* 1 / the targets the loss is a mean over: the global batch's when this batch is a rank's
 * slice of it */
/* dloss/dlogit's factor: the mean over the targets (of the global batch when this batch is a
 * rank's slice of it), times fp16's loss scale (train/loss_scale.h; 0 or 1 when none). */
static float dlogits_scale(const ts_model *m) {
    int count = m->slice_global_B > 0 ? m->slice_targets : m->n_targets;
    float ls = m->loss_scale > 0.0f ? m->loss_scale : 1.0f;
    return count ? ls / (float)count : 0.0f;
}

ts_status ts_model_forward(ts_model *m, const int32_t *ids, const int32_t *targets, int B, int T,
                           int training, uint64_t seed, uint32_t step) {
    if (B < 1 || T < 1) return ts_set_error_status(TS_EUSAGE, "empty batch");
    if (B > m->B_max || T != m->T_max) {
        ts_status st = ts_model_reserve(m, B > m->B_max ? B : m->B_max, T);
        if (st != TS_OK) return st;
    }
    for (int i = 0; i < B * T; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size)
            return ts_set_error("token id %d at position %d is outside the model's vocabulary "
                                "(%d): the dataset and the model disagree",
                                ids[i], i, m->cfg.vocab_size);
    m->B = B;
    m->T = T;
    m->training = training;
    /* ids and targets both go up before the forward is enqueued: the uploads do not wait
     * for the device (opencl stages them), so nothing blocks between them and the loss. */
    ts_status st = upload_tokens(m, m->ids, ids, B, T);
    if (st == TS_OK && targets) st = upload_tokens(m, m->targets, targets, B, T);
    if (st != TS_OK) return st;
    if (is_lstm(m))
        ts_lstm_forward(m, seed, step);
    else
        ts_transformer_forward(m, seed, step);
    m->n_targets = 0;
    if (targets) {
        for (int i = 0; i < B * T; i++)
            m->n_targets += targets[i] != 0; /* 0 = <PAD> */
        ts_tensor losses = {m->losses, 0}, probs = {m->probs, 0}, tg = {m->targets, 0};
        ts_tensor dl = {m->dlogits, 0};
        /* training: the loss and its gradient in one pass (ts_model_backward skips its own) */
        m->dlogits_ready = training;
        if (training)
            m->be->iface->crossentropy_fused(m->be, losses, dl, logits_of(m), tg, B * T,
                                             m->cfg.vocab_size, 0, dlogits_scale(m));
        else
            m->be->iface->crossentropy_forward(m->be, losses, probs, logits_of(m), tg, B * T,
                                               m->cfg.vocab_size, 0);
        ts_tensor sum = {m->scalars, 0};
        m->be->iface->sum(m->be, sum, losses, (size_t)B * T);
    }
    return m->be->error;
}

ts_status ts_model_loss(ts_model *m, float *loss, double *loss_sum, int *n_targets) {
    float sum = 0;
    ts_tensor s = {m->scalars, 0};
    ts_status st = ts_backend_sync(m->be);
    if (st == TS_OK) st = m->be->iface->download(m->be, &sum, s, sizeof sum);
    if (st != TS_OK) return st;
    if (loss) *loss = m->n_targets ? sum / (float)m->n_targets : 0.0f;
    if (loss_sum) *loss_sum = sum;
    if (n_targets) *n_targets = m->n_targets;
    return TS_OK;
}

ts_status ts_model_zero_grad(ts_model *m) {
    if (m->grads_zero) return m->be->error; /* AdamW (or the allocation) already did it */
    ts_tensor g = {m->grads, 0};
    m->be->iface->fill(m->be, g, 0.0f, m->n_params);
    m->grads_zero = 1;
    return m->be->error;
}

void ts_model_set_slice(ts_model *m, int first, int global_B, int global_targets) {
    m->slice_first = first;
    m->slice_global_B = global_B;
    m->slice_targets = global_targets;
}

ts_dropout_key ts_model_drop_key(const ts_model *m, uint64_t seed, uint32_t step,
                                 uint32_t tensor_id, size_t per_window) {
    ts_dropout_key k = ts_drop_key(seed, step, tensor_id);
    if (m->slice_global_B <= 0) return k;
    k.offset = (uint64_t)m->slice_first * per_window;
    if (is_lstm(m)) { /* time-major: each time step is a row of global_B windows */
        k.span = (uint32_t)((size_t)m->B * per_window);
        k.stride = (uint32_t)((size_t)m->slice_global_B * per_window);
    }
    return k;
}

ts_status ts_model_backward(ts_model *m, uint64_t seed, uint32_t step) {
    ts_tensor dl = {m->dlogits, 0}, probs = {m->probs, 0}, tg = {m->targets, 0};
    if (!m->dlogits_ready)
        m->be->iface->crossentropy_backward(m->be, dl, probs, tg, m->B * m->T, m->cfg.vocab_size, 0,
                                            dlogits_scale(m));
    m->dlogits_ready = 0;
    m->grads_zero = 0;
    if (is_lstm(m))
        ts_lstm_backward(m, seed, step);
    else
        ts_transformer_backward(m, seed, step);
    return m->be->error;
}

ts_status ts_model_grad_norm(ts_model *m, float *norm) {
    ts_tensor g = {m->grads, 0}, s = {m->scalars, 1};
    m->be->iface->sum_squares(m->be, s, g, m->n_params);
    float sq = 0;
    ts_status st = ts_backend_sync(m->be);
    if (st == TS_OK) st = m->be->iface->download(m->be, &sq, s, sizeof sq);
    *norm = sqrtf(sq);
    return st;
}

ts_status ts_model_adamw_gated(ts_model *m, double lr, double beta1, double beta2, double eps,
                               double weight_decay, int t) {
    ts_status st;
    if (!m->m) { /* moments appear with the first step, as in PyTorch */
        size_t bytes = m->n_params * sizeof(float);
        if ((st = ts_buffer_alloc_as(m->be, bytes, TS_MEM_PARAMS, &m->m)) != TS_OK) return st;
        if ((st = ts_buffer_alloc_as(m->be, bytes, TS_MEM_PARAMS, &m->v)) != TS_OK) return st;
    }
    ts_tensor p = {m->params, 0}, g = {m->grads, 0}, mm = {m->m, 0}, vv = {m->v, 0};
    ts_tensor gate = {m->scalars, TS_SCALAR_CLIP_COEF};
    m->be->iface->adamw(m->be, p, g, mm, vv, gate, m->n_params, lr, beta1, beta2, eps, weight_decay,
                        t);
    m->grads_zero = 1;
    return m->be->error;
}

ts_status ts_model_adamw(ts_model *m, double lr, double beta1, double beta2, double eps,
                         double weight_decay, int t, float grad_scale) {
    ts_tensor coef = {m->scalars, TS_SCALAR_CLIP_COEF}, skip = {m->scalars, TS_SCALAR_SKIP};
    m->be->iface->fill(m->be, coef, grad_scale, 1);
    m->be->iface->fill(m->be, skip, 0.0f, 1);
    return ts_model_adamw_gated(m, lr, beta1, beta2, eps, weight_decay, t);
}

ts_status ts_model_grad_gate(ts_model *m, double clip) {
    ts_tensor g = {m->grads, 0}, s = {m->scalars, 0};
    m->be->iface->sum_squares(m->be, ts_view(s, TS_SCALAR_GRAD_SUMSQ), g, m->n_params);
    m->be->iface->grad_gate(m->be, ts_view(s, TS_SCALAR_CLIP_COEF), ts_view(s, TS_SCALAR_GRAD_NORM),
                            s, clip);
    return m->be->error;
}

ts_status ts_model_set_loss_sum(ts_model *m, float loss_sum) {
    ts_tensor s = {m->scalars, TS_SCALAR_LOSS_SUM};
    m->be->iface->fill(m->be, s, loss_sum, 1);
    return m->be->error;
}

ts_status ts_model_step_scalars(ts_model *m, float out[TS_STEP_SCALARS]) {
    ts_tensor s = {m->scalars, 0};
    return ts_download_start(m->be, out, s, TS_STEP_SCALARS * sizeof *out);
}

ts_status ts_model_step_scalars_wait(ts_model *m, float out[TS_STEP_SCALARS]) {
    return ts_download_wait(m->be, out);
}

/* ---- host copies --------------------------------------------------------------------------- */

ts_status ts_model_logits(ts_model *m, float *out) {
    size_t N = (size_t)m->B * m->T, V = (size_t)m->cfg.vocab_size;
    ts_status st = ts_backend_sync(m->be);
    if (st != TS_OK) return st;
    if (!is_lstm(m)) return m->be->iface->download(m->be, out, logits_of(m), N * V * sizeof *out);
    float *tm = malloc(N * V * sizeof *tm);
    if (!tm) return ts_set_error("out of host memory");
    st = m->be->iface->download(m->be, tm, logits_of(m), N * V * sizeof *tm);
    for (int b = 0; st == TS_OK && b < m->B; b++)
        for (int t = 0; t < m->T; t++)
            memcpy(out + ((size_t)b * m->T + t) * V, tm + ((size_t)t * m->B + b) * V,
                   V * sizeof *out);
    free(tm);
    return st;
}

static ts_status get_flat(ts_model *m, ts_buffer *buf, float *out) {
    ts_tensor t = {buf, 0};
    ts_status st = ts_backend_sync(m->be);
    return st == TS_OK ? m->be->iface->download(m->be, out, t, m->n_params * sizeof *out) : st;
}

static ts_status set_flat(ts_model *m, ts_buffer *buf, const float *in) {
    ts_tensor t = {buf, 0};
    return m->be->iface->upload(m->be, t, in, m->n_params * sizeof *in);
}

ts_status ts_model_get_params(ts_model *m, float *out) {
    return get_flat(m, m->params, out);
}
ts_status ts_model_get_grads(ts_model *m, float *out) {
    return get_flat(m, m->grads, out);
}

ts_status ts_model_set_grads(ts_model *m, const float *in) {
    m->grads_zero = 0;
    return set_flat(m, m->grads, in);
}

ts_status ts_model_set_params(ts_model *m, const float *in) {
    return set_flat(m, m->params, in);
}

ts_status ts_model_get_moments(ts_model *m, float *m_out, float *v_out) {
    if (!m->m) {
        memset(m_out, 0, m->n_params * sizeof *m_out);
        memset(v_out, 0, m->n_params * sizeof *v_out);
        return TS_OK;
    }
    ts_status st = get_flat(m, m->m, m_out);
    return st == TS_OK ? get_flat(m, m->v, v_out) : st;
}

ts_status ts_model_set_moments(ts_model *m, const float *m_in, const float *v_in) {
    ts_status st;
    size_t bytes = m->n_params * sizeof(float);
    if (!m->m) {
        if ((st = ts_buffer_alloc_as(m->be, bytes, TS_MEM_PARAMS, &m->m)) != TS_OK) return st;
        if ((st = ts_buffer_alloc_as(m->be, bytes, TS_MEM_PARAMS, &m->v)) != TS_OK) return st;
    }
    if ((st = set_flat(m, m->m, m_in)) != TS_OK) return st;
    return set_flat(m, m->v, v_in);
}
