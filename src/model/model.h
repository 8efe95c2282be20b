/*
 * model.h — a model on a backend: parameters, gradients and optimizer moments as one flat
 * allocation each (named views in PyTorch state_dict order), activations sized for (B, T), and
 * explicit forward and backward passes per layer (transformer.c, lstm.c).
 *
 * The model calls only backends/backend.h; it never knows which backend it runs on.
 */
#ifndef TS_MODEL_MODEL_H
#define TS_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "model/arena.h"
#include "model/config.h"

typedef struct ts_model ts_model;

struct ts_model {
    ts_model_config cfg;
    ts_backend *be;
    ts_param_spec *specs;
    size_t n_specs;
    size_t n_params;
    /* One allocation each, n_params floats. m and v appear on the first optimizer step. */
    ts_buffer *params, *grads, *m, *v;
    /* Activations for batch <= B_max and length <= T_max. */
    int B_max, T_max;
    void *acts;               /* the family's activation views (transformer.c / lstm.c) */
    ts_buffer *ids, *targets; /* int32 (B_max*T_max) uploaded per batch (time-major for LSTM) */
    ts_buffer *losses, *probs, *dlogits; /* loss head: (N), (N, V), (N, V) */
    ts_buffer *scalars;                  /* the step's small values (TS_SCALAR_*) */
    int grads_zero; /* 1 while grads hold zeros (created, or AdamW zeroed them) */
    /* The batch in flight. */
    int B, T;
    int n_targets;     /* targets that are not <PAD> */
    int dlogits_ready; /* the training forward's crossentropy_fused already wrote dlogits */
    int training;
    /* Data-parallel (ts_model_set_slice): the batch in flight is windows [slice_first,
     * slice_first + B) of a global batch of slice_global_B windows holding slice_targets
     * non-<PAD> targets. All 0: the batch is the whole. */
    int slice_first, slice_global_B, slice_targets;
    /* The loss gradient's multiplier (--precision fp16's loss scaling, train/loss_scale.h);
     * 0 or 1: none. */
    float loss_scale;
};

/* Creates the model and allocates parameters and gradients (not activations). Fails with
 * TS_ENOMEM when the backend's memory (or --mem-limit) is exhausted. */
ts_status ts_model_create(const ts_model_config *cfg, ts_backend *be, ts_model **out);
void ts_model_free(ts_model *m);

/* Initialises parameters as the notebook's modules do, from Philox streams keyed by seed and
 * parameter index (identical on every backend: generated on the host, then uploaded). */
ts_status ts_model_init_params(ts_model *m, uint64_t seed);

/* Reserves activation memory for batches up to B x T (T <= max_seq_len for Transformers). */
ts_status ts_model_reserve(ts_model *m, int B, int T);

/* Forward pass on host ids/targets (B x T, row-major, batch-first). targets may be NULL
 * (logits only). training enables dropout with (seed, step) keys. On return the work is
 * enqueued; ts_model_loss() waits and returns the mean loss over non-<PAD> targets. */
ts_status ts_model_forward(ts_model *m, const int32_t *ids, const int32_t *targets, int B, int T,
                           int training, uint64_t seed, uint32_t step);
ts_status ts_model_loss(ts_model *m, float *loss, double *loss_sum, int *n_targets);

/* Data-parallel training: the next batches are windows [first, first + B) of a global batch of
 * global_B windows with global_targets non-<PAD> targets. Dropout then draws the global batch's
 * masks for these windows, and the backward averages over global_targets, so the ranks'
 * gradients sum to the global batch's. (0, 0, 0), the default, is a whole batch. */
void ts_model_set_slice(ts_model *m, int first, int global_B, int global_targets);
/* The dropout key of an activation with per_window elements per window of the batch in flight
 * (per window and time step for the LSTM's time-major rows), placed in the global batch. */
ts_dropout_key ts_model_drop_key(const ts_model *m, uint64_t seed, uint32_t step,
                                 uint32_t tensor_id, size_t per_window);

/* Backward pass of the last forward (which must have had targets and training set as needed);
 * accumulates into grads. ts_model_zero_grad() clears them. */
ts_status ts_model_zero_grad(ts_model *m);
ts_status ts_model_backward(ts_model *m, uint64_t seed, uint32_t step);

/* Global L2 norm of all gradients (what clip_grad_norm_ returns). */
ts_status ts_model_grad_norm(ts_model *m, float *norm);
/* One AdamW step (t is 1-based) with the gradient scaled by grad_scale; zeroes the gradients. */
ts_status ts_model_adamw(ts_model *m, double lr, double beta1, double beta2, double eps,
                         double weight_decay, int t, float grad_scale);

/* The training step's device values in m->scalars, read back together in one transfer. */
enum {
    TS_SCALAR_LOSS_SUM,   /* sum of the batch's per-target losses (the forward's) */
    TS_SCALAR_GRAD_SUMSQ, /* sum of squared gradients */
    TS_SCALAR_GRAD_NORM,  /* its square root */
    TS_SCALAR_CLIP_COEF,  /* min(clip / (norm + 1e-6), 1) */
    TS_SCALAR_SKIP,       /* 1: the loss or the norm is not finite, the update is skipped */
    TS_STEP_SCALARS
};
/* Enqueues the gradient norm, the clip coefficient and the non-finite gate (from the loss sum
 * the forward left in TS_SCALAR_LOSS_SUM) on the device, with no wait. */
ts_status ts_model_grad_gate(ts_model *m, double clip);
/* Enqueues AdamW gated and scaled by ts_model_grad_gate's values; zeroes the gradients. */
ts_status ts_model_adamw_gated(ts_model *m, double lr, double beta1, double beta2, double eps,
                               double weight_decay, int t);
/* Writes the loss sum into TS_SCALAR_LOSS_SUM (the data-parallel step's global sum). */
ts_status ts_model_set_loss_sum(ts_model *m, float loss_sum);
/* Starts reading the TS_STEP_SCALARS values back into out (one transfer, in stream order);
 * out must stay untouched until ts_model_step_scalars_wait(m, out), the step's only wait. */
ts_status ts_model_step_scalars(ts_model *m, float out[TS_STEP_SCALARS]);
ts_status ts_model_step_scalars_wait(ts_model *m, float out[TS_STEP_SCALARS]);

/* Logits of the last forward in batch-first (B, T, V) order, downloaded to host memory. */
ts_status ts_model_logits(ts_model *m, float *out);

/* Host copies of the flat buffers. */
ts_status ts_model_get_params(ts_model *m, float *out);
ts_status ts_model_set_params(ts_model *m, const float *in);
ts_status ts_model_get_grads(ts_model *m, float *out);
ts_status ts_model_set_grads(ts_model *m, const float *in);
/* Optimizer moments (zeros before the first step). */
ts_status ts_model_get_moments(ts_model *m, float *m_out, float *v_out);
ts_status ts_model_set_moments(ts_model *m, const float *m_in, const float *v_in);

const ts_param_spec *ts_model_find_param(const ts_model *m, const char *name);
/* A view of a named parameter inside a flat buffer. */
static inline ts_tensor ts_param_view(ts_buffer *flat, const ts_param_spec *s) {
    ts_tensor t = {flat, s->offset};
    return t;
}

/* Parameter `index` (in state_dict order) as a view into a flat buffer (params, grads, m, v). */
static inline ts_tensor ts_param_at(const ts_model *m, ts_buffer *flat, size_t index) {
    return ts_param_view(flat, &m->specs[index]);
}

/* Carves consecutive views out of one allocation, each 64-byte aligned; with buf == NULL it only
 * counts, so the same layout code sizes the buffer and then points the views into it. With
 * `arena` set the views come from the arena instead (split over capped buffers, arena.h). */
typedef struct {
    size_t off;
    ts_buffer *buf;
    ts_arena *arena;
} ts_carver;

static inline ts_tensor ts_carve(ts_carver *c, size_t n) {
    if (c->arena) return ts_arena_take(c->arena, n);
    ts_tensor t = {c->buf, c->off};
    c->off += (n + 15) & ~(size_t)15;
    return t;
}

static inline ts_dropout_key ts_drop_key(uint64_t seed, uint32_t step, uint32_t tensor_id) {
    ts_dropout_key k = {seed, step, tensor_id, 0, 0, 0};
    return k;
}

/* Bytes of activation memory ts_model_reserve(B, T) will allocate. */
size_t ts_model_activation_bytes(const ts_model_config *cfg, int B, int T);
/* How many buffers the activation storage of ts_model_reserve(B, T) splits into when no buffer
 * may exceed cap_bytes (0: TS_MAX_BUFFER_ELEMENTS floats), with the largest in *largest_bytes.
 * Only plans: nothing is allocated. 0 when a single tensor is larger than the cap. */
size_t ts_model_activation_buffers(const ts_model_config *cfg, int B, int T, size_t cap_bytes,
                                   size_t *largest_bytes);

/* Family implementations (internal). */
ts_status ts_transformer_reserve(ts_model *m, int B, int T);
void ts_transformer_free_acts(ts_model *m);
void ts_transformer_forward(ts_model *m, uint64_t seed, uint32_t step);
void ts_transformer_backward(ts_model *m, uint64_t seed, uint32_t step);
ts_tensor ts_transformer_logits(ts_model *m);
/* Plans the activation arenas (kept activations, then their gradients) under a per-buffer cap;
 * the caller frees them with ts_arena_free. 0 on out of host memory. */
int ts_transformer_act_plan(const ts_model_config *c, int B, int T, ts_arena *acts,
                            ts_arena *grads);

ts_status ts_lstm_reserve(ts_model *m, int B, int T);
void ts_lstm_free_acts(ts_model *m);
void ts_lstm_forward(ts_model *m, uint64_t seed, uint32_t step);
void ts_lstm_backward(ts_model *m, uint64_t seed, uint32_t step);
ts_tensor ts_lstm_logits(ts_model *m);
int ts_lstm_act_plan(const ts_model_config *c, int B, int T, ts_arena *acts, ts_arena *grads);
/* The recurrent path an LSTM step runs ("fused-step"), NULL for other families; with
 * *why_not_persistent set to why the persistent kernel was not chosen (lstm_path.c). */
const char *ts_lstm_path(const ts_model *m, const char **why_not_persistent);

/* Shared layers (layers.c). Linear as PyTorch: out (N, out) = inp (N, in) W^T + b, W (out, in).
 * The backward accumulates dW, db and (if accumulate) dinp; else assigns dinp. A NULL-buffer
 * bias or dinp is skipped. */
void ts_linear_forward(ts_backend *be, ts_tensor out, ts_tensor inp, ts_tensor W, ts_tensor b,
                       int N, int in, int outdim);
void ts_linear_backward(ts_backend *be, ts_tensor dinp, ts_tensor dW, ts_tensor db, ts_tensor dout,
                        ts_tensor inp, ts_tensor W, int N, int in, int outdim, int accumulate);

/* Dropout tensor ids: one per dropout site, stable across backends and runs. */
enum {
    TS_DROP_EMBED = 1,
    TS_DROP_OUTPUT = 2,
    TS_DROP_LAYER_BASE = 16, /* + 8*layer + site */
};

#endif
