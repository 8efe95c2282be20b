/*
 * backend.h — the one interface every compute backend implements (cpu, opencl, vulkan).
 *
 * A backend is a table of function pointers plus an opaque context, chosen at run time by name.
 * It owns device memory (buffers of 4-byte elements: float32 or int32), moves data to and from
 * the host, and runs ops, each with a forward and a backward. Models see only this header: a
 * model never knows which backend it runs on, and a backend never knows about models.
 *
 * Conventions
 *  - Tensors are views into buffers: (buffer, element offset). Shapes are passed explicitly.
 *    Matrices are row-major. Dimension letters: B batch, T time, C channels, NH heads,
 *    HS head size (C/NH), V vocabulary, H hidden size (LSTM), N rows (usually B*T).
 *  - Ops are enqueued in order on one stream; they do not return errors. A failure inside an op
 *    is recorded in the backend and reported by ts_backend_sync() (and by every later call).
 *  - In place (out aliasing an input exactly) is allowed for fill/copy/add/scale, GELU and
 *    dropout (forward and backward), softmax_causal, LayerNorm backward (dinp == dout),
 *    cross-entropy (probs == logits, dlogits == probs) and lstm_cell_backward (dc_prev == dc).
 *  - gemm with beta == 0 does not read C (BLAS convention); K == 0 gives C = beta * C.
 *  - Dropout p is in [0, 1); p == 0 is a copy.
 *  - Backward ops ASSIGN the gradient of their input (dinp = ...) unless the name or comment
 *    says "accumulate"; parameter gradients (dweight, dbias) always accumulate (+=), so one
 *    fill(0) of the flat gradient buffer per step is the whole zero-grad.
 *  - Randomness (dropout) comes from Philox4x32-10 keyed by (seed, step, tensor id, element),
 *    see ts_dropout_key, so every backend draws identical masks.
 *
 * Adding an op touches: this header, backends/cpu/, cl/ + backends/opencl/, shaders/ +
 * backends/vulkan/, and the parity test table (tests/unit/test_backend_ops.c).
 */
#ifndef TS_BACKENDS_BACKEND_H
#define TS_BACKENDS_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define TS_BACKEND_API_VERSION 1

typedef struct ts_buffer ts_buffer; /* backend-defined */
typedef struct ts_backend ts_backend;

typedef struct {
    ts_buffer *buf;
    size_t off; /* in elements (4 bytes) */
} ts_tensor;

/* The largest head size the fused attention ops take (GPU kernels keep a row in registers). */
#define TS_ATTENTION_MAX_HS 64

static inline ts_tensor ts_view(ts_tensor t, size_t off) {
    t.off += off;
    return t;
}

typedef struct {
    char backend[16]; /* "cpu", "opencl", "vulkan" */
    char name[256];   /* device name */
    char vendor[128];
    char driver[128];      /* driver version */
    char api_version[64];  /* e.g. "OpenCL 3.0", "Vulkan 1.3.230", "OpenBLAS 0.3.21" */
    uint64_t memory_bytes; /* device memory (0 unknown) */
    int compute_units;     /* CUs / SMs / cores */
    int threads;           /* host threads used (cpu) */
    double peak_gflops;    /* nominal FP32 peak estimate, 0 unknown */
} ts_device_info;

/* Dropout randomness: element i of the mask for tensor `tensor_id` at optimizer step `step`
 * keeps the element iff u >= p, where u = (w >> 8) * 2^-24 and w is word (g & 3) of
 * Philox4x32-10(counter = {g >> 2, 0, step, tensor_id}, key = {seed_lo, seed_hi}). Kept
 * elements are scaled by 1/(1-p) (PyTorch's inverted dropout).
 *
 * g is i for a whole tensor. A data-parallel rank holds a slice of the global batch's tensor and
 * must draw the global run's masks, so the key may place the slice inside the whole:
 *   g = offset + (i / span) * stride + i % span     (span == 0: g = offset + i)
 * i.e. runs of span elements, stride apart (time-major LSTM rows), starting at offset. GPU
 * backends take g below 2^32 when offset or span is set. */
typedef struct {
    uint64_t seed;
    uint32_t step;
    uint32_t tensor_id;
    uint64_t offset; /* 0 with span 0: the tensor is the whole */
    uint32_t span, stride;
} ts_dropout_key;

typedef struct {
    const char *name;
    int api_version; /* TS_BACKEND_API_VERSION */

    /* ---- device and stream -------------------------------------------------------------- */
    void (*destroy)(ts_backend *be);
    void (*device_info)(ts_backend *be, ts_device_info *out);
    ts_status (*sync)(ts_backend *be); /* waits for all enqueued work */

    /* ---- buffers (accounting and the memory cap live in backend.c, not here) ------------- */
    ts_status (*buffer_alloc)(ts_backend *be, size_t bytes, ts_buffer **out); /* zeroed */
    void (*buffer_free)(ts_backend *be, ts_buffer *buf);
    size_t (*buffer_size)(ts_backend *be, const ts_buffer *buf); /* bytes asked at alloc */
    ts_status (*upload)(ts_backend *be, ts_tensor dst, const void *src, size_t bytes);
    ts_status (*download)(ts_backend *be, void *dst, ts_tensor src, size_t bytes);

    /* ---- elementwise and copies ---------------------------------------------------------- */
    void (*fill)(ts_backend *be, ts_tensor x, float value, size_t n);
    void (*copy)(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);
    /* out = a + b (out may alias a or b) */
    void (*add)(ts_backend *be, ts_tensor out, ts_tensor a, ts_tensor b, size_t n);
    /* x *= s */
    void (*scale)(ts_backend *be, ts_tensor x, float s, size_t n);

    /* ---- matrix products ----------------------------------------------------------------- */
    /* For b in [0, batch): C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major, with
     * op(A_b) M x K, op(B_b) K x N, C_b M x N; A_b = A + b*stride_a (elements), etc. */
    void (*gemm)(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                 ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                 float beta, ts_tensor C, int ldc, long stride_c, int batch);

    /* ---- bias ---------------------------------------------------------------------------- */
    /* out[r, c] += bias[c] for r < rows, c < cols */
    void (*bias_add)(ts_backend *be, ts_tensor out, ts_tensor bias, int rows, int cols);
    /* dbias[c] += sum_r dout[r, c] (accumulate) */
    void (*bias_backward)(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols);

    /* ---- embeddings (ids are int32) ------------------------------------------------------ */
    /* out[i, :] = (accumulate ? out[i, :] : 0) + table[ids[i], :] for i < n; table is (V, C)
     * and an id outside [0, V) is an error */
    void (*embedding_forward)(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                              int C, int V, int accumulate);
    /* dtable[ids[i], :] += dout[i, :] (accumulate; deterministic order) */
    void (*embedding_backward)(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids,
                               int n, int C, int V);

    /* ---- LayerNorm over the last dimension (PyTorch: biased variance, eps inside sqrt) ---- */
    /* out = (inp - mean) * rstd * weight + bias; saves mean[N], rstd[N] */
    void (*layernorm_forward)(ts_backend *be, ts_tensor out, ts_tensor mean, ts_tensor rstd,
                              ts_tensor inp, ts_tensor weight, ts_tensor bias, int N, int C,
                              float eps);
    /* dinp = ... (assign); dweight, dbias accumulate */
    void (*layernorm_backward)(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                               ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                               ts_tensor rstd, int N, int C);

    /* ---- activations --------------------------------------------------------------------- */
    /* GELU, exact: x * 0.5 * (1 + erf(x / sqrt(2))) */
    void (*gelu_forward)(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n);
    void (*gelu_backward)(ts_backend *be, ts_tensor dinp, ts_tensor inp, ts_tensor dout, size_t n);
    /* Inverted dropout with probability p (see ts_dropout_key). p == 0 copies. */
    void (*dropout_forward)(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n, float p,
                            ts_dropout_key key);
    void (*dropout_backward)(ts_backend *be, ts_tensor dinp, ts_tensor dout, size_t n, float p,
                             ts_dropout_key key);

    /* ---- attention ----------------------------------------------------------------------- */
    /* qkv (B, T, 3, NH, HS) -> q, k, v each (B, NH, T, HS) */
    void (*qkv_split_forward)(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor qkv,
                              int B, int T, int NH, int HS);
    /* dqkv = the inverse permutation of (dq, dk, dv) (assign) */
    void (*qkv_split_backward)(ts_backend *be, ts_tensor dqkv, ts_tensor dq, ts_tensor dk,
                               ts_tensor dv, int B, int T, int NH, int HS);
    /* (B, NH, T, HS) -> (B, T, NH*HS) */
    void (*heads_merge_forward)(ts_backend *be, ts_tensor out, ts_tensor inp, int B, int T, int NH,
                                int HS);
    void (*heads_merge_backward)(ts_backend *be, ts_tensor dinp, ts_tensor dout, int B, int T,
                                 int NH, int HS);
    /* Row-wise causal softmax of scale * pre over (BH, T, T): att[r, t, s] = 0 for s > t. */
    void (*softmax_causal_forward)(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                                   float scale);
    /* dpre = scale * att * (datt - sum_s datt * att) (assign; zero above the diagonal) */
    void (*softmax_causal_backward)(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                    int BH, int T, float scale);

    /* ---- fused causal attention (flash-style: the (T, T) maps are never stored) ---------- */
    /* Per (batch, head) bh < BH, with q, k, v, out (BH, T, HS), HS <= TS_ATTENTION_MAX_HS:
     *   out = Drop(softmax_causal(scale * q k^T)) v,   lse[bh*T + t] = log sum_s<=t exp(...)
     * exactly the unfused path (gemm, softmax_causal_forward, dropout_forward, gemm). Element
     * (bh, t, s) of the map is element bh*T*T + t*T + s of the dropout tensor keyed by key, so
     * the mask equals dropout_forward's over the whole (BH, T, T) map. Blocks above the
     * diagonal are skipped. */
    void (*attention_forward)(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q,
                              ts_tensor k, ts_tensor v, int BH, int T, int HS, float scale, float p,
                              ts_dropout_key key);
    /* dq, dk, dv (assign) from dout, recomputing the maps from q, k and lse and the mask from
     * key. delta (BH*T) is scratch: it receives the row sums dot(dout, out). */
    void (*attention_backward)(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                               ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q,
                               ts_tensor k, ts_tensor v, ts_tensor lse, int BH, int T, int HS,
                               float scale, float p, ts_dropout_key key);

    /* ---- LSTM ---------------------------------------------------------------------------- */
    /* One time step for a batch. pre (B, 4H) holds x W_ih^T + b_ih + h W_hh^T + b_hh in PyTorch
     * gate order i, f, g, o. Writes act (B, 4H) = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o),
     * c = f*c_prev + i*g, h = o*tanh(c). c_prev, c, h are (B, H) with row stride ld_state. */
    void (*lstm_cell_forward)(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act,
                              ts_tensor pre, ts_tensor c_prev, int B, int H, int ld_state);
    /* Given dh, dc (gradients into h and c of this step; dc already holds what flows back from
     * step t+1), writes dpre (B, 4H) and dc_prev (assign). dh, dc, dc_prev have row stride
     * ld_state like h and c. */
    void (*lstm_cell_backward)(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                               ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B,
                               int H, int ld_state);

    /* ---- loss ---------------------------------------------------------------------------- */
    /* Softmax cross-entropy per row of logits (N, V) against int32 targets; rows whose target
     * is ignore_index get loss 0. Writes probs (N, V) and losses (N). */
    void (*crossentropy_forward)(ts_backend *be, ts_tensor losses, ts_tensor probs,
                                 ts_tensor logits, ts_tensor targets, int N, int V,
                                 int ignore_index);
    /* dlogits = scale * (probs - onehot(target)), zero rows for ignored targets (assign) */
    void (*crossentropy_backward)(ts_backend *be, ts_tensor dlogits, ts_tensor probs,
                                  ts_tensor targets, int N, int V, int ignore_index, float scale);

    /* ---- reductions and the optimizer ---------------------------------------------------- */
    /* out[0] = sum of x[i] (deterministic) */
    void (*sum)(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
    /* out[0] = sum of x[i]^2 (deterministic) */
    void (*sum_squares)(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
    /* PyTorch AdamW (torch.optim.AdamW, maximize=False, amsgrad=False), for each i:
     *   g = grad_scale * grad[i]; param *= 1 - lr*wd;
     *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
     *   param -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
     * t is the 1-based step. grad_scale carries the clip coefficient. Hyper-parameters come in
     * double, as PyTorch's Python floats: each derived scalar (1 - lr*wd, 1 - b1, 1 - b2,
     * -lr/(1 - b1^t), sqrt(1 - b2^t)) is formed in double and rounded once to float. */
    void (*adamw)(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v,
                  size_t n, double lr, double beta1, double beta2, double eps, double weight_decay,
                  int t, float grad_scale);

    /* ---- peak measurement (optional: NULL where a backend has none; `bench peak`) -------- */
    /* `items` independent work-items, each running 16 independent FMA chains for `iters`
     * rounds (32 * items * iters flops; a compute-bound kernel), then writing the sum of its
     * chains to out[i]: chain j of item i starts at (i % 1024) * 2^-10 + j * 2^-4 and steps
     * x = fma(x, 0.999, 0.001). */
    void (*peak_fma)(ts_backend *be, ts_tensor out, size_t items, int iters);
    /* dst[i] = src[i] for i < n (n a multiple of 4) with the widest plain loads the device
     * has: the bandwidth kernel (copy may take a DMA or memcpy path instead) */
    void (*peak_copy)(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);

    /* ---- device timing (optional: NULL where a backend has none; `bench step --json`) ---- */
    /* Writes a JSON object {"family": ms, ...} of device time per op family since the last
     * call (nothing when it does not fit in cap), restarts the count, and returns its length;
     * returns 0 when timing is off (vulkan: TUNESCALE_VK_TIMESTAMPS=1 turns it on). */
    size_t (*timings)(ts_backend *be, char *json, size_t cap);
} ts_backend_iface;

struct ts_backend {
    const ts_backend_iface *iface;
    void *ctx;
    size_t bytes_in_use;       /* running byte count of live buffers */
    size_t peak_bytes;         /* high-water mark of bytes_in_use */
    unsigned long submissions; /* command submissions to the device so far (0 where the API
                                * has no such notion: cpu) */
    size_t mem_limit;          /* 0 = no cap; else an allocation past it fails as out of memory */
    size_t oom_needed_bytes;   /* bytes_in_use + the request, at the last failed allocation */
    ts_status error;           /* first error recorded by an op (sticky) */
    char error_msg[1024];      /* its message, replayed by every later call */
};

/* ---- the frontend: creation by name, accounting, convenience -------------------------- */

typedef struct {
    int device;       /* --device N */
    int threads;      /* cpu: worker threads, 0 = all cores */
    size_t mem_limit; /* --mem-limit, 0 = none */
} ts_backend_options;

/* Creates "cpu", "opencl" or "vulkan". A backend that is not built or finds no device fails
 * with a clear message; it never silently falls back to another backend.
 * Fault injection for tests: TUNESCALE_FAULT=op:N fails the N-th op or transfer of the process
 * as a device error would, alloc:N the N-th allocation as a device out-of-memory; a suffix
 * @FILE limits it to the first process that gets there (see backend.c). */
ts_status ts_backend_create(const char *name, const ts_backend_options *o, ts_backend **out);
void ts_backend_destroy(ts_backend *be);

/* Allocates a buffer, counting it against mem_limit: past the cap the call fails with
 * TS_ENOMEM exactly like a real device out-of-memory. */
ts_status ts_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out);
void ts_buffer_free(ts_backend *be, ts_buffer *buf);
ts_status ts_backend_sync(ts_backend *be);

/* ---- for backend implementations ------------------------------------------------------- */

/* Records the first failure: sets be->error to st and the message "<backend> backend: ...".
 * Later failures are ignored so the first cause is what the user sees. */
void ts_backend_fail(ts_backend *be, ts_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ts_backend_vfail(ts_backend *be, ts_status st, const char *fmt, va_list ap);
/* Re-sets the recorded first failure as the current error message and returns its status. */
ts_status ts_backend_replay_error(ts_backend *be);

/* Argument checks that do not depend on the backend; each records the failure and returns 0. */
int ts_check_heads(ts_backend *be, const char *op, int B, int T, int NH, int HS);
int ts_check_lstm_ld(ts_backend *be, const char *op, int H, int ld_state);
int ts_check_adamw_step(ts_backend *be, int t);

/* Parses "16GiB", "512MiB", "1.5G", "1000000" into bytes. Returns 0 on a bad value. */
int ts_parse_size(const char *s, size_t *out);

/* The concrete backends' constructors (backends/<name>/). */
ts_status ts_cpu_backend_create(const ts_backend_options *o, ts_backend **out);
/* Needs TS_HAVE_OPENCL; o->device is the flattened index `tunescale devices` prints. */
ts_status ts_opencl_backend_create(const ts_backend_options *o, ts_backend **out);
/* Needs TS_HAVE_VULKAN; o->device is the vkEnumeratePhysicalDevices index. */
ts_status ts_vulkan_backend_create(const ts_backend_options *o, ts_backend **out);

#endif
