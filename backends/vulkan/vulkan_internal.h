/*
 * vulkan_internal.h — private declarations shared by the Vulkan backend's files.
 *
 * One device, one compute queue, and a stream (vulkan_stream.c): ops are RECORDED into a ring
 * of command buffers and submitted without waiting, at a download or a sync; the host waits
 * only for the submission that holds the work a download needs (or for everything at sync).
 * Dispatches are ordered by compute->compute barriers, transfers by transfer barriers around
 * them; descriptor sets are cached per (layout, views) (vulkan_descriptors.c). A buffer is its own
 * VkBuffer bound inside a large shared VkDeviceMemory block (vulkan_memory.c); a view is (buffer,
 * element offset): the whole buffer is bound as a storage buffer and the offset travels in the push
 * constants. Every op validates its views on the host first, so a bad view records an error instead
 * of a wild device write.
 */
#ifndef TS_BACKENDS_VULKAN_VULKAN_INTERNAL_H
#define TS_BACKENDS_VULKAN_VULKAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "backends/backend.h"
#include "backends/gemm_plan.h"
#include "backends/op_launch.h"

typedef struct vk_block vk_block;

struct ts_buffer {
    VkBuffer buf;
    vk_block *block;           /* the VkDeviceMemory block it is bound in */
    VkDeviceSize offset, span; /* its aligned range there */
    void *mapped;              /* non-NULL when the memory is host-visible and coherent */
    size_t bytes;              /* bytes asked at allocation */
    size_t size;         /* bytes of the VkBuffer (rounded up to whole elements, at least 4) */
    uint64_t id;         /* unique for the backend's life: descriptor-cache key (handles recur) */
    uint64_t use_serial; /* the last submission (serial) whose commands use it; 0: none */
};

/* gemm_direct4's register blocks (rows x groups of 4 columns per invocation), one shader
 * shaders/gemm_direct4_<RM>x<RN4>.comp each: the built-in variants the tuner chooses from on
 * CPU devices (gemm_plan.h's choice.variant indexes this list; 0, 8x2, is the untuned
 * default). On lavapipe 16x2 is 5-15% faster than 8x2 on most shapes; 8x4 and 4x4 may suit
 * narrow or transposed products. Kernels: one per block and (trans_a, trans_b), in order. */
#define VK_GEMM_DIRECT4_BLOCKS(B, X) B(X, 8, 2) B(X, 16, 2) B(X, 8, 4) B(X, 4, 4)
#define VK_GEMM_DIRECT4_KERNELS(X, rm, rn4)                                                        \
    X(gemm_direct4_##rm##x##rn4##_nn, gemm_direct4_##rm##x##rn4, 3, 0, gemm)                       \
    X(gemm_direct4_##rm##x##rn4##_nt, gemm_direct4_##rm##x##rn4, 3, 0, gemm)                       \
    X(gemm_direct4_##rm##x##rn4##_tn, gemm_direct4_##rm##x##rn4, 3, 0, gemm)                       \
    X(gemm_direct4_##rm##x##rn4##_tt, gemm_direct4_##rm##x##rn4, 3, 0, gemm)
#define VK_GEMM_DIRECT4_COUNT_ONE(X, rm, rn4) +1
#define VK_GEMM_DIRECT4_VARIANTS              (0 VK_GEMM_DIRECT4_BLOCKS(VK_GEMM_DIRECT4_COUNT_ONE, _))
/* gemm_tiled, one kernel per tile of ts_gemm_tiles (gemm_plan.h; vulkan_gemm.c checks the count) */
#define VK_GEMM_TILED_KERNELS(X, name)                                                             \
    X(name##_0, gemm_tiled, 5, 0, gemm)                                                            \
    X(name##_1, gemm_tiled, 5, 0, gemm)                                                            \
    X(name##_2, gemm_tiled, 5, 0, gemm)                                                            \
    X(name##_3, gemm_tiled, 5, 0, gemm)                                                            \
    X(name##_4, gemm_tiled, 5, 0, gemm)                                                            \
    X(name##_5, gemm_tiled, 5, 0, gemm)

/* Every shader the backend dispatches, once: X(kernel, shader, bindings, work-group size,
 * timing family). The shader is shaders/<shader>.comp; a kernel is named like the op it serves
 * and like the OpenCL kernel of the same job (opencl_internal.h). VK_ROW_WG marks the shaders
 * that run one work-group per row; 0 takes the size from the shader's specialisation. The
 * shaders of the ops in op_launch.h come after these (VK_OP_KERNEL). */
#define VK_KERNELS(X)                                                                              \
    X(scale, scale, 1, VK_WG, elementwise)                                                         \
    X(scale2d, scale2d, 1, VK_WG, elementwise)                                                     \
    X(dropout, dropout, 2, VK_WG, dropout)                                                         \
    X(colsum_partial, colsum_partial, 2, VK_WG, bias)                                              \
    X(colsum_finish, colsum_finish, 2, VK_WG, bias)                                                \
    X(embedding_forward, embedding_forward, 4, VK_WG, embedding)                                   \
    X(embedding_backward, embedding_backward, 4, VK_EMB_TILE, embedding)                           \
    X(layernorm_backward, layernorm_backward, 6, VK_ROW_WG, layernorm)                             \
    X(layernorm_param_partial, layernorm_param_partial, 5, VK_WG, layernorm)                       \
    X(permute_heads, permute_heads, 4, VK_WG, heads)                                               \
    X(softmax_causal_forward, softmax_causal_forward, 2, VK_ROW_WG, softmax)                       \
    X(softmax_causal_backward, softmax_causal_backward, 3, VK_ROW_WG, softmax)                     \
    X(attention_forward, attention_flash_forward, 5, VK_ATT_TILE, attention)                       \
    X(attention_delta, attention_flash_delta, 3, VK_WG, attention)                                 \
    X(attention_backward_dq, attention_flash_backward_dq, 7, VK_ATT_TILE, attention)               \
    X(attention_backward_dkdv, attention_flash_backward_dkdv, 8, VK_ATT_TILE, attention)           \
    X(lstm_step_forward, lstm_step_forward, 9, VK_WG, lstm)                                        \
    X(lstm_step_forward_items, lstm_step_forward_items, 9, VK_LSTM_ITEMS_WG, lstm)                 \
    X(lstm_step_forward_items4, lstm_step_forward_items4, 9, VK_LSTM_ITEMS_WG, lstm)               \
    X(lstm_step_backward, lstm_step_backward, 9, VK_WG, lstm)                                      \
    X(lstm_step_backward_items, lstm_step_backward_items, 9, VK_LSTM_ITEMS_WG, lstm)               \
    X(lstm_step_backward_items4, lstm_step_backward_items4, 9, VK_LSTM_ITEMS_WG, lstm)             \
    X(lstm_persistent_forward, lstm_persistent_forward, 10, VK_WG, lstm)                           \
    X(lstm_persistent_backward, lstm_persistent_backward, 8, VK_WG, lstm)                          \
    X(lstm_split_partial, lstm_split_partial, 3, VK_WG, lstm)                                      \
    X(lstm_split_forward, lstm_split_forward, 9, VK_LSTM_ITEMS_WG, lstm)                           \
    X(lstm_split_backward, lstm_split_backward, 9, VK_LSTM_ITEMS_WG, lstm)                         \
    X(crossentropy_forward, crossentropy_forward, 5, VK_ROW_WG, crossentropy)                      \
    X(crossentropy_backward, crossentropy_backward, 4, VK_WG, crossentropy)                        \
    X(reduce_partial, reduce_partial, 2, VK_RED_WG, reduce)                                        \
    X(reduce_finish, reduce_finish, 2, VK_RED_WG, reduce)                                          \
    X(grad_gate, grad_gate, 3, VK_WG, adamw)                                                       \
    X(adamw, adamw, 5, VK_WG, adamw)                                                               \
    X(gemm, gemm, 3, VK_GEMM_TX, gemm)                                                             \
    X(gemm_direct, gemm_direct, 3, 0, gemm)                                                        \
    /* gemm_direct4 per block of VK_GEMM_DIRECT4_BLOCKS, each for (trans_a, trans_b) */            \
    VK_GEMM_DIRECT4_BLOCKS(VK_GEMM_DIRECT4_KERNELS, X)                                             \
    /* gemm_tiled per tile of ts_gemm_tiles (scalar loads, then vec4 loads), in this order */      \
    VK_GEMM_TILED_KERNELS(X, gemm_tiled)                                                           \
    VK_GEMM_TILED_KERNELS(X, gemm_tiled4)                                                          \
    X(gemm_splitk_reduce, gemm_splitk_reduce, 2, VK_WG, gemm)                                      \
    X(peak_fma, peak_fma, 1, VK_WG, peak)                                                          \
    X(peak_copy, peak_copy, 2, VK_WG, peak)                                                        \
    /* --precision fp16 (vulkan_gemm_lowp.c): plain shader, NV cooperative matrix */               \
    X(gemm_fp16, gemm_fp16, 3, VK_GEMM_DIRECT_WG, gemm)                                            \
    X(gemm_coopmat_nv, gemm_coopmat_nv, 3, 128, gemm)                                              \
    /* fused ops (vulkan_fused.c) */                                                               \
    X(residual_layernorm_forward, residual_layernorm_forward, 9, VK_ROW_WG, layernorm)             \
    X(layernorm_backward_dropout, layernorm_backward_dropout, 9, VK_ROW_WG, layernorm)             \
    X(bias_gelu_dropout_forward, bias_gelu_dropout_forward, 3, VK_WG, gelu)                        \
    X(gelu_dropout_backward_bias, gelu_dropout_backward_bias, 4, VK_WG, gelu)                      \
    X(crossentropy_fused, crossentropy_fused, 5, VK_ROW_WG, crossentropy)                          \
    X(bias_qkv_split_forward, bias_qkv_split_forward, 5, VK_WG, heads)                             \
    X(qkv_split_backward_bias, qkv_split_backward_bias, 5, VK_WG, heads)
/* For TS_OP_LAUNCH over ops.def: X(op, op, tensors, work-group, family) for each op of
 * op_launch.h (its shader is shaders/<op>.comp, one binding per tensor). */
#define VK_OP_KERNEL(X, name, grid, program, family, ...)                                          \
    X(name, name, TS_LAUNCH_COUNT_TENSORS(__VA_ARGS__), TS_PP_CAT(VK_WG_OF_, grid), family)
#define VK_WG_OF_ITEMS(...)  VK_WG
#define VK_WG_OF_MATRIX(...) VK_WG
#define VK_WG_OF_ROWS(...)   VK_ROW_WG
typedef enum {
#define VK_KERNEL_ID(k, shader, bindings, wg, family) VK_K_##k,
    VK_KERNELS(VK_KERNEL_ID)
#define TS_OP(name, exempt, check, ...) TS_OP_LAUNCH(VK_OP_KERNEL, VK_KERNEL_ID, name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP
#undef VK_KERNEL_ID
        VK_K_COUNT
} vk_kernel_id;

#define VK_MAX_BINDINGS 10  /* lstm_persistent_forward binds 10 */
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
/* the CPU-device forms of the fused LSTM step (shaders/lstm_step_*_items*.comp): one SIMD
 * group of lavapipe's 8 lanes, so a small batch still gives the threads several groups */
#define VK_LSTM_ITEMS_WG 8
/* ... where an invocation owns a block of units by VK_LSTM_ITEMS_ROWS batch rows (RU, RB in
 * shaders/lstm_step_*_items*.glsl; the split path's cells too) */
#define VK_LSTM_ITEMS_ROWS 4
#define VK_LSTM_FWD_UNITS  2
#define VK_LSTM_BWD_UNITS  4
/* gemm_direct4's blocks in VK_GEMM_DIRECT4_BLOCKS order, {RM, RN4} (vulkan_gemm.c); its
 * first kernel */
extern const uint8_t vk_gemm_direct4_block[VK_GEMM_DIRECT4_VARIANTS][2];
#define VK_K_gemm_direct4_first VK_K_gemm_direct4_8x2_nn

/* Status-word codes (shaders/common.glsl). */
#define VK_BAD_EMBEDDING_ID 1
#define VK_BAD_TARGET       2

/* Descriptor sets per pool; a full pool is followed by another (never a flush). */
#define VK_SETS_PER_POOL 2048
/* Cached descriptor sets kept across an idle point; past this the cache starts again there. */
#define VK_DESC_CACHE_MAX 16384
/* Buffer ranges the dispatches since the last barrier touch; more forces a barrier. */
#define VK_PENDING_MAX 64
/* Command buffers (and fences) in flight: recording continues while the device runs. */
#define VK_FRAMES 3
/* Host-visible staging: chunks of this size, at most VK_STAGING_CHUNKS of them (then the
 * oldest is waited for). */
#define VK_STAGING_BYTES  ((size_t)16 << 20)
#define VK_STAGING_CHUNKS 4

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
    X(gelu)                                                                                        \
    X(dropout)                                                                                     \
    X(elementwise) X(bias) X(embedding) X(lstm) X(crossentropy) X(reduce) X(adamw) X(peak)
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
    VkCommandBuffer cmd; /* the command buffer being recorded (frames[frame].cmd) */
    struct vk_frame {
        VkCommandBuffer cmd;
        VkFence fence;
        uint64_t serial; /* of its last submission */
        int in_flight;   /* submitted, fence not yet waited for */
    } frames[VK_FRAMES];
    int frame;       /* the frame being (or next to be) recorded */
    int recording;   /* cmd is begun */
    uint32_t n_cmds; /* commands recorded since the last submission */
    /* Serials: every recording gets the next one; submissions complete in serial order (a
     * fence covers all earlier work on the queue), so "done up to N" is one number. */
    uint64_t rec_serial;       /* the current recording's */
    uint64_t submitted_serial; /* the last submitted */
    uint64_t done_serial;      /* the last one the host waited for */
    uint64_t opaque_serial;    /* the last one holding a command on untracked buffers (vk_cmd) */
    uint64_t next_buffer_id;
    /* What the dispatches since the last barrier touch: a dispatch that writes what one of
     * them touches, or touches what one of them writes, needs a barrier first. */
    struct vk_access {
        ts_buffer *buf;
        VkDeviceSize lo, hi; /* bytes */
        int write;
    } pending[VK_PENDING_MAX];
    int n_pending;
    unsigned long barriers;      /* compute -> compute barriers recorded (profile report) */
    uint32_t writes[VK_K_COUNT]; /* bindings each kernel may write (vk_reflect_writes) */
    struct vk_desc_cache *descs;
    VkDescriptorSetLayout set_layouts[VK_MAX_BINDINGS + 1]; /* by binding count */
    VkPipelineLayout pipe_layouts[VK_MAX_BINDINGS + 1];
    VkPipelineCache pipeline_cache;
    VkShaderModule modules[VK_K_COUNT];
    VkPipeline pipelines[VK_K_COUNT];
    ts_buffer *status;      /* one int: the first bad-data code, 0 when clean */
    ts_buffer *status_host; /* its host-visible twin, when status is not mapped */
    ts_buffer *scratch;     /* partial sums; one user at a time (barriers order the stream) */
    struct vk_lstm_persistent *lstm_persistent; /* vulkan_lstm_persistent.c; NULL until used */
    struct vk_staging_chunk {
        ts_buffer *buf; /* host-visible, mapped */
        size_t used;    /* bytes handed out to the recording `serial` */
        uint64_t serial;
    } staging[VK_STAGING_CHUNKS];
    struct vk_doomed {
        ts_buffer *buf;
        uint64_t serial; /* freed once this submission is done */
    } * doomed;          /* buffers freed while submitted or recorded commands use them */
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
    ts_gemm_plan gemm_plan; /* vulkan_gemm.c: which kernel per shape class (gemm_plan.h) */
    int enable_float16;     /* --precision fp16: shaderFloat16 is enabled on the device */
    int coopmat_nv;         /* ... and VK_NV_cooperative_matrix, for gemm_coopmat_nv.comp */
} vk_ctx;

static inline vk_ctx *vk_ctx_of(ts_backend *be) {
    return (vk_ctx *)be->ctx;
}

/* ---- errors and the stream (vulkan_backend.c) -------------------------------------------- */

const char *vk_result_str(VkResult r);
/* Records the first error of the stream; later ones are dropped. */
/* --precision (vulkan_gemm_lowp.c): vk_precision_pick accepts a mode after the physical
 * device is picked, or says why this device cannot compute it; vk_gemm_lowp is vk_gemm's
 * product in that mode (K > 0). */
ts_status vk_precision_pick(ts_backend *be, vk_ctx *ctx, ts_precision p);
/* The device features and extension the picked mode needs, chained into di (storage in f). */
typedef struct {
    VkPhysicalDeviceShaderFloat16Int8Features f16;
    VkPhysicalDeviceVulkanMemoryModelFeatures memory_model;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat;
    const char *ext[1];
} vk_lowp_features;
void vk_precision_features(const vk_ctx *ctx, vk_lowp_features *f, VkDeviceCreateInfo *di);
void vk_gemm_lowp(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                  ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                  float beta, ts_tensor C, int ldc, long stride_c, int batch);
void vk_fail(ts_backend *be, int oom, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a failed call: "<call> (<op>): <VK_RESULT_NAME>"; out-of-memory codes -> TS_ENOMEM. */
void vk_fail_call(ts_backend *be, const char *call, const char *op, VkResult r);
/* ---- the stream (vulkan_stream.c) ------------------------------------------------------- */

/* The command buffer for one transfer command (fill, copy, update) the caller records next,
 * begun if needed and ordered after every earlier command; NULL with an error recorded. The
 * stream does not know which buffers it touches, so a download waits for the whole recording:
 * prefer vk_cmd_on. */
VkCommandBuffer vk_cmd(ts_backend *be);
/* The same for a transfer that touches only dst and src (either may be NULL). */
VkCommandBuffer vk_cmd_on(ts_backend *be, ts_buffer *dst, ts_buffer *src);
/* Marks b as used by the recording (a buffer a transfer touches besides dst and src). */
void vk_use(ts_backend *be, ts_buffer *b);
/* After a transfer command: a transfer -> compute/transfer barrier, so every later command
 * sees what it wrote. (Dispatches order themselves: vk_dispatch.) */
void vk_barrier(ts_backend *be);
/* The command buffer for a dispatch that makes the n accesses `uses`, with a compute ->
 * compute barrier first when it writes what a dispatch since the last barrier touches or
 * touches what one writes; marks the buffers used. NULL with an error recorded. */
VkCommandBuffer vk_cmd_dispatch(ts_backend *be, int n, const struct vk_access *uses);
/* The bindings a SPIR-V module may write, as a bit mask (vulkan_reflect.c); all of them when
 * the module cannot be read. */
uint32_t vk_reflect_writes(const uint32_t *code, size_t words);
/* Submits what was recorded, without waiting (nothing when nothing was recorded). */
void vk_submit(ts_backend *be);
/* Waits until submission `serial` is done (submitting the recording first if it is that one);
 * frees what waited for it. Counts one host wait when it blocks on a fence. */
void vk_wait_serial(ts_backend *be, uint64_t serial);
/* Submits what was recorded and waits for everything. */
void vk_flush(ts_backend *be);
/* The last submission that may use b (the recording's serial when it does). */
uint64_t vk_last_use(const vk_ctx *ctx, const ts_buffer *b);
/* Frees b once no submitted or recorded command can use it. */
void vk_retire(ts_backend *be, ts_buffer *b);
/* Records a copy of `bytes` between b at byte `off` and a fresh staging slot; returns the
 * slot's host pointer (to fill before an upload's submission, or to read after a download's
 * wait), or NULL with an error recorded. `bytes` is at most VK_STAGING_BYTES. */
void *vk_stage(ts_backend *be, ts_buffer *b, VkDeviceSize off, size_t bytes, int to_device);
ts_status vk_stream_init(ts_backend *be);
/* At destroy: waits for everything and frees the frames and staging chunks. */
void vk_stream_destroy(ts_backend *be);
/* A device scratch buffer of at least `bytes`, or NULL with an error recorded. */
ts_buffer *vk_scratch(ts_backend *be, size_t bytes);

/* ---- descriptor sets (vulkan_descriptors.c) --------------------------------------------- */

/* The cached set for (bindings, views), made on first use; VK_NULL_HANDLE with an error
 * recorded. Sets are never rewritten, so a cached one stays valid while submissions use it. */
VkDescriptorSet vk_desc_get(ts_backend *be, int n, ts_buffer *const *bufs,
                            const VkDescriptorBufferInfo *infos);
/* At an idle point (nothing recorded or in flight): starts the cache again when it is big. */
void vk_desc_trim(vk_ctx *ctx);
void vk_desc_destroy(vk_ctx *ctx);

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
/* Frees the persistent LSTM kernel's barrier words (vulkan_lstm_persistent.c). */
void vk_lstm_persistent_release(vk_ctx *ctx);
/* The split-K sequence path (vulkan_lstm_split.c): 1 with its kernels when it runs this
 * problem, its choice recorded (backends/lstm_sequence.h). */
struct ts_lstm_split_kernels;
int vk_lstm_split_on(ts_backend *be, int H, const struct ts_lstm_split_kernels **k);
/* 1 when the device's extension list names `name` (vulkan_gemm_lowp.c). */
int vk_has_device_ext(VkPhysicalDevice phys, const char *name);
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

/* gemm_direct.comp's push constants, shared by gemm.comp, gemm_direct4 and gemm_fp16. */
typedef struct {
    uint32_t ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
    float alpha, beta;
} vk_gemm_push;
/* Fills *p and the product's three bindings (A, B, C, each over its whole extent); args point
 * into *p, which must outlive the dispatch call. */
void vk_gemm_bind(vk_gemm_push *p, vk_arg args[3], int trans_a, int trans_b, int M, int N, int K,
                  float alpha, ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb,
                  long stride_b, float beta, ts_tensor C, int ldc, long stride_c, int batch);

/* Records one dispatch of kernel `id` with the given bindings (bound in order) and push
 * constants, over `groups` work-groups, then a barrier. groups_z is for gemm's batch. */
void vk_dispatch(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs, const void *push,
                 size_t push_bytes, uint32_t groups_x, uint32_t groups_y, uint32_t groups_z);
/* gemm_tiled's specialization constants for kernel `id` into spec[0..5] and their count;
 * 0 for any other kernel (vulkan_gemm.c). */
uint32_t vk_gemm_tiled_spec(vk_kernel_id id, uint32_t *spec);
/* The fused attention's specialization constant 1 (the --precision fp16 rounding) into spec[1]
 * and the count, 2; 0 for any other kernel (vulkan_attention.c). */
uint32_t vk_attention_spec(const ts_backend *be, vk_kernel_id id, uint32_t *spec);
/* The work-group size kernel `id` is built and dispatched with. */
uint32_t vk_kernel_wg(const vk_ctx *ctx, vk_kernel_id id);
/* 1-D: enough groups of the kernel's work-group size for `items` items (folded into x and y
 * when over the device's group-count limit). */
void vk_dispatch_items(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs,
                       const void *push, size_t push_bytes, size_t items);
/* The *_items LSTM shaders' grid: blocks of `units` hidden units by VK_LSTM_ITEMS_ROWS batch
 * rows per invocation (vulkan_lstm.c). */
void vk_lstm_dispatch_items(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs,
                            const void *push, size_t push_bytes, int B, int H, uint32_t units);

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
