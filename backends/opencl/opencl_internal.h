/*
 * opencl_internal.h — private declarations shared by the OpenCL backend's files.
 *
 * One context, one in-order queue: ops are enqueued in call order and never wait, so a whole
 * training step runs without a host round trip until sync or a download. A buffer is a cl_mem;
 * a view is (cl_mem, element offset), passed to kernels as a pointer plus a ulong offset and to
 * CLBlast as (cl_mem, offset) directly, so no sub-buffers (with their alignment rules) are
 * ever made. Every op validates its views on the host first, like the CPU backend, so a bad
 * view records an error instead of writing out of bounds on the device.
 */
#ifndef TS_BACKENDS_OPENCL_OPENCL_INTERNAL_H
#define TS_BACKENDS_OPENCL_OPENCL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include "backends/backend.h"

struct ts_buffer {
    cl_mem mem;
    size_t bytes; /* bytes asked at allocation (the cl_mem is at least 4 bytes) */
};

/* Kernel files (cl/<name>.cl): one program each, built on first use. */
typedef enum {
    OCL_P_ELEMENTWISE,
    OCL_P_BIAS,
    OCL_P_EMBEDDING,
    OCL_P_LAYERNORM,
    OCL_P_ATTENTION,
    OCL_P_LSTM,
    OCL_P_LOSS,
    OCL_P_REDUCE,
    OCL_P_OPTIM,
    OCL_P_PEAK,
    OCL_P_ATTENTION_FLASH,
    OCL_P_COUNT
} ocl_program_id;

/* Every kernel the backend launches; ocl_kernel_table (opencl_program.c) names each one and
 * the program it lives in. */
typedef enum {
    OCL_K_ADD,
    OCL_K_SCALE,
    OCL_K_SCALE2D,
    OCL_K_GELU_FORWARD,
    OCL_K_GELU_BACKWARD,
    OCL_K_DROPOUT,
    OCL_K_BIAS_ADD,
    OCL_K_COLSUM_PARTIAL,
    OCL_K_COLSUM_FINISH,
    OCL_K_EMBEDDING_FORWARD,
    OCL_K_EMBEDDING_BACKWARD,
    OCL_K_LAYERNORM_FORWARD,
    OCL_K_LAYERNORM_BACKWARD,
    OCL_K_LAYERNORM_PARAM_PARTIAL,
    OCL_K_PERMUTE_HEADS,
    OCL_K_SOFTMAX_CAUSAL_FORWARD,
    OCL_K_SOFTMAX_CAUSAL_BACKWARD,
    OCL_K_LSTM_CELL_FORWARD,
    OCL_K_LSTM_CELL_BACKWARD,
    OCL_K_CROSSENTROPY_FORWARD,
    OCL_K_CROSSENTROPY_BACKWARD,
    OCL_K_REDUCE_PARTIAL,
    OCL_K_REDUCE_FINISH,
    OCL_K_ADAMW,
    OCL_K_PEAK_FMA,
    OCL_K_PEAK_COPY,
    /* fused attention (attention_flash.cl) */
    OCL_K_ATTENTION_FORWARD,
    OCL_K_ATTENTION_DELTA,
    OCL_K_ATTENTION_BACKWARD_DQ,
    OCL_K_ATTENTION_BACKWARD_DKDV,
    OCL_K_COUNT
} ocl_kernel_id;

/* Work-group sizes. The first two are tuning values (-D macros); the reduction shape is fixed
 * on every device so that sum and sum_squares round the same way everywhere. */
#define OCL_WG          64  /* 1-D elementwise kernels */
#define OCL_ROW_WG_MAX  128 /* one work-group per row (LayerNorm, softmax, cross-entropy) */
#define OCL_RED_WG      64  /* reduction work-group (power of two) */
#define OCL_RED_GROUPS  256 /* reduction work-groups in the first pass */
#define OCL_COLSUM_ROWS 64  /* rows per partial in the column sums (as the CPU backend) */
#define OCL_EMB_TILE    64  /* ids scanned per tile by embedding_backward (== its group) */
#define OCL_ATT_TILE    32  /* fused attention: rows per tile (== its work-group) */

/* Codes a kernel writes to the device status word when it meets bad data (ids and targets
 * live on the device, so they can only be checked there); sync reads the word. */
#define OCL_BAD_EMBEDDING_ID 1
#define OCL_BAD_TARGET       2

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    int row_wg; /* work-group size for one-row-per-group kernels, a power of two */
    char build_options[256];
    char cache_key_prefix[1024]; /* device name, driver, platform version */
    cl_program programs[OCL_P_COUNT];
    cl_kernel kernels[OCL_K_COUNT];
    cl_mem status;  /* one int: the first bad-data code, 0 when clean */
    cl_mem scratch; /* partial sums; grown on demand, one user at a time (in-order queue) */
    size_t scratch_bytes;
    char device_name[256];
    char clblast_note[128];
} ocl_ctx;

static inline ocl_ctx *ocl_ctx_of(ts_backend *be) {
    return (ocl_ctx *)be->ctx;
}

/* ---- errors (opencl_backend.c) ---------------------------------------------------------- */

/* "CL_INVALID_VALUE" etc.; "unknown OpenCL error" for a code not in the table. */
const char *ocl_error_name(cl_int err);
/* The same for CLBlast's status codes (its negative OpenCL codes map to the names above). */
const char *ocl_clblast_error_name(int status);
/* 1 for the codes that mean the device ran out of memory. */
int ocl_is_oom(cl_int err);

/* Records the first error of the stream (printf format); later ones are dropped. The status is
 * TS_ENOMEM when oom is set, else TS_ERR. */
void ocl_fail(ts_backend *be, int oom, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a failed OpenCL call: "<call> (<op>): <CL_ERROR_NAME>". */
void ocl_fail_call(ts_backend *be, const char *call, const char *op, cl_int err);

/* 1 if view t holds n elements within its buffer, else records an error and returns 0. */
int ocl_view_ok(ts_backend *be, ts_tensor t, size_t n, const char *op, const char *arg);

/* A device scratch buffer of at least `bytes`, or NULL with an error recorded. */
cl_mem ocl_scratch(ts_backend *be, size_t bytes);

/* ---- programs and launches (opencl_program.c) ------------------------------------------ */

/* The kernel, building (or loading from the disk cache) its program on first use; NULL with an
 * error recorded on failure. */
cl_kernel ocl_kernel(ts_backend *be, ocl_kernel_id id);
void ocl_release_programs(ocl_ctx *ctx);

/* Kernel arguments: a tagged list so that one call sets them all and names the kernel on
 * failure. */
typedef enum { OCL_ARG_MEM, OCL_ARG_U64, OCL_ARG_U32, OCL_ARG_I32, OCL_ARG_F32 } ocl_arg_kind;
typedef struct {
    ocl_arg_kind kind;
    union {
        cl_mem mem;
        cl_ulong u64;
        cl_uint u32;
        cl_int i32;
        cl_float f32;
    } v;
} ocl_arg;

static inline ocl_arg ocl_mem(cl_mem m) {
    ocl_arg a = {.kind = OCL_ARG_MEM, .v.mem = m};
    return a;
}
static inline ocl_arg ocl_u64(cl_ulong x) {
    ocl_arg a = {.kind = OCL_ARG_U64, .v.u64 = x};
    return a;
}
static inline ocl_arg ocl_u32(cl_uint x) {
    ocl_arg a = {.kind = OCL_ARG_U32, .v.u32 = x};
    return a;
}
static inline ocl_arg ocl_i32(cl_int x) {
    ocl_arg a = {.kind = OCL_ARG_I32, .v.i32 = x};
    return a;
}
static inline ocl_arg ocl_f32(cl_float x) {
    ocl_arg a = {.kind = OCL_ARG_F32, .v.f32 = x};
    return a;
}
/* A view as two arguments: its cl_mem and its element offset. */
#define OCL_VIEW(t) ocl_mem((t).buf->mem), ocl_u64((cl_ulong)(t).off)

/* Sets the arguments and enqueues the kernel over `global` items (each dimension rounded up to
 * a multiple of `local`; local NULL lets the driver choose). Errors are recorded. */
void ocl_launch(ts_backend *be, ocl_kernel_id id, int dims, const size_t *global,
                const size_t *local, int nargs, const ocl_arg *args);

/* Name table of the kernel files compiled into the binary (generated from cl/ at build time,
 * NULL-terminated). */
typedef struct {
    const char *name, *text;
} ocl_embedded_source;
extern const ocl_embedded_source ocl_embedded_sources[];

/* ---- ops (opencl_ops.c, opencl_gemm.c) -------------------------------------------------- */

void ocl_fill(ts_backend *be, ts_tensor x, float value, size_t n);
void ocl_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);
void ocl_add(ts_backend *be, ts_tensor out, ts_tensor a, ts_tensor b, size_t n);
void ocl_scale(ts_backend *be, ts_tensor x, float s, size_t n);

void ocl_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
              ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
              ts_tensor C, int ldc, long stride_c, int batch);

void ocl_bias_add(ts_backend *be, ts_tensor out, ts_tensor bias, int rows, int cols);
void ocl_bias_backward(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols);

void ocl_embedding_forward(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                           int C, int V, int accumulate);
void ocl_embedding_backward(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids, int n,
                            int C, int V);

void ocl_layernorm_forward(ts_backend *be, ts_tensor out, ts_tensor mean, ts_tensor rstd,
                           ts_tensor inp, ts_tensor weight, ts_tensor bias, int N, int C,
                           float eps);
void ocl_layernorm_backward(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                            ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                            ts_tensor rstd, int N, int C);

void ocl_gelu_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n);
void ocl_gelu_backward(ts_backend *be, ts_tensor dinp, ts_tensor inp, ts_tensor dout, size_t n);
void ocl_dropout_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n, float p,
                         ts_dropout_key key);
void ocl_dropout_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, size_t n, float p,
                          ts_dropout_key key);

void ocl_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor qkv,
                           int B, int T, int NH, int HS);
void ocl_qkv_split_backward(ts_backend *be, ts_tensor dqkv, ts_tensor dq, ts_tensor dk,
                            ts_tensor dv, int B, int T, int NH, int HS);
void ocl_heads_merge_forward(ts_backend *be, ts_tensor out, ts_tensor inp, int B, int T, int NH,
                             int HS);
void ocl_heads_merge_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, int B, int T, int NH,
                              int HS);
void ocl_softmax_causal_forward(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                                float scale);
void ocl_attention_forward(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q, ts_tensor k,
                           ts_tensor v, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key);
void ocl_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                            ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q,
                            ts_tensor k, ts_tensor v, ts_tensor lse, int BH, int T, int HS,
                            float scale, float p, ts_dropout_key key);
void ocl_softmax_causal_backward(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                 int BH, int T, float scale);

void ocl_lstm_cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                           ts_tensor c_prev, int B, int H, int ld_state);
void ocl_lstm_cell_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                            ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B,
                            int H, int ld_state);

void ocl_crossentropy_forward(ts_backend *be, ts_tensor losses, ts_tensor probs, ts_tensor logits,
                              ts_tensor targets, int N, int V, int ignore_index);
void ocl_crossentropy_backward(ts_backend *be, ts_tensor dlogits, ts_tensor probs,
                               ts_tensor targets, int N, int V, int ignore_index, float scale);

void ocl_sum(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
void ocl_sum_squares(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
void ocl_adamw(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v, size_t n,
               double lr, double beta1, double beta2, double eps, double weight_decay, int t,
               float grad_scale);

/* bench peak's kernels (opencl_peak.c) */
void ocl_peak_fma(ts_backend *be, ts_tensor out, size_t items, int iters);
void ocl_peak_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);

#endif
