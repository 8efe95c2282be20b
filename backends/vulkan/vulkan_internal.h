/*
 * vulkan_internal.h — private declarations shared by the Vulkan backend's files.
 *
 * One device, one compute queue, one command buffer that ops are RECORDED into: a dispatch
 * per op, each followed by a global memory barrier, submitted only at sync, before a download,
 * before a large upload, or when the descriptor pool runs out. So a training step costs one or
 * a few submissions. A buffer is its own VkBuffer bound inside a large shared VkDeviceMemory
 * block (vulkan_memory.c); a view is (buffer, element offset): the whole buffer is bound as a
 * storage buffer and the offset travels in the push constants. Every op validates its views on the
 * host first, so a bad view records an error instead of a wild device write.
 */
#ifndef TS_BACKENDS_VULKAN_VULKAN_INTERNAL_H
#define TS_BACKENDS_VULKAN_VULKAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "backends/backend.h"

typedef struct vk_block vk_block;

struct ts_buffer {
    VkBuffer buf;
    vk_block *block;           /* the VkDeviceMemory block it is bound in */
    VkDeviceSize offset, span; /* its aligned range there */
    void *mapped;              /* non-NULL when the memory is host-visible and coherent */
    size_t bytes;              /* bytes asked at allocation */
    size_t size; /* bytes of the VkBuffer (rounded up to whole elements, at least 4) */
};

/* Every shader the backend dispatches; vk_kernel_table (vulkan_pipeline.c) names each one
 * (the .comp file's base name), its binding count and its work-group size. */
typedef enum {
    VK_K_ADD,
    VK_K_SCALE,
    VK_K_SCALE2D,
    VK_K_GELU_FORWARD,
    VK_K_GELU_BACKWARD,
    VK_K_DROPOUT,
    VK_K_BIAS_ADD,
    VK_K_COLSUM_PARTIAL,
    VK_K_COLSUM_FINISH,
    VK_K_EMBEDDING_FORWARD,
    VK_K_EMBEDDING_BACKWARD,
    VK_K_LAYERNORM_FORWARD,
    VK_K_LAYERNORM_BACKWARD,
    VK_K_LAYERNORM_PARAM_PARTIAL,
    VK_K_PERMUTE_HEADS,
    VK_K_SOFTMAX_FORWARD,
    VK_K_SOFTMAX_BACKWARD,
    VK_K_LSTM_FORWARD,
    VK_K_LSTM_BACKWARD,
    VK_K_CE_FORWARD,
    VK_K_CE_BACKWARD,
    VK_K_REDUCE_PARTIAL,
    VK_K_REDUCE_FINISH,
    VK_K_ADAMW,
    VK_K_GEMM,
    VK_K_GEMM_DIRECT,
    VK_K_GEMM_DIRECT4_NN, /* gemm_direct4 specialised for (trans_a, trans_b) */
    VK_K_GEMM_DIRECT4_NT,
    VK_K_GEMM_DIRECT4_TN,
    VK_K_GEMM_DIRECT4_TT,
    VK_K_PEAK_FMA,
    VK_K_PEAK_COPY,
    /* fused attention (attention_flash_*.comp) */
    VK_K_ATT_FORWARD,
    VK_K_ATT_DELTA,
    VK_K_ATT_BACKWARD_DQ,
    VK_K_ATT_BACKWARD_DKDV,
    VK_K_COUNT
} vk_kernel_id;

#define VK_MAX_BINDINGS 8
#define VK_WG           64  /* 1-D elementwise shaders */
#define VK_ROW_WG       128 /* one work-group per row (LayerNorm, softmax, cross-entropy) */
#define VK_ROW_WG_CPU   16  /* the same on CPU devices (vk_ctx.row_wg) */
#define VK_RED_WG       64  /* reduction work-group: fixed, so sums round the same everywhere */
#define VK_RED_GROUPS   256
#define VK_COLSUM_ROWS  64 /* rows per partial in the column sums (as the CPU backend) */
#define VK_ATT_TILE     32 /* fused attention: rows per tile (== its work-group) */
#define VK_EMB_TILE     64
#define VK_GEMM_TX      16
#define VK_GEMM_TY      16
#define VK_GEMM_BM      (VK_GEMM_TY * 4)
#define VK_GEMM_BN      (VK_GEMM_TX * 4)
/* gemm_direct.comp's register block (compiled in: RM, RN there) and default work-group */
#define VK_GEMM_DIRECT_RM 8
#define VK_GEMM_DIRECT_RN 8
#define VK_GEMM_DIRECT_WG 8
/* gemm_direct4.comp's block: RM rows x RN4 groups of 4 columns per invocation */
#define VK_GEMM_DIRECT4_RM  8
#define VK_GEMM_DIRECT4_RN4 2

/* Status-word codes (shaders/common.glsl). */
#define VK_BAD_EMBEDDING_ID 1
#define VK_BAD_TARGET       2

/* Descriptor sets per recording; past this the stream is flushed and the pool reset. */
#define VK_SETS_PER_POOL 2048

/* Timestamp queries per recording (TUNESCALE_VK_TIMESTAMPS=1): one per recorded command plus
 * the start; vk_cmd flushes early when fewer than VK_TS_SLACK are left. */
#define VK_TS_QUERIES 8192
#define VK_TS_SLACK   16

/* Op families of the device-time split (vulkan_timing.c names them). */
typedef enum {
    VK_FAM_TRANSFER, /* fills, copies, inline uploads: every command that is not a dispatch */
    VK_FAM_GEMM,
    VK_FAM_SOFTMAX,
    VK_FAM_HEADS,
    VK_FAM_LAYERNORM,
    VK_FAM_GELU,
    VK_FAM_DROPOUT,
    VK_FAM_ELEMENTWISE,
    VK_FAM_BIAS,
    VK_FAM_EMBEDDING,
    VK_FAM_LSTM,
    VK_FAM_LOSS,
    VK_FAM_REDUCE,
    VK_FAM_ADAMW,
    VK_FAM_PEAK,
    VK_FAM_COUNT
} vk_family;

typedef struct {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    uint32_t mem_type;     /* for buffers */
    uint32_t staging_type; /* host-visible coherent, for the staging buffer */
    int direct_map;        /* buffers are host-visible coherent: map them, no staging */
    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    int recording;   /* cmd is begun */
    uint32_t n_cmds; /* commands recorded since the last submission */
    VkDescriptorPool desc_pool;
    uint32_t sets_used;
    VkDescriptorSetLayout set_layouts[VK_MAX_BINDINGS + 1]; /* by binding count */
    VkPipelineLayout pipe_layouts[VK_MAX_BINDINGS + 1];
    VkPipelineCache pipeline_cache;
    VkShaderModule modules[VK_K_COUNT];
    VkPipeline pipelines[VK_K_COUNT];
    ts_buffer *status;  /* one int: the first bad-data code, 0 when clean */
    ts_buffer *scratch; /* partial sums; one user at a time (barriers order the stream) */
    ts_buffer *staging; /* host-visible, for transfers when buffers are not mappable */
    ts_buffer **doomed; /* buffers freed while referenced by recorded commands */
    size_t n_doomed, cap_doomed;
    vk_block *blocks;             /* every live memory block (vulkan_memory.c) */
    uint32_t n_allocations;       /* live vkAllocateMemory count, against the device's cap */
    VkDeviceSize block_bytes;     /* the usual block size */
    VkDeviceSize max_alloc_bytes; /* maxMemoryAllocationSize */
    /* TUNESCALE_VK_TIMESTAMPS=1 on a queue with timestamps: a timestamp after every recorded
     * command, differenced per family at each flush (ts_pool is VK_NULL_HANDLE otherwise) */
    VkQueryPool ts_pool;
    uint32_t ts_valid_bits; /* of the queue family; 0: no timestamps */
    uint32_t ts_used;       /* queries written in this recording */
    uint8_t ts_next;        /* vk_family of the command the next vk_barrier closes */
    uint8_t ts_family[VK_TS_QUERIES];
    uint64_t ts_values[VK_TS_QUERIES];
    double ts_ms[VK_FAM_COUNT];
    char cache_path[4096];
    /* TUNESCALE_VK_PROFILE=1: each dispatch is submitted alone and timed on the host (a CPU
     * device such as lavapipe runs it in the submit), summed per kernel, printed at destroy */
    int profile;
    /* GEMM shader: 0 tiled (gemm.comp, GPUs), 1 direct (gemm_direct.comp, CPU devices), with
     * its specialization constants; TUNESCALE_VK_GEMM=tiled|direct[:WG] overrides */
    int gemm_direct;
    /* work-group size of the one-group-per-row shaders (VK_ROW_WG, smaller on CPU devices,
     * where every barrier of the group's reductions is a coroutine switch per SIMD batch) */
    uint32_t row_wg;
    uint32_t gemm_spec[3];
    /* bytes one storage-buffer binding may span: maxStorageBufferRange rounded down to 16,
     * lowered by TUNESCALE_VK_MAX_RANGE (for tests), and the grid limit of x and y */
    VkDeviceSize max_range;
    uint32_t max_groups;
    double prof_seconds[VK_K_COUNT];
    unsigned long prof_calls[VK_K_COUNT];
    char device_name[256];
    char driver[128];
} vk_ctx;

static inline vk_ctx *vk_ctx_of(ts_backend *be) {
    return (vk_ctx *)be->ctx;
}

/* ---- errors and the stream (vulkan_backend.c) -------------------------------------------- */

const char *vk_result_str(VkResult r);
/* Records the first error of the stream; later ones are dropped. */
void vk_fail(ts_backend *be, int oom, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a failed call: "<call> (<op>): <VK_RESULT_NAME>"; out-of-memory codes -> TS_ENOMEM. */
void vk_fail_call(ts_backend *be, const char *call, const char *op, VkResult r);
/* 1 if view t holds n elements within its buffer (and offsets fit the shaders' 32-bit
 * indices), else records an error and returns 0. */
int vk_view_ok(ts_backend *be, ts_tensor t, size_t n, const char *op, const char *arg);
/* The command buffer, begun if needed; NULL with an error recorded. */
VkCommandBuffer vk_cmd(ts_backend *be);
/* A global compute/transfer -> compute/transfer barrier after the last recorded command. */
void vk_barrier(ts_backend *be);
/* Submits what was recorded and waits; recycles descriptor sets and doomed buffers. */
void vk_flush(ts_backend *be);
/* A device scratch buffer of at least `bytes`, or NULL with an error recorded. */
ts_buffer *vk_scratch(ts_backend *be, size_t bytes);

static inline int is_vk_oom(VkResult r) {
    return r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY;
}

/* ---- memory (vulkan_memory.c) ------------------------------------------------------------ */

/* Reads the allocation limits; call once the physical device is known. */
void vk_mem_init(vk_ctx *ctx);
/* A buffer of `bytes` (rounded to whole elements) sub-allocated in the buffer memory type, or
 * the staging type when `staging` is set; mapped when that type is host-visible and coherent
 * (and the device maps buffers, or it is staging). On failure `call` names the failed call. */
VkResult vk_mem_buffer(vk_ctx *ctx, size_t bytes, int staging, ts_buffer **out, const char **call);
/* Frees at once: the caller knows no pending command uses it. */
void vk_mem_free(vk_ctx *ctx, ts_buffer *b);
/* Releases every block (at destroy, after every buffer is freed). */
void vk_mem_destroy(vk_ctx *ctx);

/* ---- device timestamps (vulkan_timing.c) ------------------------------------------------- */

/* Creates the query pool when TUNESCALE_VK_TIMESTAMPS=1 and the queue has timestamps. */
ts_status vk_ts_init(ts_backend *be);
void vk_ts_destroy(vk_ctx *ctx);
/* At the start of a recording: resets the pool and writes the start timestamp. */
void vk_ts_begin(vk_ctx *ctx, VkCommandBuffer cmd);
/* After a recorded command: a timestamp that closes it, counted for ctx->ts_next. */
void vk_ts_mark(vk_ctx *ctx);
/* After a flush's fence: folds this recording's timestamps into ts_ms. */
void vk_ts_collect(vk_ctx *ctx);
/* The family a kernel's dispatches count for. */
vk_family vk_kernel_family(vk_kernel_id id);
/* ts_backend_iface.timings */
size_t vk_timings(ts_backend *be, char *json, size_t cap);

/* ---- pipelines and dispatches (vulkan_pipeline.c) --------------------------------------- */

ts_status vk_pipelines_init(ts_backend *be);
void vk_pipelines_destroy(vk_ctx *ctx);
/* Prints the per-kernel times to stderr when profiling. */
void vk_profile_report(vk_ctx *ctx);
/* Saves the pipeline cache (atomically) if it has a path. */
void vk_pipeline_cache_save(vk_ctx *ctx);

/*
 * One binding of a dispatch. Each is bound as a window of its buffer, never the whole buffer:
 * a storage-buffer descriptor may span at most maxStorageBufferRange bytes (4 GiB on NVIDIA,
 * 128 MiB on lavapipe), and a larger buffer bound whole (the activations of a big model) made
 * every view past the limit read and write the wrong memory. The window starts at the view,
 * rounded down to the offset alignment, and the view's offset word in the push constants is
 * rebased to it.
 */
typedef struct {
    ts_buffer *buf;
    const uint32_t *off; /* the word of the dispatch's push constants that holds the view's
                          * offset, in units of `unit` bytes; NULL: bound from 0 */
    size_t n;            /* units the shader may touch from the offset; 0: the whole buffer */
    uint32_t unit;       /* bytes per offset unit; 0 means 4 (a float) */
} vk_arg;

/* A view of n floats whose offset is push word *off. */
#define VK_ARG(b, off_word, count) ((vk_arg){(b), &(off_word), (count), 0})
/* A buffer the shader indexes from 0 (scratch, status). */
#define VK_WHOLE(b) ((vk_arg){(b), NULL, 0, 0})

/* Records one dispatch of kernel `id` with the given bindings (bound in order) and push
 * constants, over `groups` work-groups, then a barrier. groups_z is for gemm's batch. */
void vk_dispatch(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs, const void *push,
                 size_t push_bytes, uint32_t groups_x, uint32_t groups_y, uint32_t groups_z);
/* The work-group size kernel `id` is built and dispatched with. */
uint32_t vk_kernel_wg(const vk_ctx *ctx, vk_kernel_id id);
/* 1-D: enough groups of the kernel's work-group size for `items` items (folded into x and y
 * when over the device's group-count limit). */
void vk_dispatch_items(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs,
                       const void *push, size_t push_bytes, size_t items);

typedef struct {
    const char *name;
    int bindings;
    uint32_t wg;
} vk_kernel_info;
extern const vk_kernel_info vk_kernel_table[VK_K_COUNT];

typedef struct {
    const char *name;
    const uint32_t *code;
    size_t bytes;
} vk_embedded_shader;
extern const vk_embedded_shader vk_embedded_shaders[];

/* ---- ops (vulkan_ops.c, vulkan_gemm.c) -------------------------------------------------- */

void vk_fill(ts_backend *be, ts_tensor x, float value, size_t n);
void vk_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);
void vk_add(ts_backend *be, ts_tensor out, ts_tensor a, ts_tensor b, size_t n);
void vk_scale(ts_backend *be, ts_tensor x, float s, size_t n);
void vk_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
             ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
             ts_tensor C, int ldc, long stride_c, int batch);
void vk_bias_add(ts_backend *be, ts_tensor out, ts_tensor bias, int rows, int cols);
void vk_bias_backward(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols);
void vk_embedding_forward(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                          int C, int V, int accumulate);
void vk_embedding_backward(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids, int n,
                           int C, int V);
void vk_layernorm_forward(ts_backend *be, ts_tensor out, ts_tensor mean, ts_tensor rstd,
                          ts_tensor inp, ts_tensor weight, ts_tensor bias, int N, int C, float eps);
void vk_layernorm_backward(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                           ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                           ts_tensor rstd, int N, int C);
void vk_gelu_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n);
void vk_gelu_backward(ts_backend *be, ts_tensor dinp, ts_tensor inp, ts_tensor dout, size_t n);
void vk_dropout_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n, float p,
                        ts_dropout_key key);
void vk_dropout_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, size_t n, float p,
                         ts_dropout_key key);
void vk_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor qkv,
                          int B, int T, int NH, int HS);
void vk_qkv_split_backward(ts_backend *be, ts_tensor dqkv, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                           int B, int T, int NH, int HS);
void vk_heads_merge_forward(ts_backend *be, ts_tensor out, ts_tensor inp, int B, int T, int NH,
                            int HS);
void vk_heads_merge_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, int B, int T, int NH,
                             int HS);
void vk_softmax_causal_forward(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                               float scale);
void vk_attention_forward(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q, ts_tensor k,
                          ts_tensor v, int BH, int T, int HS, float scale, float p,
                          ts_dropout_key key);
void vk_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                           ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q, ts_tensor k,
                           ts_tensor v, ts_tensor lse, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key);
void vk_softmax_causal_backward(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                int BH, int T, float scale);
void vk_lstm_cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                          ts_tensor c_prev, int B, int H, int ld_state);
void vk_lstm_cell_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                           ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B, int H,
                           int ld_state);
void vk_crossentropy_forward(ts_backend *be, ts_tensor losses, ts_tensor probs, ts_tensor logits,
                             ts_tensor targets, int N, int V, int ignore_index);
void vk_crossentropy_backward(ts_backend *be, ts_tensor dlogits, ts_tensor probs, ts_tensor targets,
                              int N, int V, int ignore_index, float scale);
void vk_sum(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
void vk_sum_squares(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
void vk_adamw(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v, size_t n,
              double lr, double beta1, double beta2, double eps, double weight_decay, int t,
              float grad_scale);
void vk_peak_fma(ts_backend *be, ts_tensor out, size_t items, int iters);
void vk_peak_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);

#endif
