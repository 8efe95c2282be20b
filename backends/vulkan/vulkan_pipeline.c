/*
 * vulkan_pipeline.c — shader modules, compute pipelines (built on first use, through a
 * pipeline cache kept on disk between runs) and the recording of one dispatch.
 *
 * Layouts: every shader binds its buffers as storage buffers 0..n-1 of set 0 and takes its
 * views' offsets and sizes as push constants; there is one set layout and one pipeline layout
 * per binding count. Descriptor sets come from the cache (vulkan_descriptors.c); the
 * dispatch's ordering against earlier commands is the stream's (vk_cmd_dispatch).
 *
 * The pipeline cache lives in $TUNESCALE_CACHE_DIR/vk or ~/.cache/tunescale/vk, one file per
 * device UUID and driver version (the driver rejects a foreign blob anyway); it is written
 * atomically at destroy, so a crash never leaves half a file for the next run.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/progress.h"

const vk_kernel_info vk_kernel_table[VK_K_COUNT] = {
#define VK_KERNEL_INFO(k, shader, bindings, wg, family) [VK_K_##k] = {#shader, bindings, wg},
    VK_KERNELS(VK_KERNEL_INFO)
#define TS_OP(name, exempt, check, ...)                                                            \
    TS_OP_LAUNCH(VK_OP_KERNEL, VK_KERNEL_INFO, name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP
#undef VK_KERNEL_INFO
};

uint32_t vk_kernel_wg(const vk_ctx *ctx, vk_kernel_id id) {
    /* The table's VK_ROW_WG marks the one-group-per-row shaders. */
    return vk_kernel_table[id].wg == VK_ROW_WG ? ctx->row_wg : vk_kernel_table[id].wg;
}

/* Push constants: the minimum every device offers, and more than any shader takes. */
#define VK_PUSH_BYTES 128

/* ---- the on-disk pipeline cache ------------------------------------------------------- */

static void cache_path(vk_ctx *ctx) {
    const char *dir = getenv("TUNESCALE_CACHE_DIR");
    const char *home = getenv("HOME");
    char base[3000];
    if (dir && dir[0])
        snprintf(base, sizeof base, "%s/vk", dir);
    else if (home && home[0])
        snprintf(base, sizeof base, "%s/.cache/tunescale/vk", home);
    else
        return; /* nowhere to keep it: pipelines are simply rebuilt */
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf(uuid + 2 * i, 3, "%02x", ctx->props.pipelineCacheUUID[i]);
    snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s/%s-%08x.bin", base, uuid,
             ctx->props.driverVersion);
}

void vk_pipeline_cache_save(vk_ctx *ctx) {
    if (!ctx->pipeline_cache || !ctx->cache_path[0]) return;
    size_t n = 0;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &n, NULL) != VK_SUCCESS || !n)
        return;
    void *data = malloc(n);
    if (data && vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &n, data) == VK_SUCCESS) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", ctx->cache_path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        /* A cache that cannot be written only costs the next run its compile time. */
        if (ts_mkdir_p(dir) == TS_OK) (void)ts_write_file_atomic(ctx->cache_path, data, n);
    }
    free(data);
}

/* ---- layouts and pipelines ------------------------------------------------------------- */

ts_status vk_pipelines_init(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    VkDescriptorSetLayoutBinding binds[VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < VK_MAX_BINDINGS; i++)
        binds[i] =
            (VkDescriptorSetLayoutBinding){.binding = i,
                                           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .descriptorCount = 1,
                                           .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkPushConstantRange pcr = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VK_PUSH_BYTES};
    for (uint32_t n = 1; n <= VK_MAX_BINDINGS; n++) {
        VkDescriptorSetLayoutCreateInfo li = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
            .bindingCount = n,
            .pBindings = binds};
        VkResult r = vkCreateDescriptorSetLayout(ctx->device, &li, NULL, &ctx->set_layouts[n]);
        if (r != VK_SUCCESS)
            return ts_set_error("vulkan backend: vkCreateDescriptorSetLayout failed: %s",
                                vk_result_str(r));
        VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                          .setLayoutCount = 1,
                                          .pSetLayouts = &ctx->set_layouts[n],
                                          .pushConstantRangeCount = 1,
                                          .pPushConstantRanges = &pcr};
        r = vkCreatePipelineLayout(ctx->device, &pli, NULL, &ctx->pipe_layouts[n]);
        if (r != VK_SUCCESS)
            return ts_set_error("vulkan backend: vkCreatePipelineLayout failed: %s",
                                vk_result_str(r));
    }
    cache_path(ctx);
    char *blob = NULL;
    size_t blob_len = 0;
    if (ctx->cache_path[0] && ts_is_file(ctx->cache_path) &&
        ts_read_file(ctx->cache_path, &blob, &blob_len) != TS_OK) {
        blob = NULL;
        blob_len = 0;
    }
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                    .initialDataSize = blob ? blob_len : 0,
                                    .pInitialData = blob};
    VkResult r = vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipeline_cache);
    if (r != VK_SUCCESS && blob) { /* a stale or damaged blob: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        r = vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipeline_cache);
    }
    free(blob);
    if (r != VK_SUCCESS) ctx->pipeline_cache = VK_NULL_HANDLE; /* optional: go without */
    return TS_OK;
}

void vk_pipelines_destroy(vk_ctx *ctx) {
    vk_profile_report(ctx);
    vk_pipeline_cache_save(ctx);
    for (int k = 0; k < VK_K_COUNT; k++) {
        if (ctx->pipelines[k]) vkDestroyPipeline(ctx->device, ctx->pipelines[k], NULL);
        if (ctx->modules[k]) vkDestroyShaderModule(ctx->device, ctx->modules[k], NULL);
    }
    if (ctx->pipeline_cache) vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    for (int n = 1; n <= VK_MAX_BINDINGS; n++) {
        if (ctx->pipe_layouts[n]) vkDestroyPipelineLayout(ctx->device, ctx->pipe_layouts[n], NULL);
        if (ctx->set_layouts[n])
            vkDestroyDescriptorSetLayout(ctx->device, ctx->set_layouts[n], NULL);
    }
}

static VkPipeline pipeline(ts_backend *be, vk_kernel_id id) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (ctx->pipelines[id]) return ctx->pipelines[id];
    const vk_kernel_info *k = &vk_kernel_table[id];
    const vk_embedded_shader *sh = NULL;
    for (const vk_embedded_shader *s = vk_embedded_shaders; s->name; s++)
        if (!strcmp(s->name, k->name)) sh = s;
    if (!sh) {
        vk_fail(be, 0, "shader %s.comp is not in this build", k->name);
        return VK_NULL_HANDLE;
    }
    ctx->writes[id] = vk_reflect_writes(sh->code, sh->bytes / 4);
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = sh->bytes,
                                   .pCode = sh->code};
    VkResult r = vkCreateShaderModule(ctx->device, &mi, NULL, &ctx->modules[id]);
    if (r != VK_SUCCESS) {
        vk_fail_call(be, "vkCreateShaderModule", k->name, r);
        return VK_NULL_HANDLE;
    }
    /* Work-group sizes are specialization constants 0 (and 1 for gemm's second dimension);
     * gemm_direct takes its work-group size and register block (WG, RM, RN). */
    uint32_t spec[6] = {vk_kernel_wg(ctx, id), VK_GEMM_TY, 1};
    uint32_t nspec = id == VK_K_gemm ? 2 : 1;
    if (vk_gemm_tiled_spec(id, spec)) {
        nspec = vk_gemm_tiled_spec(id, spec);
    } else if (vk_attention_spec(be, id, spec)) {
        nspec = 2;
    } else if (id == VK_K_gemm_direct) {
        memcpy(spec, ctx->gemm_spec, sizeof ctx->gemm_spec);
        nspec = 3;
    } else if (id >= VK_K_gemm_direct4_first &&
               id < VK_K_gemm_direct4_first + 4 * VK_GEMM_DIRECT4_VARIANTS) {
        /* gemm_direct4 (any block): (WG, TA, TB), the transposes folded in at compile time */
        int v = (int)(id - VK_K_gemm_direct4_first) & 3;
        spec[0] = ctx->gemm_spec[0];
        spec[1] = (uint32_t)(v >> 1);
        spec[2] = (uint32_t)(v & 1);
        nspec = 3;
    }
    VkSpecializationMapEntry entries[6] = {{0, 0, 4},  {1, 4, 4},  {2, 8, 4},
                                           {3, 12, 4}, {4, 16, 4}, {5, 20, 4}};
    VkSpecializationInfo si = {
        .mapEntryCount = nspec, .pMapEntries = entries, .dataSize = sizeof spec, .pData = spec};
    VkComputePipelineCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = ctx->modules[id],
                  .pName = "main",
                  .pSpecializationInfo = &si},
        .layout = ctx->pipe_layouts[k->bindings]};
    r = vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &pi, NULL,
                                 &ctx->pipelines[id]);
    if (r != VK_SUCCESS) {
        ctx->pipelines[id] = VK_NULL_HANDLE;
        vk_fail_call(be, "vkCreateComputePipelines", k->name, r);
        return VK_NULL_HANDLE;
    }
    return ctx->pipelines[id];
}

/* ---- recording a dispatch -------------------------------------------------------------- */

/* Binds args[i] as a window of its buffer (see vk_arg) and rebases its offset word in `words`
 * (the dispatch's push constants); 0 with an error recorded if the view does not fit one. */
static int window(ts_backend *be, const char *kernel, const vk_arg *a, const void *push,
                  uint32_t *words, size_t push_words, VkDescriptorBufferInfo *info,
                  struct vk_access *use) {
    vk_ctx *ctx = vk_ctx_of(be);
    VkDeviceSize unit = a->unit ? a->unit : 4, start = 0, rel = 0;
    if (a->off) {
        ptrdiff_t w = a->off - (const uint32_t *)push;
        if (w < 0 || (size_t)w >= push_words) {
            vk_fail(be, 0, "internal: %s: a binding's offset is not in its push constants", kernel);
            return 0;
        }
        /* the alignment is a power of two of at least 16 bytes, so a view keeps its offset
         * modulo 4 floats (gemm_direct4's vec4 test) */
        VkDeviceSize align = ctx->props.limits.minStorageBufferOffsetAlignment;
        if (align < 16) align = 16;
        VkDeviceSize byte = (VkDeviceSize)words[w] * unit;
        start = byte & ~(align - 1);
        rel = (byte - start) / unit;
        words[w] = (uint32_t)rel;
    }
    VkDeviceSize size = a->buf->size, range = size - start;
    if (range > ctx->max_range) range = ctx->max_range;
    VkDeviceSize need = a->n ? (rel + a->n) * unit : size - start;
    if (start >= size || need > range) {
        vk_fail(be, 0,
                "%s: a view of %llu bytes is more than one storage-buffer binding may span "
                "(maxStorageBufferRange %llu)",
                kernel, (unsigned long long)need, (unsigned long long)ctx->max_range);
        return 0;
    }
    *info = (VkDescriptorBufferInfo){a->buf->buf, start, range};
    /* the bytes the shader may touch, for the stream's hazard check */
    use->buf = a->buf;
    use->lo = start + rel * unit;
    use->hi = start + (a->n ? need : range);
    return 1;
}

void vk_dispatch(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs, const void *push,
                 size_t push_bytes, uint32_t groups_x, uint32_t groups_y, uint32_t groups_z) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (be->error != TS_OK || groups_x == 0 || groups_y == 0 || groups_z == 0) return;
    const vk_kernel_info *k = &vk_kernel_table[id];
    if (nargs != k->bindings || push_bytes > VK_PUSH_BYTES || push_bytes % 4) {
        vk_fail(be, 0, "internal: %s dispatched with %d buffers and %zu push bytes", k->name, nargs,
                push_bytes);
        return;
    }
    if (groups_x > ctx->max_groups || groups_y > ctx->max_groups || groups_z > 65535) {
        vk_fail(be, 0, "%s: a grid of %u x %u x %u work-groups is past the device's limit", k->name,
                groups_x, groups_y, groups_z);
        return;
    }
    uint32_t words[VK_PUSH_BYTES / 4];
    if (push_bytes) memcpy(words, push, push_bytes);
    VkDescriptorBufferInfo infos[VK_MAX_BINDINGS];
    struct vk_access uses[VK_MAX_BINDINGS];
    for (int i = 0; i < nargs; i++)
        if (!window(be, k->name, &args[i], push, words, push_bytes / 4, &infos[i], &uses[i]))
            return;
    VkPipeline pipe = pipeline(be, id);
    if (!pipe) return;
    for (int i = 0; i < nargs; i++)
        uses[i].write = (ctx->writes[id] >> i) & 1;
    if (ctx->profile) vk_flush(be); /* profiling: earlier work is not timed */
    double t0 = ctx->profile ? ts_now() : 0;
    ts_buffer *bufs[VK_MAX_BINDINGS];
    for (int i = 0; i < nargs; i++)
        bufs[i] = args[i].buf;
    VkDescriptorSet set = vk_desc_get(be, nargs, bufs, infos);
    if (!set) return;
    VkCommandBuffer cmd = vk_cmd_dispatch(be, nargs, uses);
    if (!cmd) return;
    VkPipelineLayout layout = ctx->pipe_layouts[nargs];
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
    if (push_bytes)
        vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, (uint32_t)push_bytes,
                           words);
    vkCmdDispatch(cmd, groups_x, groups_y, groups_z);
    be->dispatches++;
    if (ctx->ts_pool) {
        ctx->ts_next = (uint8_t)vk_kernel_family(id);
        vk_ts_mark(ctx);
    }
    if (ctx->profile) {
        vk_flush(be);
        ctx->prof_seconds[id] += ts_now() - t0;
        ctx->prof_calls[id]++;
    }
}

void vk_profile_report(vk_ctx *ctx) {
    double total = 0;
    for (int k = 0; k < VK_K_COUNT; k++)
        total += ctx->prof_seconds[k];
    if (!ctx->profile || total <= 0) return;
    fprintf(stderr, "vulkan profile (%s): %.3f s in dispatches, %lu compute barriers\n",
            ctx->device_name, total, ctx->barriers);
    for (int k = 0; k < VK_K_COUNT; k++)
        if (ctx->prof_calls[k])
            fprintf(stderr, "  %-28s %8lu calls %10.3f s %5.1f%%\n", vk_kernel_table[k].name,
                    ctx->prof_calls[k], ctx->prof_seconds[k], 100.0 * ctx->prof_seconds[k] / total);
}

void vk_dispatch_items(ts_backend *be, vk_kernel_id id, const vk_arg *args, int nargs,
                       const void *push, size_t push_bytes, size_t items) {
    vk_ctx *ctx = vk_ctx_of(be);
    uint32_t wg = vk_kernel_wg(ctx, id), lim = ctx->max_groups;
    size_t groups = (items + wg - 1) / wg;
    /* Fold what is over the grid limit into y (the shaders' ts_group() unfolds it and
     * bounds-check the spare groups). */
    uint32_t gx = groups > lim ? lim : (uint32_t)groups;
    size_t gy = (groups + lim - 1) / lim;
    if (gy > lim) {
        vk_fail(be, 0, "%s: %zu items are more than one dispatch holds", vk_kernel_table[id].name,
                items);
        return;
    }
    vk_dispatch(be, id, args, nargs, push, push_bytes, gx, (uint32_t)gy, 1);
}
