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

/* Every shader the backend dispatches, once: X(kernel, shader, bindings, work-group size,
 * timing family). The shader is shaders/<shader>.comp; a kernel is named like the op it serves
 * and like the OpenCL kernel of the same job (opencl_internal.h). VK_ROW_WG marks the shaders
 * that run one work-group per row; 0 takes the size from the shader's specialisation. */
#define VK_KERNELS(X)                                                                              \
    X(add, add, 3, VK_WG, elementwise)                                                             \
    X(scale, scale, 1, VK_WG, elementwise)                                                         \
    X(scale2d, scale2d, 1, VK_WG, elementwise)                                                     \
    X(gelu_forward, gelu_forward, 2, VK_WG, gelu)                                                  \
    X(gelu_backward, gelu_backward, 3, VK_WG, gelu)                                                \
    X(dropout, dropout, 2, VK_WG, dropout)                                                         \
    X(bias_add, bias_add, 2, VK_WG, bias)                                                          \
    X(colsum_partial, colsum_partial, 2, VK_WG, bias)                                              \
    X(colsum_finish, colsum_finish, 2, VK_WG, bias)                                                \
    X(embedding_forward, embedding_forward, 4, VK_WG, embedding)                                   \
    X(embedding_backward, embedding_backward, 4, VK_EMB_TILE, embedding)                           \
    X(layernorm_forward, layernorm_forward, 6, VK_ROW_WG, layernorm)                               \
    X(layernorm_backward, layernorm_backward, 6, VK_ROW_WG, layernorm)                             \
    X(layernorm_param_partial, layernorm_param_partial, 5, VK_WG, layernorm)                       \
    X(permute_heads, permute_heads, 4, VK_WG, heads)                                               \
    X(softmax_causal_forward, softmax_causal_forward, 2, VK_ROW_WG, softmax)                       \
    X(softmax_causal_backward, softmax_causal_backward, 3, VK_ROW_WG, softmax)                     \
    X(attention_forward, attention_flash_forward, 5, VK_ATT_TILE, attention)                       \
    X(attention_delta, attention_flash_delta, 3, VK_WG, attention)                                 \
    X(attention_backward_dq, attention_flash_backward_dq, 7, VK_ATT_TILE, attention)               \
    X(attention_backward_dkdv, attention_flash_backward_dkdv, 8, VK_ATT_TILE, attention)           \
    X(lstm_cell_forward, lstm_cell_forward, 5, VK_WG, lstm)                                        \
    X(lstm_cell_backward, lstm_cell_backward, 7, VK_WG, lstm)                                      \
    X(crossentropy_forward, crossentropy_forward, 5, VK_ROW_WG, crossentropy)                      \
    X(crossentropy_backward, crossentropy_backward, 4, VK_WG, crossentropy)                        \
    X(reduce_partial, reduce_partial, 2, VK_RED_WG, reduce)                                        \
    X(reduce_finish, reduce_finish, 2, VK_RED_WG, reduce)                                          \
    X(adamw, adamw, 4, VK_WG, adamw)                                                               \
    X(gemm, gemm, 3, VK_GEMM_TX, gemm)                                                             \
    X(gemm_direct, gemm_direct, 3, 0, gemm)                                                        \
    /* gemm_direct4 specialised for (trans_a, trans_b), in this order */                           \
    X(gemm_direct4_nn, gemm_direct4, 3, 0, gemm)                                                   \
    X(gemm_direct4_nt, gemm_direct4, 3, 0, gemm)                                                   \
    X(gemm_direct4_tn, gemm_direct4, 3, 0, gemm)                                                   \
    X(gemm_direct4_tt, gemm_direct4, 3, 0, gemm)                                                   \
    X(peak_fma, peak_fma, 1, VK_WG, peak)                                                          \
    X(peak_copy, peak_copy, 2, VK_WG, peak)                                                        \
    /* fused ops (vulkan_fused.c) */                                                               \
    X(residual_layernorm_forward, residual_layernorm_forward, 9, VK_ROW_WG, layernorm)             \
    X(layernorm_backward_dropout, layernorm_backward_dropout, 9, VK_ROW_WG, layernorm)             \
    X(bias_gelu_dropout_forward, bias_gelu_dropout_forward, 3, VK_WG, gelu)                        \
    X(gelu_dropout_backward_bias, gelu_dropout_backward_bias, 4, VK_WG, gelu)                      \
    X(crossentropy_fused, crossentropy_fused, 5, VK_ROW_WG, crossentropy)                          \
    X(bias_qkv_split_forward, bias_qkv_split_forward, 5, VK_WG, heads)                             \
    X(qkv_split_backward_bias, qkv_split_backward_bias, 5, VK_WG, heads)
typedef enum {
#define VK_KERNEL_ID(k, shader, bindings, wg, family) VK_K_##k,
    VK_KERNELS(VK_KERNEL_ID)
#undef VK_KERNEL_ID
        VK_K_COUNT
} vk_kernel_id;

#define VK_MAX_BINDINGS 9 /* the fused LayerNorm shaders bind nine views */
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

/* Op families of the device-time split (`bench step --json` op_time_ms keys), in order. */
#define VK_FAMILIES(X)                                                                             \
    X(transfer) /* fills, copies, inline uploads: every command that is not a dispatch */          \
    X(gemm)                                                                                        \
    X(softmax)                                                                                     \
    X(attention)                                                                                   \
    X(heads)                                                                                       \
    X(layernorm)                                                                                   \
    X(gelu) X(dropout) X(elementwise) X(bias) X(embedding) X(lstm) X(crossentropy) X(reduce)       \
        X(adamw) X(peak)
typedef enum {
#define VK_FAMILY_ID(f) VK_FAM_##f,
    VK_FAMILIES(VK_FAMILY_ID)
#undef VK_FAMILY_ID
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

/* ---- ops (vulkan_ops.c, _gemm.c, _peak.c): one per entry of ops.def, checked by the frontend */

#define TS_OP(name, exempt, check, ...) void vk_##name(ts_backend *be, TS_OP_PARAMS(__VA_ARGS__));
#include "backends/ops.def"
#undef TS_OP

#endif
