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
 *    says "accumulate"; parameter gradients (dweight, dbias) always accumulate (+=), so a zero
 *    flat gradient buffer is the whole zero-grad (adamw leaves it zero for the next step).
 *  - Randomness (dropout) comes from Philox4x32-10 keyed by (seed, step, tensor id, element),
 *    see ts_dropout_key, so every backend draws identical masks.
 *
 * The ops themselves, with their arguments and the extent of each tensor, are listed once in
 * backends/ops.def. Adding an op touches: ops.def, backends/cpu/, cl/, shaders/, and a parity
 * case in tests/unit/test_backend_ops.c (which fails while an op of ops.def has none); its
 * OpenCL and Vulkan host code is a TS_LAUNCH_ line in backends/op_launch.h when it is one
 * kernel over its arguments, else hand-written in backends/opencl/ and backends/vulkan/.
 */
#ifndef TS_BACKENDS_BACKEND_H
#define TS_BACKENDS_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/op_macros.h"
#include "backends/precision.h"
#include "util/error.h"

#define TS_BACKEND_API_VERSION 1

typedef struct ts_buffer ts_buffer; /* backend-defined */
typedef struct ts_backend ts_backend;

/* What an allocation holds, for the memory accounting (`bench step --json` reports the peak by
 * category, so a memory table explains itself). */
typedef enum {
    TS_MEM_OTHER,       /* untagged: ids, targets, reductions, benchmarks */
    TS_MEM_PARAMS,      /* parameters, their gradients and the optimizer moments */
    TS_MEM_ACTIVATIONS, /* activations kept for the backward (and the loss head's) */
    TS_MEM_SCRATCH,     /* gradients of activations: live only within one backward */
    TS_MEM_CATEGORIES
} ts_mem_category;

/* No single buffer holds more than 2^31 - 1 elements: CLBlast indexes some kernels with int,
 * and shaders take element offsets as 32-bit words. */
#define TS_MAX_BUFFER_ELEMENTS ((size_t)0x7fffffff)

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
    int api_version;   /* TS_BACKEND_API_VERSION */
    size_t view_limit; /* a device limit: views must end at or below this element (0: none) */

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
    /* Optional (NULL: ts_download_start falls back to download): starts copying src to dst and
     * returns without waiting; the copy sees src as of this point of the stream. dst must stay
     * alive and untouched until download_wait(dst) returns, which waits for that copy alone
     * and reports the errors behind it. A few may be in flight at once. */
    ts_status (*download_start)(ts_backend *be, void *dst, ts_tensor src, size_t bytes);
    ts_status (*download_wait)(ts_backend *be, void *dst);

    /* ---- ops: one member per entry of ops.def, which documents each ---------------------- */
#define TS_OP(name, exempt, check, ...) void (*name)(ts_backend * be, TS_OP_PARAMS(__VA_ARGS__));
#include "backends/ops.def"
#undef TS_OP

    /* ---- device timing (optional: NULL where a backend has none; `bench step --json`) ---- */
    /* Writes a JSON object {"family": ms, ...} of device time per op family since the last
     * call (nothing when it does not fit in cap), restarts the count, and returns its length;
     * returns 0 when timing is off (vulkan: TUNESCALE_VK_TIMESTAMPS=1 turns it on). */
    size_t (*timings)(ts_backend *be, char *json, size_t cap);
} ts_backend_iface;

/* The members each backend names after itself (prefix pre), for its table, beside .name and
 * one `.op = pre_op,` per entry of ops.def. */
#define TS_BACKEND_MEMBERS(pre)                                                                    \
    .api_version = TS_BACKEND_API_VERSION, .destroy = pre##_destroy,                               \
    .device_info = pre##_device_info, .sync = pre##_sync, .buffer_alloc = pre##_buffer_alloc,      \
    .buffer_free = pre##_buffer_free, .buffer_size = pre##_buffer_size, .upload = pre##_upload,    \
    .download = pre##_download

struct ts_backend {
    /* Callers use iface: the frontend's checked table (backend.c), whose ops skip after the
     * first error, count TUNESCALE_FAULT calls and check sizes and views before calling the
     * backend's own table, impl. ts_backend_create sets both. */
    const ts_backend_iface *iface;
    const ts_backend_iface *impl;
    ts_backend_iface checked;
    void *ctx;
    size_t bytes_in_use;       /* running byte count of live buffers */
    size_t peak_bytes;         /* high-water mark of bytes_in_use */
    unsigned long submissions; /* command submissions to the device so far (0 where the API
                                * has no such notion: cpu) */
    /* Step-overhead counters, read by `bench step --json` as differences per step:
     *  ops         ops that passed the frontend's checks (every backend);
     *  dispatches  kernels launched: NDRange enqueues and CLBlast calls (opencl; CLBlast's own
     *              pad/transpose helper kernels are not visible and not counted), vkCmdDispatch
     *              (vulkan); on the cpu each op is one call, so dispatches == ops;
     *  host_waits  times the host blocked on the device: clFinish, blocking reads and writes
     *              (opencl), fence waits (vulkan); 0 on the cpu. */
    unsigned long ops, dispatches, host_waits;
    int dispatch_per_op;     /* the cpu: one op is one dispatch (set at creation) */
    size_t mem_limit;        /* 0 = no cap; else an allocation past it fails as out of memory */
    size_t oom_needed_bytes; /* bytes_in_use + the request, at the last failed allocation */
    ts_status error;         /* first error recorded by an op (sticky) */
    char error_msg[1024];    /* its message, replayed by every later call */
    /* The largest single allocation: a backend sets its device's limit at creation (0: none);
     * the frontend lowers it to TS_MAX_BUFFER_ELEMENTS elements and to
     * TUNESCALE_MAX_BUFFER_BYTES (a test hook), and says in max_buffer_why which one won.
     * Models split their storage so that no allocation is larger (src/model/arena.h). */
    size_t max_buffer_bytes;
    const char *max_buffer_why;
    size_t category_bytes[TS_MEM_CATEGORIES]; /* bytes_in_use by category */
    size_t category_peak[TS_MEM_CATEGORIES];  /* category_bytes when peak_bytes was reached */
    struct ts_mem_tag *tags; /* live buffers of a category other than TS_MEM_OTHER */
    size_t n_tags, cap_tags;
    /* --precision (precision.h): the mode the GEMMs compute in, set by the backend's
     * constructor only when it computes it as named, and how ("fp32", "fp16 inputs through
     * shaderFloat16, fp32 accumulation", ...), for result.json and the tables. */
    ts_precision precision;
    char precision_impl[256];
    /* The LSTM recurrence the last sequence op ran ("persistent" or "fused-step"; NULL before
     * any) and why the persistent kernel was or was not used (backends/lstm_variant.h). */
    const char *lstm_path;
    char lstm_why[256];
};

/* ---- the frontend: creation by name, accounting, convenience -------------------------- */

typedef struct {
    int device;             /* --device N */
    int threads;            /* cpu: worker threads, 0 = all cores */
    size_t mem_limit;       /* --mem-limit, 0 = none */
    ts_precision precision; /* --precision; zero: fp32 */
} ts_backend_options;

/* Creates "cpu", "opencl" or "vulkan". A backend that is not built or finds no device fails
 * with a clear message; it never silently falls back to another backend.
 * Fault injection for tests: TUNESCALE_FAULT=op:N fails the N-th op or transfer of the process
 * as a device error would, alloc:N the N-th allocation as a device out-of-memory; a suffix
 * @FILE limits it to the first process that gets there (see backend.c). */
ts_status ts_backend_create(const char *name, const ts_backend_options *o, ts_backend **out);
void ts_backend_destroy(ts_backend *be);

/* Allocates a buffer, counting it against mem_limit: past the cap the call fails with
 * TS_ENOMEM exactly like a real device out-of-memory. So does a buffer larger than
 * max_buffer_bytes. */
ts_status ts_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out);
/* The same, counted under `category` (ts_buffer_alloc counts under TS_MEM_OTHER). */
ts_status ts_buffer_alloc_as(ts_backend *be, size_t bytes, ts_mem_category category,
                             ts_buffer **out);
/* The category names `bench step --json` prints: "other", "params_optimizer", ... */
const char *ts_mem_category_name(ts_mem_category category);
void ts_buffer_free(ts_backend *be, ts_buffer *buf);
ts_status ts_backend_sync(ts_backend *be);
/* A download in two halves, so the host can enqueue more work before it waits: start, then
 * wait for the same dst (a plain blocking download where the backend has no such pair). */
ts_status ts_download_start(ts_backend *be, void *dst, ts_tensor src, size_t bytes);
ts_status ts_download_wait(ts_backend *be, void *dst);

/* ---- for backend implementations ------------------------------------------------------- */

/* Records the first failure: sets be->error to st and the message "<backend> backend: ...".
 * Later failures are ignored so the first cause is what the user sees. */
void ts_backend_fail(ts_backend *be, ts_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ts_backend_vfail(ts_backend *be, ts_status st, const char *fmt, va_list ap);
/* Codes a device kernel writes to its status word when it meets bad data (ids and targets live
 * on the device, so only the device can check them), and the error each one records. */
#define TS_BAD_EMBEDDING_ID 1
#define TS_BAD_TARGET       2
void ts_backend_fail_bad_data(ts_backend *be, int code);
/* Records a failed device call: "<call> (<op>) failed: <error> (<code>)", or with oom set
 * "out of device memory: <call> (<op>) failed with <error> on <device>" as TS_ENOMEM. */
void ts_backend_fail_call(ts_backend *be, int oom, const char *call, const char *op,
                          const char *error, int code, const char *device);
/* The iface's timings JSON, {"family": ms, ...}, of the n families whose ms is above 0 (named by
 * name(i)), into json when it fits in cap (else json is ""), then zeroes ms; returns the length
 * the object needs. */
size_t ts_timings_json(char *json, size_t cap, double *ms, size_t n, const char *(*name)(size_t));
/* Re-sets the recorded first failure as the current error message and returns its status. */
ts_status ts_backend_replay_error(ts_backend *be);
/* For a backend's create: a zeroed ts_backend running iface, with a zeroed context of
 * ctx_bytes in be->ctx; NULL with TS_ENOMEM set when host memory runs out. */
ts_backend *ts_backend_new(const ts_backend_iface *iface, size_t ctx_bytes);

/* Argument checks that do not depend on the backend, named by ops.def and run by the frontend
 * before an op reaches a backend; each records the failure and returns 0. */
int ts_check_size(ts_backend *be, const char *op, const char *arg, long value);
int ts_check_view(ts_backend *be, const char *op, const char *arg, ts_tensor t, size_t n);
int ts_check_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, int lda, int ldb,
                  int ldc);
int ts_check_table(ts_backend *be, const char *op, int n, int C, int V);
int ts_check_dropout(ts_backend *be, const char *op, size_t n, float p);
int ts_check_attention(ts_backend *be, const char *op, int BH, int T, int HS, float p);
int ts_check_lstm_ld(ts_backend *be, const char *op, int B, int H, int ld_state);
int ts_check_adamw_step(ts_backend *be, size_t n, int t);

/* The scalars every backend derives for a dropout mask (p, key), so that all draw the same:
 * an element is kept iff (w >> 8) >= thr for its Philox word w, and a kept one is scaled by
 * `scale` (1/(1-p); 0 when p is 1). Laid out as the shaders' 32-bit words (offset is the low
 * word of key.offset). */
typedef struct {
    uint32_t thr;
    float scale;
    uint32_t seed_lo, seed_hi, step, tensor_id, offset, span, stride;
} ts_dropout_words;
ts_dropout_words ts_dropout_words_of(float p, ts_dropout_key key);

/* The float scalars of an AdamW step (ops.def), each formed in double and rounded once as
 * PyTorch's Python floats are, in the order the device kernels take them. */
typedef struct {
    float decay, b1, b2, eps, a1, a2, neg_step, bc2_sqrt;
} ts_adamw_scalars;
ts_adamw_scalars ts_adamw_scalars_of(double lr, double beta1, double beta2, double eps,
                                     double weight_decay, int t);

/* Elements spanned by `batch` (rows, cols) matrices with leading dimension ld, stride apart;
 * 0 when any of rows, cols, batch is 0. */
static inline size_t ts_matrix_extent(int rows, int cols, int ld, long stride, int batch) {
    if (rows <= 0 || cols <= 0 || batch <= 0) return 0;
    return (size_t)(batch - 1) * (size_t)stride + (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* Parses "16GiB", "512MiB", "1.5G", "1000000" into bytes. Returns 0 on a bad value. */
int ts_parse_size(const char *s, size_t *out);

/* The concrete backends' constructors (backends/<name>/). */
ts_status ts_cpu_backend_create(const ts_backend_options *o, ts_backend **out);
/* Needs TS_HAVE_OPENCL; o->device is the flattened index `tunescale devices` prints. */
ts_status ts_opencl_backend_create(const ts_backend_options *o, ts_backend **out);
/* Needs TS_HAVE_VULKAN; o->device is the vkEnumeratePhysicalDevices index. */
ts_status ts_vulkan_backend_create(const ts_backend_options *o, ts_backend **out);

#endif
