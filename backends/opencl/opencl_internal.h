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
#include "backends/op_launch.h"

struct ts_buffer {
    cl_mem mem;
    size_t bytes; /* bytes asked at allocation (the cl_mem is at least 4 bytes) */
};

/* Kernel files (cl/<name>.cl): one program each, built on first use. */
#define OCL_PROGRAMS(X)                                                                            \
    X(elementwise)                                                                                 \
    X(bias)                                                                                        \
    X(embedding)                                                                                   \
    X(layernorm)                                                                                   \
    X(attention)                                                                                   \
    X(lstm)                                                                                        \
    X(loss) X(reduce) X(optim) X(peak) X(attention_flash) X(lstm_step) X(fused) X(lstm_split)
typedef enum {
#define OCL_PROGRAM_ID(p) OCL_P_##p,
    OCL_PROGRAMS(OCL_PROGRAM_ID)
#undef OCL_PROGRAM_ID
        OCL_P_COUNT
} ocl_program_id;

/* Every kernel the backend launches, once: X(kernel, program). The kernel is the function
 * ts_<kernel> in cl/<program>.cl, named like the op it serves and like the Vulkan shader of
 * the same job (vulkan_internal.h). The kernels of the ops in op_launch.h come after these
 * (OCL_OP_KERNEL). */
#define OCL_KERNELS(X)                                                                             \
    X(scale, elementwise)                                                                          \
    X(scale2d, elementwise)                                                                        \
    X(dropout, elementwise)                                                                        \
    X(colsum_partial, bias)                                                                        \
    X(colsum_finish, bias)                                                                         \
    X(embedding_forward, embedding)                                                                \
    X(embedding_backward, embedding)                                                               \
    X(layernorm_backward, layernorm)                                                               \
    X(layernorm_param_partial, layernorm)                                                          \
    X(permute_heads, attention)                                                                    \
    X(softmax_causal_forward, attention)                                                           \
    X(softmax_causal_backward, attention)                                                          \
    X(attention_forward, attention_flash)                                                          \
    X(attention_delta, attention_flash)                                                            \
    X(attention_backward_dq, attention_flash)                                                      \
    X(attention_backward_dkdv, attention_flash)                                                    \
    X(lstm_step_forward, lstm_step)                                                                \
    X(lstm_step_forward_items, lstm_step)                                                          \
    X(lstm_step_backward, lstm_step)                                                               \
    X(lstm_split_forward, lstm_step)                                                               \
    X(lstm_split_backward, lstm_step)                                                              \
    X(lstm_split_partial, lstm_split)                                                              \
    X(crossentropy_forward, loss)                                                                  \
    X(crossentropy_backward, loss)                                                                 \
    X(reduce_partial, reduce)                                                                      \
    X(reduce_finish, reduce)                                                                       \
    X(grad_gate, optim)                                                                            \
    X(adamw, optim)                                                                                \
    X(peak_fma, peak)                                                                              \
    X(peak_copy, peak)                                                                             \
    X(residual_layernorm_forward, fused)                                                           \
    X(layernorm_backward_dropout, fused)                                                           \
    X(bias_gelu_dropout_forward, fused)                                                            \
    X(gelu_dropout_backward_bias, fused)                                                           \
    X(crossentropy_fused, fused)                                                                   \
    X(bias_qkv_split_forward, fused)                                                               \
    X(qkv_split_backward_bias, fused)
/* For TS_OP_LAUNCH over ops.def: X(op, program) for each op of op_launch.h. */
#define OCL_OP_KERNEL(X, name, grid, program, family, ...) X(name, program)
typedef enum {
#define OCL_KERNEL_ID(k, program) OCL_K_##k,
    OCL_KERNELS(OCL_KERNEL_ID)
#define TS_OP(name, exempt, check, ...)                                                            \
    TS_OP_LAUNCH(OCL_OP_KERNEL, OCL_KERNEL_ID, name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP
#undef OCL_KERNEL_ID
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
#define OCL_BAD_EMBEDDING_ID TS_BAD_EMBEDDING_ID
#define OCL_BAD_TARGET       TS_BAD_TARGET

/* Uploads return at once: the bytes are copied into one of these backend-owned host areas and
 * written without blocking; an area is reused once its write has completed. */
#define OCL_STAGING_SLOTS 8
#define OCL_STAGING_MAX   ((size_t)64 << 20) /* larger uploads block instead of doubling memory */
typedef struct {
    void *host;
    size_t cap;
    cl_event done; /* the write reading it; NULL when idle */
} ocl_staging;

/* Downloads in flight (download_start .. download_wait), each with its own copy of the status
 * word read just before its data. */
#define OCL_READS 4
typedef struct {
    void *dst; /* NULL: the slot is free */
    cl_event done;
    cl_int status_word;
} ocl_read;

/* Device time per op family from profiling events (TUNESCALE_CL_PROFILE=1; `bench step --json`
 * sets it): one event per launch, read back by the timings hook. */
typedef struct {
    cl_event *events;
    unsigned char *family; /* an index into ocl_family_names */
    size_t n, cap;
    double ms[24]; /* per entry of opencl_timing.c's family table */
} ocl_profile;

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
    cl_mem status;      /* one int: the first bad-data code, 0 when clean */
    cl_int status_host; /* where a download reads the status word beside its data */
    ocl_staging staging[OCL_STAGING_SLOTS];
    ocl_read reads[OCL_READS];
    int profiling; /* the queue has CL_QUEUE_PROFILING_ENABLE */
    ocl_profile prof;
    cl_mem scratch; /* partial sums; grown on demand, one user at a time (in-order queue) */
    size_t scratch_bytes;
    char device_name[256];
    char clblast_note[128];
    struct ocl_gemm_state *gemm; /* opencl_gemm.c: plan, tiled programs, CLBlast temp buffer */
    struct ocl_lstm_persistent *lstm_persistent; /* opencl_lstm_persistent.c; NULL until used */
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

/* Records the first error of the stream (printf format; later ones are dropped) as TS_ENOMEM
 * when oom is set, else TS_ERR. */
#define ocl_fail(be, oom, ...) ts_backend_fail((be), (oom) ? TS_ENOMEM : TS_ERR, __VA_ARGS__)
/* Records a failed OpenCL call (ts_backend_fail_call with its CL_ERROR_NAME). */
/* Accepts --precision p at creation or says why this device cannot (opencl_gemm_lowp.c). */
ts_status ocl_precision_init(ts_backend *be, ts_precision p);
void ocl_fail_call(ts_backend *be, const char *call, const char *op, cl_int err);

/* A device scratch buffer of at least `bytes`, or NULL with an error recorded. */
cl_mem ocl_scratch(ts_backend *be, size_t bytes);
/* Enqueues fills of `bytes` bytes at byte `offset` with `value`, in pieces small enough for
 * every driver; returns the first failure. */
cl_int ocl_fill_bytes(ocl_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, cl_float value);

/* ---- programs and launches (opencl_program.c) ------------------------------------------ */

/* The kernel, building (or loading from the disk cache) its program on first use; NULL with an
 * error recorded on failure. */
cl_kernel ocl_kernel(ts_backend *be, ocl_kernel_id id);
void ocl_release_programs(ocl_ctx *ctx);
/* cl/<name>.cl built with the backend's options plus `extra_options` (through the disk cache),
 * owned by the caller: variants of one file (the tiled GEMM's tile shapes). NULL on failure. */
cl_program ocl_build_variant(ts_backend *be, const char *name, const char *extra_options);
/* Releases the GEMM path's programs and buffers (opencl_gemm.c). */
void ocl_gemm_release(ocl_ctx *ctx);
/* Releases the persistent LSTM kernel's program and buffers (opencl_lstm_persistent.c). */
void ocl_lstm_persistent_release(ocl_ctx *ctx);
/* The split-K sequence path (opencl_lstm_split.c): 1 with its kernels when it runs this
 * problem, its choice recorded (backends/lstm_sequence.h). */
struct ts_lstm_split_kernels;
int ocl_lstm_split_on(ts_backend *be, int H, const struct ts_lstm_split_kernels **k);

/* Kernel arguments: a tagged list so that one call sets them all and names the kernel on
 * failure. Each kind once: X(constructor and union member, type). */
#define OCL_ARG_KINDS(X)                                                                           \
    X(mem, cl_mem) X(u64, cl_ulong) X(u32, cl_uint) X(i32, cl_int) X(f32, cl_float)
typedef enum {
#define OCL_ARG_KIND(m, type) OCL_ARG_##m,
    OCL_ARG_KINDS(OCL_ARG_KIND)
#undef OCL_ARG_KIND
} ocl_arg_kind;
typedef struct {
    ocl_arg_kind kind;
    union {
#define OCL_ARG_MEMBER(m, type) type m;
        OCL_ARG_KINDS(OCL_ARG_MEMBER)
#undef OCL_ARG_MEMBER
    } v; /* every member at offset 0: clSetKernelArg takes &v and the member's size */
} ocl_arg;

/* ocl_mem(cl_mem), ocl_u64(cl_ulong), ... */
#define OCL_ARG_CONSTRUCTOR(m, type)                                                               \
    static inline ocl_arg ocl_##m(type x) {                                                        \
        return (ocl_arg){.kind = OCL_ARG_##m, .v.m = x};                                           \
    }
OCL_ARG_KINDS(OCL_ARG_CONSTRUCTOR)
#undef OCL_ARG_CONSTRUCTOR

/* A view as two arguments: its cl_mem and its element offset. */
#define OCL_VIEW(t) ocl_mem((t).buf->mem), ocl_u64((cl_ulong)(t).off)
/* A dropout mask as the kernels take it: thr, scale, then the key (d from ts_dropout_words_of;
 * the offset as a whole ulong). */
#define OCL_DROPOUT_ARGS(d, key)                                                                   \
    ocl_u32((d).thr), ocl_f32((d).scale), ocl_u32((d).seed_lo), ocl_u32((d).seed_hi),              \
        ocl_u32((d).step), ocl_u32((d).tensor_id), ocl_u64((cl_ulong)(key).offset),                \
        ocl_u32((d).span), ocl_u32((d).stride)

/* Sets the arguments and enqueues the kernel over `global` items (each dimension rounded up to
 * a multiple of `local`; local NULL lets the driver choose). Errors are recorded. */
void ocl_launch(ts_backend *be, ocl_kernel_id id, int dims, const size_t *global,
                const size_t *local, int nargs, const ocl_arg *args);
/* The same for a kernel the caller built itself (a build variant: the tiled GEMM); `name` names
 * it in errors and is its profiling family. */
void ocl_enqueue_kernel(ts_backend *be, cl_kernel k, const char *name, int dims,
                        const size_t *global, const size_t *local, int nargs, const ocl_arg *args);

/* One item per (hidden unit, batch row) over H x B, in the fused step's work-group shape. */
void ocl_lstm_launch_units(ts_backend *be, ocl_kernel_id id, int B, int H, int nargs,
                           const ocl_arg *args);

/* ---- profiling (opencl_timing.c) --------------------------------------------------------- */

/* The event slot for a command of op family `family` ("gemm", or a kernel's name: the family
 * is taken from it), or NULL when profiling is off (pass it as the enqueue's event). */
cl_event *ocl_profile_event(ts_backend *be, const char *family);
/* The iface timings hook: {"family": ms, ...} since the last call (backend.h). */
/* Forgets the slot ocl_profile_event last gave out (its enqueue failed: no event was made). */
void ocl_profile_drop_last(ts_backend *be);
size_t ocl_timings(ts_backend *be, char *json, size_t cap);
void ocl_profile_free(ocl_ctx *ctx);

/* Name table of the kernel files compiled into the binary (generated from cl/ at build time,
 * NULL-terminated). */
typedef struct {
    const char *name, *text;
} ocl_embedded_source;
extern const ocl_embedded_source ocl_embedded_sources[];

/* ---- ops (opencl_ops.c, _gemm.c, _peak.c): one per entry of ops.def, checked by the frontend */

#define TS_OP(name, exempt, check, ...) void ocl_##name(ts_backend *be, TS_OP_PARAMS(__VA_ARGS__));
#include "backends/ops.def"
#undef TS_OP

#endif
