/*
 * vulkan_stream.c — the recorded stream: a ring of command buffers submitted without waiting,
 * the barriers between commands, host waits for exactly the work a download needs, a ring of
 * staging memory for transfers, and buffers freed while work in flight still uses them.
 *
 * Serials: each recording gets the next serial and is submitted with its frame's fence. A
 * fence signals only when all earlier work on the queue is done too, so "done up to serial N"
 * is one number (done_serial), raised only by a fence wait: the host-wait count of a step
 * then depends on the calls alone, not on how fast the device was. Every buffer a command
 * touches is stamped with the recording's serial, so a download waits for the submission
 * that last used its buffer, and an upload into a mapped buffer nothing pending uses is a
 * plain memcpy.
 *
 * Barriers: a dispatch is followed by nothing. The next dispatch records a compute -> compute
 * memory barrier first only when it writes bytes that a dispatch since the last barrier
 * touches, or touches bytes one of them writes (the kernels' written bindings come from their
 * SPIR-V: vulkan_reflect.c); independent dispatches (dX and dW of one layer) stay unordered.
 * The next transfer records a compute -> transfer barrier (vk_cmd_on). A transfer
 * is followed by a transfer -> compute/transfer barrier (vk_barrier). Each command buffer
 * ends with a barrier that makes device writes visible to host reads after its fence. A
 * barrier's first scope is everything earlier in submission order, so the ordering holds
 * across command buffers too.
 *
 * Staging (host-visible chunks, used when buffers are not mapped, and for uploads into buffers
 * that pending work still uses): a chunk serves one recording at a time and is reused once
 * that recording is done; when all VK_STAGING_CHUNKS are busy, the oldest is waited for.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- waits and retirement ---------------------------------------------------------------- */

/* Everything up to `serial` is done: resets its fences, frees the buffers that waited. */
static void mark_done(vk_ctx *ctx, uint64_t serial) {
    if (serial <= ctx->done_serial) return;
    ctx->done_serial = serial;
    for (int i = 0; i < VK_FRAMES; i++) {
        struct vk_frame *f = &ctx->frames[i];
        if (f->in_flight && f->serial <= serial) {
            vkResetFences(ctx->device, 1, &f->fence);
            f->in_flight = 0;
        }
    }
    size_t keep = 0;
    for (size_t i = 0; i < ctx->n_doomed; i++)
        if (ctx->doomed[i].serial <= serial)
            vk_mem_free(ctx, ctx->doomed[i].buf);
        else
            ctx->doomed[keep++] = ctx->doomed[i];
    ctx->n_doomed = keep;
}

/* After a failed submit or wait: nothing more will run, so everything counts as done. */
static void drain_after_error(vk_ctx *ctx) {
    vkDeviceWaitIdle(ctx->device);
    mark_done(ctx, ctx->submitted_serial);
}

void vk_wait_serial(ts_backend *be, uint64_t serial) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (serial <= ctx->done_serial) return;
    if (ctx->recording && serial >= ctx->rec_serial) vk_submit(be);
    if (serial > ctx->submitted_serial) serial = ctx->submitted_serial;
    if (serial <= ctx->done_serial) return; /* the submission failed and was drained */
    struct vk_frame *f = NULL;
    for (int i = 0; i < VK_FRAMES; i++)
        if (ctx->frames[i].in_flight && ctx->frames[i].serial == serial) f = &ctx->frames[i];
    if (!f) { /* cannot happen: a frame stays in flight until waited for */
        vk_fail(be, 0, "internal: vulkan submission %llu has no frame", (unsigned long long)serial);
        drain_after_error(ctx);
        return;
    }
    be->host_waits++;
    VkResult r = vkWaitForFences(ctx->device, 1, &f->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) {
        vk_fail_call(be, "vkWaitForFences", "flush", r);
        drain_after_error(ctx);
        return;
    }
    /* timing mode waits for each submission at once, so the pool holds this one's stamps */
    if (ctx->ts_pool) vk_ts_collect(ctx);
    mark_done(ctx, serial);
}

void vk_flush(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    vk_submit(be);
    vk_wait_serial(be, ctx->submitted_serial);
}

uint64_t vk_last_use(const vk_ctx *ctx, const ts_buffer *b) {
    return b->use_serial > ctx->opaque_serial ? b->use_serial : ctx->opaque_serial;
}

void vk_retire(ts_backend *be, ts_buffer *b) {
    vk_ctx *ctx = vk_ctx_of(be);
    uint64_t last = vk_last_use(ctx, b);
    if (last <= ctx->done_serial) {
        vk_mem_free(ctx, b);
        return;
    }
    if (ctx->n_doomed == ctx->cap_doomed) {
        size_t cap = ctx->cap_doomed ? 2 * ctx->cap_doomed : 16;
        struct vk_doomed *d = realloc(ctx->doomed, cap * sizeof *d);
        if (!d) { /* out of host memory: wait for the device rather than leak */
            vk_wait_serial(be, last);
            vk_mem_free(ctx, b);
            return;
        }
        ctx->doomed = d;
        ctx->cap_doomed = cap;
    }
    ctx->doomed[ctx->n_doomed++] = (struct vk_doomed){b, last};
}

/* ---- recording and submitting ------------------------------------------------------------ */

/* The current command buffer, begun on the next free frame if needed. */
static VkCommandBuffer begin(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (be->error != TS_OK) return VK_NULL_HANDLE;
    /* Out of timestamp queries: submit before the next command rather than lose its time
     * (only with TUNESCALE_VK_TIMESTAMPS=1). */
    if (ctx->recording && ctx->ts_pool && ctx->ts_used + VK_TS_SLACK > VK_TS_QUERIES) vk_submit(be);
    if (ctx->recording) return ctx->cmd;
    struct vk_frame *f = &ctx->frames[ctx->frame];
    if (f->in_flight) vk_wait_serial(be, f->serial); /* every frame in flight: the ring waits */
    if (be->error != TS_OK) return VK_NULL_HANDLE;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult r = vkBeginCommandBuffer(f->cmd, &bi);
    if (r != VK_SUCCESS) {
        vk_fail_call(be, "vkBeginCommandBuffer", "record", r);
        return VK_NULL_HANDLE;
    }
    ctx->cmd = f->cmd;
    ctx->recording = 1;
    ctx->n_cmds = 0;
    ctx->rec_serial = ctx->submitted_serial + 1;
    if (ctx->ts_pool) vk_ts_begin(ctx, ctx->cmd);
    return ctx->cmd;
}

static void memory_barrier(vk_ctx *ctx, VkPipelineStageFlags src, VkAccessFlags src_access,
                           VkPipelineStageFlags dst, VkAccessFlags dst_access) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = src_access,
                          .dstAccessMask = dst_access};
    vkCmdPipelineBarrier(ctx->cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

void vk_submit(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (!ctx->recording || ctx->n_cmds == 0) return; /* an empty recording stays open */
    struct vk_frame *f = &ctx->frames[ctx->frame];
    /* Device writes become visible to host reads of mapped memory after the fence. */
    memory_barrier(ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    VkResult r = vkEndCommandBuffer(f->cmd);
    const char *call = "vkEndCommandBuffer";
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &f->cmd};
        call = "vkQueueSubmit";
        r = vkQueueSubmit(ctx->queue, 1, &si, f->fence);
    }
    ctx->recording = 0;
    ctx->n_cmds = 0;
    ctx->submitted_serial = ctx->rec_serial;
    ctx->frame = (ctx->frame + 1) % VK_FRAMES;
    if (r != VK_SUCCESS) {
        vk_fail_call(be, call, "flush", r);
        drain_after_error(ctx);
        return;
    }
    f->serial = ctx->rec_serial;
    f->in_flight = 1;
    be->submissions++;
    /* Timing mode: the one query pool holds one submission's stamps at a time. */
    if (ctx->ts_pool) vk_wait_serial(be, f->serial);
}

void vk_use(ts_backend *be, ts_buffer *b) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (b && ctx->recording) b->use_serial = ctx->rec_serial;
}

VkCommandBuffer vk_cmd_on(ts_backend *be, ts_buffer *dst, ts_buffer *src) {
    vk_ctx *ctx = vk_ctx_of(be);
    VkCommandBuffer cmd = begin(be);
    if (!cmd) return VK_NULL_HANDLE;
    if (ctx->n_pending) /* a dispatch may have written, or still read, what this touches */
        memory_barrier(ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                       VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    ctx->n_pending = 0;
    if (!dst && !src) ctx->opaque_serial = ctx->rec_serial;
    vk_use(be, dst);
    vk_use(be, src);
    ctx->n_cmds++;
    return cmd;
}

VkCommandBuffer vk_cmd(ts_backend *be) {
    return vk_cmd_on(be, NULL, NULL);
}

void vk_barrier(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (!ctx->recording) return;
    if (ctx->ts_pool) vk_ts_mark(ctx);
    memory_barrier(ctx, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                       VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
}

/* Whether a dispatch making `u` must wait for the dispatches since the last barrier. */
static int hazard(const vk_ctx *ctx, const struct vk_access *u) {
    for (int i = 0; i < ctx->n_pending; i++) {
        const struct vk_access *p = &ctx->pending[i];
        if (p->buf == u->buf && (p->write || u->write) && p->lo < u->hi && u->lo < p->hi) return 1;
    }
    return 0;
}

VkCommandBuffer vk_cmd_dispatch(ts_backend *be, int n, const struct vk_access *uses) {
    vk_ctx *ctx = vk_ctx_of(be);
    VkCommandBuffer cmd = begin(be);
    if (!cmd) return VK_NULL_HANDLE;
    /* Read-after-write, write-after-read and write-after-write on overlapping bytes; the
     * barrier's first scope is every earlier command, so it also covers earlier submissions. */
    int wait = ctx->n_pending + n > VK_PENDING_MAX;
    for (int i = 0; i < n && !wait; i++)
        wait = hazard(ctx, &uses[i]);
    if (wait) {
        memory_barrier(ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
        ctx->n_pending = 0;
        ctx->barriers++;
    }
    for (int i = 0; i < n; i++) {
        ctx->pending[ctx->n_pending++] = uses[i];
        uses[i].buf->use_serial = ctx->rec_serial;
    }
    ctx->n_cmds++;
    return cmd;
}

/* ---- staging ----------------------------------------------------------------------------- */

/* A chunk with `bytes` free for the current recording, or NULL when all are busy. */
static struct vk_staging_chunk *free_chunk(ts_backend *be, size_t bytes) {
    vk_ctx *ctx = vk_ctx_of(be);
    for (int i = 0; i < VK_STAGING_CHUNKS; i++) {
        struct vk_staging_chunk *c = &ctx->staging[i];
        if (!c->buf) {
            const char *call;
            VkResult r = vk_mem_buffer(ctx, VK_STAGING_BYTES, 1, &c->buf, &call);
            if (r != VK_SUCCESS) {
                c->buf = NULL;
                vk_fail_call(be, call, "staging", r);
                return NULL;
            }
            c->used = 0;
            c->serial = ctx->rec_serial;
        } else if (c->serial != ctx->rec_serial) {
            if (c->serial > ctx->done_serial) continue; /* a pending submission reads it */
            c->used = 0;
            c->serial = ctx->rec_serial;
        }
        if (c->buf->size - c->used >= bytes) return c;
    }
    return NULL;
}

void *vk_stage(ts_backend *be, ts_buffer *b, VkDeviceSize off, size_t bytes, int to_device) {
    vk_ctx *ctx = vk_ctx_of(be);
    size_t need = (bytes + 15) & ~(size_t)15; /* copies keep 4-byte offsets; 16 for tidiness */
    for (;;) {
        VkCommandBuffer cmd = vk_cmd_on(be, b, NULL);
        if (!cmd) return NULL;
        struct vk_staging_chunk *c = free_chunk(be, need);
        if (be->error != TS_OK) return NULL;
        if (c) {
            VkDeviceSize at = c->used;
            c->used += need;
            VkBufferCopy region = {.srcOffset = to_device ? at : off,
                                   .dstOffset = to_device ? off : at,
                                   .size = bytes};
            if (to_device)
                vkCmdCopyBuffer(cmd, c->buf->buf, b->buf, 1, &region);
            else
                vkCmdCopyBuffer(cmd, b->buf, c->buf->buf, 1, &region);
            vk_barrier(be);
            return (char *)c->buf->mapped + at;
        }
        /* Every chunk is busy: wait for the oldest (submitting it if it is this recording). */
        uint64_t oldest = UINT64_MAX;
        for (int i = 0; i < VK_STAGING_CHUNKS; i++)
            if (ctx->staging[i].serial < oldest) oldest = ctx->staging[i].serial;
        vk_wait_serial(be, oldest);
        if (be->error != TS_OK) return NULL;
    }
}

/* ---- creation and scratch ---------------------------------------------------------------- */

ts_status vk_stream_init(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = ctx->queue_family};
    const char *call = "vkCreateCommandPool";
    VkResult r = vkCreateCommandPool(ctx->device, &pi, NULL, &ctx->cmd_pool);
    for (int i = 0; i < VK_FRAMES && r == VK_SUCCESS; i++) {
        VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                          .commandPool = ctx->cmd_pool,
                                          .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                          .commandBufferCount = 1};
        call = "vkAllocateCommandBuffers";
        r = vkAllocateCommandBuffers(ctx->device, &ai, &ctx->frames[i].cmd);
        if (r != VK_SUCCESS) break;
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        call = "vkCreateFence";
        r = vkCreateFence(ctx->device, &fi, NULL, &ctx->frames[i].fence);
    }
    if (r != VK_SUCCESS)
        return ts_set_error_status(is_vk_oom(r) ? TS_ENOMEM : TS_ERR,
                                   "vulkan backend: %s failed: %s (%d)", call, vk_result_str(r),
                                   (int)r);
    return TS_OK;
}

void vk_stream_destroy(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    vk_flush(be);
    vkDeviceWaitIdle(ctx->device);
    mark_done(ctx, ctx->submitted_serial);
    for (size_t i = 0; i < ctx->n_doomed; i++)
        vk_mem_free(ctx, ctx->doomed[i].buf);
    ctx->n_doomed = 0;
    for (int i = 0; i < VK_STAGING_CHUNKS; i++) {
        vk_mem_free(ctx, ctx->staging[i].buf);
        ctx->staging[i].buf = NULL;
    }
    for (int i = 0; i < VK_FRAMES; i++)
        if (ctx->frames[i].fence) vkDestroyFence(ctx->device, ctx->frames[i].fence, NULL);
    if (ctx->cmd_pool) vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
    ctx->cmd_pool = VK_NULL_HANDLE;
}

ts_buffer *vk_scratch(ts_backend *be, size_t bytes) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (ctx->scratch && ctx->scratch->size >= bytes) return ctx->scratch;
    size_t rounded = (bytes + 4095) & ~(size_t)4095;
    ts_buffer *b;
    const char *call;
    VkResult r = vk_mem_buffer(ctx, rounded, 0, &b, &call);
    if (r != VK_SUCCESS) {
        vk_fail_call(be, call, "scratch", r);
        return NULL;
    }
    if (ctx->scratch) vk_retire(be, ctx->scratch); /* recorded ops may still use the old one */
    ctx->scratch = b;
    return b;
}
