/*
 * vulkan_timing.c — device time per op family from timestamp queries.
 *
 * TUNESCALE_VK_TIMESTAMPS=1 turns it on; otherwise no pool exists and the stream records
 * nothing extra. A timestamp is written after every recorded command (vk_barrier for
 * transfers, vk_dispatch for dispatches) at BOTTOM_OF_PIPE, which lands when that command and
 * everything before it is done: the difference between consecutive timestamps is the
 * command's own time, with no extra submissions and no idle gaps (dispatches the stream left
 * without a barrier between them may overlap; their split is then approximate). Each
 * recording starts with a pool reset and a start timestamp; with one pool, each submission is
 * waited for at once (vk_submit), and the differences are folded into per-family sums after
 * its fence; ts_backend_iface.timings hands them out.
 *
 * Unlike TUNESCALE_VK_PROFILE (host clock around one submission per dispatch, per kernel),
 * this keeps the normal batching, so it also means something on GPUs that run
 * asynchronously.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const family_names[VK_FAM_COUNT] = {
#define VK_FAMILY_NAME(f) [VK_FAM_##f] = #f,
    VK_FAMILIES(VK_FAMILY_NAME)
#undef VK_FAMILY_NAME
};

static const uint8_t kernel_family[VK_K_COUNT] = {
#define VK_KERNEL_FAMILY(k, shader, bindings, wg, family) [VK_K_##k] = VK_FAM_##family,
    VK_KERNELS(VK_KERNEL_FAMILY)
#define TS_OP(name, exempt, check, ...)                                                            \
    TS_OP_LAUNCH(VK_OP_KERNEL, VK_KERNEL_FAMILY, name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP
#undef VK_KERNEL_FAMILY
};

vk_family vk_kernel_family(vk_kernel_id id) {
    return (vk_family)kernel_family[id];
}

ts_status vk_ts_init(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    const char *env = getenv("TUNESCALE_VK_TIMESTAMPS");
    if (!env || strcmp(env, "1")) return TS_OK;
    /* A queue without timestamps (validBits 0) or a device without a period: run untimed. */
    if (ctx->ts_valid_bits == 0 || ctx->props.limits.timestampPeriod <= 0) {
        fprintf(stderr,
                "tunescale: warning: TUNESCALE_VK_TIMESTAMPS: %s's compute queue has no "
                "timestamps; running untimed\n",
                ctx->device_name);
        return TS_OK;
    }
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                .queryCount = VK_TS_QUERIES};
    VkResult r = vkCreateQueryPool(ctx->device, &qi, NULL, &ctx->ts_pool);
    if (r != VK_SUCCESS) {
        ctx->ts_pool = VK_NULL_HANDLE;
        return ts_set_error_status(is_vk_oom(r) ? TS_ENOMEM : TS_ERR,
                                   "vulkan backend: vkCreateQueryPool (timestamps) failed: %s (%d)",
                                   vk_result_str(r), (int)r);
    }
    return TS_OK;
}

void vk_ts_destroy(vk_ctx *ctx) {
    if (ctx->ts_pool) vkDestroyQueryPool(ctx->device, ctx->ts_pool, NULL);
    ctx->ts_pool = VK_NULL_HANDLE;
}

void vk_ts_begin(vk_ctx *ctx, VkCommandBuffer cmd) {
    vkCmdResetQueryPool(cmd, ctx->ts_pool, 0, VK_TS_QUERIES);
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ctx->ts_pool, 0);
    ctx->ts_used = 1;
    ctx->ts_next = VK_FAM_transfer;
}

void vk_ts_mark(vk_ctx *ctx) {
    /* Full (a multi-command op past vk_cmd's slack): the next mark takes this time too. */
    if (ctx->ts_used < VK_TS_QUERIES) {
        vkCmdWriteTimestamp(ctx->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ctx->ts_pool,
                            ctx->ts_used);
        ctx->ts_family[ctx->ts_used++] = ctx->ts_next;
    }
    ctx->ts_next = VK_FAM_transfer;
}

void vk_ts_collect(vk_ctx *ctx) {
    uint32_t n = ctx->ts_used;
    if (n < 2) return;
    VkResult r =
        vkGetQueryPoolResults(ctx->device, ctx->ts_pool, 0, n, n * sizeof(uint64_t), ctx->ts_values,
                              sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS) return; /* a lost sample is not worth failing the run */
    uint64_t mask = ctx->ts_valid_bits >= 64 ? UINT64_MAX : (1ull << ctx->ts_valid_bits) - 1;
    double ms_per_tick = ctx->props.limits.timestampPeriod * 1e-6;
    for (uint32_t i = 1; i < n; i++) {
        /* masked difference: correct across one wrap of a narrow counter */
        uint64_t d = (ctx->ts_values[i] - ctx->ts_values[i - 1]) & mask;
        ctx->ts_ms[ctx->ts_family[i]] += (double)d * ms_per_tick;
    }
}

static const char *family_name(size_t f) {
    return family_names[f];
}

size_t vk_timings(ts_backend *be, char *json, size_t cap) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (!ctx->ts_pool) return 0;
    return ts_timings_json(json, cap, ctx->ts_ms, VK_FAM_COUNT, family_name);
}
