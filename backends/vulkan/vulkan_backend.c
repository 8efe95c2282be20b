/*
 * vulkan_backend.c — the Vulkan backend's iface table, creation (instance, the physical device
 * `--device N` names in vkEnumeratePhysicalDevices order, a compute queue), device facts,
 * buffers, transfers and errors.
 *
 * Submission model (vulkan_stream.c): ops only record; a download submits what is recorded
 * and waits for the submission that last used its buffer, sync waits for everything. An
 * upload writes mapped memory in place when nothing pending or recorded uses the buffer, and
 * is otherwise recorded (vkCmdUpdateBuffer up to 64 KiB, a staging copy above), so it lands in
 * stream order behind whatever earlier op still reads the old contents, without a wait.
 *
 * Errors: every failed call becomes one message naming the call and the VkResult, recorded as
 * the sticky be->error and replayed by sync and every later transfer; out-of-memory codes are
 * TS_ENOMEM. With TUNESCALE_VK_VALIDATION=1 and the Khronos layer installed, every validation
 * warning or error is recorded the same way, so tests fail on them.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VK_VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* ---- errors ---------------------------------------------------------------------------- */

#define VK_NAME(x)                                                                                 \
    { x, #x }
static const struct {
    VkResult code;
    const char *name;
} vk_results[] = {
    VK_NAME(VK_SUCCESS),
    VK_NAME(VK_NOT_READY),
    VK_NAME(VK_TIMEOUT),
    VK_NAME(VK_EVENT_SET),
    VK_NAME(VK_EVENT_RESET),
    VK_NAME(VK_INCOMPLETE),
    VK_NAME(VK_ERROR_OUT_OF_HOST_MEMORY),
    VK_NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY),
    VK_NAME(VK_ERROR_INITIALIZATION_FAILED),
    VK_NAME(VK_ERROR_DEVICE_LOST),
    VK_NAME(VK_ERROR_MEMORY_MAP_FAILED),
    VK_NAME(VK_ERROR_LAYER_NOT_PRESENT),
    VK_NAME(VK_ERROR_EXTENSION_NOT_PRESENT),
    VK_NAME(VK_ERROR_FEATURE_NOT_PRESENT),
    VK_NAME(VK_ERROR_INCOMPATIBLE_DRIVER),
    VK_NAME(VK_ERROR_TOO_MANY_OBJECTS),
    VK_NAME(VK_ERROR_FORMAT_NOT_SUPPORTED),
    VK_NAME(VK_ERROR_FRAGMENTED_POOL),
    VK_NAME(VK_ERROR_UNKNOWN),
    VK_NAME(VK_ERROR_OUT_OF_POOL_MEMORY),
    VK_NAME(VK_ERROR_INVALID_EXTERNAL_HANDLE),
    VK_NAME(VK_ERROR_FRAGMENTATION),
    VK_NAME(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS),
    VK_NAME(VK_PIPELINE_COMPILE_REQUIRED),
    VK_NAME(VK_ERROR_SURFACE_LOST_KHR),
    VK_NAME(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR),
    VK_NAME(VK_SUBOPTIMAL_KHR),
    VK_NAME(VK_ERROR_OUT_OF_DATE_KHR),
    VK_NAME(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR),
    VK_NAME(VK_ERROR_VALIDATION_FAILED_EXT),
    VK_NAME(VK_ERROR_INVALID_SHADER_NV),
};
#undef VK_NAME

const char *vk_result_str(VkResult r) {
    for (size_t i = 0; i < sizeof vk_results / sizeof vk_results[0]; i++)
        if (vk_results[i].code == r) return vk_results[i].name;
    return "unknown VkResult";
}

static int is_oom(VkResult r) {
    return r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY;
}

void vk_fail(ts_backend *be, int oom, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ts_backend_vfail(be, oom ? TS_ENOMEM : TS_ERR, fmt, ap);
    va_end(ap);
}

void vk_fail_call(ts_backend *be, const char *call, const char *op, VkResult r) {
    if (is_oom(r))
        vk_fail(be, 1, "out of device memory: %s (%s) failed with %s on %s", call, op,
                vk_result_str(r), vk_ctx_of(be)->device_name);
    else
        vk_fail(be, 0, "%s (%s) failed: %s (%d)", call, op, vk_result_str(r), (int)r);
}

/* ---- raw buffers ----------------------------------------------------------------------- */

static uint32_t find_type(const vk_ctx *ctx, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (ctx->mem_props.memoryTypes[i].propertyFlags & want) == want)
            return i;
    return UINT32_MAX;
}

/* ---- device and stream ----------------------------------------------------------------- */

static void vk_destroy(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (ctx) {
        if (ctx->device) {
            if (ctx->cmd_pool) vk_stream_destroy(be);
            vkDeviceWaitIdle(ctx->device);
            vk_mem_free(ctx, ctx->status);
            vk_mem_free(ctx, ctx->status_host);
            vk_mem_free(ctx, ctx->scratch);
            vk_lstm_persistent_release(ctx);
            vk_mem_destroy(ctx);
            vk_ts_destroy(ctx);
            vk_desc_destroy(ctx);
            vk_pipelines_destroy(ctx);
            vkDestroyDevice(ctx->device, NULL);
        }
        free(ctx->doomed);
        if (ctx->messenger) {
            PFN_vkDestroyDebugUtilsMessengerEXT destroy =
                (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                    ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
            if (destroy) destroy(ctx->instance, ctx->messenger, NULL);
        }
        if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
        free(ctx);
    }
    free(be);
}

static void vk_device_info(ts_backend *be, ts_device_info *out) {
    vk_ctx *ctx = vk_ctx_of(be);
    memset(out, 0, sizeof *out);
    snprintf(out->backend, sizeof out->backend, "vulkan");
    snprintf(out->name, sizeof out->name, "%s", ctx->device_name);
    snprintf(out->vendor, sizeof out->vendor, "0x%04x", ctx->props.vendorID);
    snprintf(out->driver, sizeof out->driver, "%s", ctx->driver);
    uint32_t v = ctx->props.apiVersion;
    snprintf(out->api_version, sizeof out->api_version, "Vulkan %u.%u.%u", (v >> 22) & 0x7fu,
             (v >> 12) & 0x3ffu, v & 0xfffu);
    for (uint32_t i = 0; i < ctx->mem_props.memoryHeapCount; i++)
        if (ctx->mem_props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            out->memory_bytes += ctx->mem_props.memoryHeaps[i].size;
    out->compute_units = 0; /* Vulkan does not say */
    out->threads = 1;
}

/* The status word that shaders set on bad ids or targets, as of the work done so far: read in
 * place when mapped, else from `staged` (a staging copy the caller waited for). A bad code
 * becomes the sticky error; nothing is cleared, as the backend stops at the first error. */
static void check_status_word(ts_backend *be, const int32_t *staged) {
    vk_ctx *ctx = vk_ctx_of(be);
    int32_t word = 0;
    if (staged)
        word = *staged;
    else if (ctx->status->mapped)
        word = *(volatile const int32_t *)ctx->status->mapped;
    if (be->error != TS_OK || word == 0) return;
    if (word == VK_BAD_EMBEDDING_ID)
        vk_fail(be, 0, "embedding: an id is outside the table [0, V) (found on the device)");
    else if (word == VK_BAD_TARGET)
        vk_fail(be, 0,
                "crossentropy: a target is outside the vocabulary [0, V) and is not the ignore "
                "index (found on the device)");
    else
        vk_fail(be, 0, "a shader reported bad data (code %d)", (int)word);
}

/* Unmapped status word: a copy into its host-visible twin recorded into the stream, to read
 * after the wait. */
static const int32_t *stage_status(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (ctx->status->mapped) return NULL;
    VkCommandBuffer cmd = vk_cmd_on(be, ctx->status_host, ctx->status);
    if (!cmd) return NULL;
    VkBufferCopy region = {0, 0, sizeof(int32_t)};
    vkCmdCopyBuffer(cmd, ctx->status->buf, ctx->status_host->buf, 1, &region);
    vk_barrier(be);
    return ctx->status_host->mapped;
}

static ts_status vk_sync(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    const int32_t *staged = NULL;
    if (vk_last_use(ctx, ctx->status) > ctx->done_serial) staged = stage_status(be);
    vk_flush(be);
    check_status_word(be, staged);
    if (!ctx->recording) vk_desc_trim(ctx); /* idle: every submission is done */
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* ---- buffers --------------------------------------------------------------------------- */

static ts_status vk_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out) {
    *out = NULL;
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    vk_ctx *ctx = vk_ctx_of(be);
    ts_buffer *b;
    const char *call;
    VkResult r = vk_mem_buffer(ctx, bytes, 0, &b, &call);
    if (r != VK_SUCCESS) {
        if (is_oom(r))
            return ts_set_error_status(TS_ENOMEM,
                                       "out of device memory: allocating %zu bytes on %s failed "
                                       "with %s (%s)",
                                       bytes, ctx->device_name, vk_result_str(r), call);
        return ts_set_error("vulkan backend: %s for a %zu-byte buffer failed: %s (%d)", call, bytes,
                            vk_result_str(r), (int)r);
    }
    /* Zeroed in stream order: recorded, not waited for. */
    VkCommandBuffer cmd = vk_cmd_on(be, b, NULL);
    if (!cmd) {
        vk_mem_free(ctx, b);
        return ts_backend_replay_error(be);
    }
    vkCmdFillBuffer(cmd, b->buf, 0, VK_WHOLE_SIZE, 0);
    vk_barrier(be);
    *out = b;
    return TS_OK;
}

static void vk_buffer_free(ts_backend *be, ts_buffer *buf) {
    if (buf) vk_retire(be, buf);
}

static size_t vk_buffer_size(ts_backend *be, const ts_buffer *buf) {
    (void)be;
    return buf ? buf->bytes : 0;
}

/* vkCmdUpdateBuffer takes at most 65536 bytes, in whole words. */
#define VK_INLINE_UPLOAD_MAX 65536

static ts_status vk_upload(ts_backend *be, ts_tensor dst, const void *src, size_t bytes) {
    if (bytes == 0) return TS_OK;
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    vk_ctx *ctx = vk_ctx_of(be);
    ts_buffer *b = dst.buf;
    VkDeviceSize off = (VkDeviceSize)dst.off * 4;
    if (b->mapped && vk_last_use(ctx, b) <= ctx->done_serial) {
        /* no submitted or recorded command uses it: write in place (a later submission sees
         * host writes made before it) */
        memcpy((char *)b->mapped + off, src, bytes);
        return TS_OK;
    }
    if (bytes % 4 == 0 && bytes <= VK_INLINE_UPLOAD_MAX) {
        /* Recorded into the stream: ordered after earlier ops that read the old data, and
         * the caller's memory is copied into the command buffer now. */
        VkCommandBuffer cmd = vk_cmd_on(be, b, NULL);
        if (!cmd) return ts_backend_replay_error(be);
        vkCmdUpdateBuffer(cmd, b->buf, off, bytes, src);
        vk_barrier(be);
        return TS_OK;
    }
    /* Through staging, in stream order: no wait unless the staging chunks are all busy. */
    for (size_t done = 0; done < bytes; done += VK_STAGING_BYTES) {
        size_t n = bytes - done < VK_STAGING_BYTES ? bytes - done : VK_STAGING_BYTES;
        void *slot = vk_stage(be, b, off + done, n, 1);
        if (!slot) return ts_backend_replay_error(be);
        memcpy(slot, (const char *)src + done, n);
    }
    return TS_OK;
}

static ts_status vk_download(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    vk_ctx *ctx = vk_ctx_of(be);
    ts_buffer *b = src.buf;
    VkDeviceSize off = (VkDeviceSize)src.off * 4;
    if (b->mapped) {
        /* Start the device on what is recorded, then wait only for the submission that last
         * used b: work recorded after it keeps running. */
        uint64_t need = vk_last_use(ctx, b);
        vk_submit(be);
        vk_wait_serial(be, need);
        if (be->error == TS_OK) memcpy(dst, (const char *)b->mapped + off, bytes);
        /* Data computed from bad ids or targets must not pass silently. */
        check_status_word(be, NULL);
    } else {
        /* Copies to staging in stream order, one wait per chunk. */
        for (size_t done = 0; done < bytes || done == 0; done += VK_STAGING_BYTES) {
            size_t n = bytes - done < VK_STAGING_BYTES ? bytes - done : VK_STAGING_BYTES;
            const int32_t *staged = done == 0 ? stage_status(be) : NULL;
            void *slot = n ? vk_stage(be, b, off + done, n, 0) : NULL;
            if (be->error != TS_OK) break;
            vk_flush(be);
            if (be->error != TS_OK) break;
            if (n) memcpy((char *)dst + done, slot, n);
            if (staged) check_status_word(be, staged);
            if (!bytes) break;
        }
    }
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* ---- the table ------------------------------------------------------------------------- */

static const ts_backend_iface vk_iface = {
    .name = "vulkan",
    .view_limit = UINT32_MAX, /* shaders index with 32-bit unsigned integers */
    TS_BACKEND_MEMBERS(vk),
#define TS_OP(name, exempt, check, ...) .name = vk_##name,
#include "backends/ops.def"
#undef TS_OP
    .timings = vk_timings,
};

/* ---- creation -------------------------------------------------------------------------- */

/* Validation messages (warnings and errors) fail the stream like any other error. */
static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    ts_backend *be = user;
    if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
        fprintf(stderr, "vulkan validation: %s\n", data->pMessage);
        vk_fail(be, 0, "validation layer: %.900s", data->pMessage);
    }
    return VK_FALSE;
}

static int has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *p = malloc(n * sizeof *p);
    int found = 0;
    if (p && vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(p[i].layerName, name);
    free(p);
    return found;
}

static ts_status init_instance(ts_backend *be, vk_ctx *ctx) {
    const char *env = getenv("TUNESCALE_VK_VALIDATION");
    int validate = env && !strcmp(env, "1") && has_layer(VK_VALIDATION_LAYER);
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "tunescale",
                             .pEngineName = "tunescale",
                             .apiVersion = VK_API_VERSION_1_2};
    const char *layers[] = {VK_VALIDATION_LAYER};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkDebugUtilsMessengerCreateInfoEXT mi = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = be};
    VkInstanceCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pApplicationInfo = &app,
                               .enabledLayerCount = validate ? 1 : 0,
                               .ppEnabledLayerNames = layers,
                               .enabledExtensionCount = validate ? 1 : 0,
                               .ppEnabledExtensionNames = exts,
                               .pNext = validate ? &mi : NULL};
    VkResult r = vkCreateInstance(&ii, NULL, &ctx->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return ts_set_error("no Vulkan device: no Vulkan 1.2 driver is installed (install "
                            "mesa-vulkan-drivers or your GPU driver's ICD; tunescale devices lists "
                            "what it finds)");
    if (r != VK_SUCCESS)
        return ts_set_error("vulkan backend: vkCreateInstance failed: %s (%d)", vk_result_str(r),
                            (int)r);
    if (validate) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create || create(ctx->instance, &mi, NULL, &ctx->messenger) != VK_SUCCESS)
            return ts_set_error("vulkan backend: cannot install the validation messenger");
    }
    return TS_OK;
}

static ts_status pick_device(vk_ctx *ctx, int index) {
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(ctx->instance, &n, NULL);
    if (r != VK_SUCCESS)
        return ts_set_error("vulkan backend: vkEnumeratePhysicalDevices failed: %s (%d)",
                            vk_result_str(r), (int)r);
    if (n == 0)
        return ts_set_error("no Vulkan device %d: the loader finds no device (install "
                            "mesa-vulkan-drivers or your GPU driver's ICD)",
                            index);
    if ((uint32_t)index >= n)
        return ts_set_error("no Vulkan device %d (this machine has %u; tunescale devices lists "
                            "them)",
                            index, n);
    VkPhysicalDevice *devs = malloc(n * sizeof *devs);
    if (!devs) return ts_set_error_status(TS_ENOMEM, "out of host memory listing devices");
    r = vkEnumeratePhysicalDevices(ctx->instance, &n, devs);
    if (r == VK_SUCCESS || r == VK_INCOMPLETE) ctx->phys = devs[index];
    free(devs);
    if (!ctx->phys)
        return ts_set_error("vulkan backend: vkEnumeratePhysicalDevices failed: %s (%d)",
                            vk_result_str(r), (int)r);
    vkGetPhysicalDeviceProperties(ctx->phys, &ctx->props);
    vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->mem_props);
    snprintf(ctx->device_name, sizeof ctx->device_name, "%s", ctx->props.deviceName);
    VkPhysicalDeviceDriverProperties drv = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &drv};
    if (ctx->props.apiVersion >= VK_API_VERSION_1_2) {
        vkGetPhysicalDeviceProperties2(ctx->phys, &p2);
        snprintf(ctx->driver, sizeof ctx->driver, "%.60s %.60s", drv.driverName, drv.driverInfo);
    } else {
        return ts_set_error("vulkan backend: %s supports Vulkan %u.%u; tunescale needs 1.2",
                            ctx->device_name, (ctx->props.apiVersion >> 22) & 0x7fu,
                            (ctx->props.apiVersion >> 12) & 0x3ffu);
    }
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, NULL);
    VkQueueFamilyProperties *qf = malloc((nq ? nq : 1) * sizeof *qf);
    if (!qf) return ts_set_error_status(TS_ENOMEM, "out of host memory listing queues");
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, qf);
    int found = 0;
    for (uint32_t i = 0; i < nq && !found; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            ctx->queue_family = i;
            ctx->ts_valid_bits = qf[i].timestampValidBits;
            found = 1;
        }
    free(qf);
    if (!found) return ts_set_error("vulkan backend: %s has no compute queue", ctx->device_name);
    return TS_OK;
}

/* Reads an unsigned environment variable; `fallback` when unset, 0 when not a number. */
static unsigned long long env_u64(const char *name, unsigned long long fallback) {
    const char *env = getenv(name);
    if (!env || !*env) return fallback;
    char *end;
    unsigned long long v = strtoull(env, &end, 10);
    return *end ? 0 : v;
}

/* The binding span and grid limits the dispatches obey. TUNESCALE_VK_MAX_RANGE (bytes) and
 * TUNESCALE_VK_MAX_GROUPS can only lower them: they let small tests cross both limits. */
static ts_status pick_limits(vk_ctx *ctx) {
    const VkPhysicalDeviceLimits *lim = &ctx->props.limits;
    unsigned long long range = env_u64("TUNESCALE_VK_MAX_RANGE", lim->maxStorageBufferRange);
    unsigned long long groups = env_u64("TUNESCALE_VK_MAX_GROUPS", 65535);
    if (range < 16 || groups < 1)
        return ts_set_error_status(TS_EUSAGE, "TUNESCALE_VK_MAX_RANGE must be at least 16 and "
                                              "TUNESCALE_VK_MAX_GROUPS at least 1");
    if (range > lim->maxStorageBufferRange) range = lim->maxStorageBufferRange;
    ctx->max_range = (VkDeviceSize)range & ~(VkDeviceSize)15;
    /* 65535 is the least every device holds; gemm's batch uses z up to that */
    uint32_t g = 65535;
    for (int i = 0; i < 2; i++)
        if (lim->maxComputeWorkGroupCount[i] < g) g = lim->maxComputeWorkGroupCount[i];
    ctx->max_groups = groups < g ? (uint32_t)groups : g;
    return TS_OK;
}

/* The GEMM shader: the tiled one (shared memory) on GPUs, the direct one on CPU devices,
 * unless TUNESCALE_VK_GEMM says "tiled", "direct" or "direct:WG" (its work-group size). */
static ts_status pick_gemm(vk_ctx *ctx) {
    ctx->gemm_direct = ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    ctx->row_wg = ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? VK_ROW_WG_CPU : VK_ROW_WG;
    const char *env = getenv("TUNESCALE_VK_GEMM");
    if (!env || !*env) return TS_OK;
    unsigned wg;
    char tail;
    if (!strcmp(env, "tiled")) {
        ctx->gemm_direct = 0;
    } else if (!strcmp(env, "direct")) {
        ctx->gemm_direct = 1;
    } else if (sscanf(env, "direct:%u%c", &wg, &tail) == 1 && wg >= 1 &&
               wg <= ctx->props.limits.maxComputeWorkGroupSize[0] &&
               wg <= ctx->props.limits.maxComputeWorkGroupInvocations) {
        ctx->gemm_direct = 1;
        ctx->gemm_spec[0] = wg;
    } else {
        return ts_set_error_status(
            TS_EUSAGE, "TUNESCALE_VK_GEMM must be tiled, direct or direct:WG, not '%s'", env);
    }
    return TS_OK;
}

static ts_status init_device(ts_backend *be, vk_ctx *ctx) {
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = ctx->queue_family,
                                  .queueCount = 1,
                                  .pQueuePriorities = &prio};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi};
    vk_lowp_features lowp; /* what --precision needs enabled (vulkan_gemm_lowp.c) */
    vk_precision_features(ctx, &lowp, &di);
    VkResult r = vkCreateDevice(ctx->phys, &di, NULL, &ctx->device);
    if (r != VK_SUCCESS)
        return ts_set_error("vulkan backend: vkCreateDevice on %s failed: %s (%d)",
                            ctx->device_name, vk_result_str(r), (int)r);
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);

    /* Memory types: device-local for buffers; on integrated and CPU devices, where that memory
     * is also host-visible and coherent, buffers are mapped and need no staging. */
    VkMemoryPropertyFlags hv =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t all = UINT32_MAX;
    uint32_t dl = find_type(ctx, all, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    uint32_t dlhv = find_type(ctx, all, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | hv);
    ctx->staging_type = find_type(ctx, all, hv);
    if (ctx->staging_type == UINT32_MAX)
        return ts_set_error("vulkan backend: %s has no host-visible coherent memory",
                            ctx->device_name);
    int uma = ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
              ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    if (dlhv != UINT32_MAX && uma) {
        ctx->mem_type = dlhv;
        ctx->direct_map = 1;
    } else if (dl != UINT32_MAX) {
        ctx->mem_type = dl;
    } else {
        ctx->mem_type = ctx->staging_type;
        ctx->direct_map = 1;
    }
    /* TUNESCALE_VK_STAGING=1: the discrete-GPU path (unmapped buffers, transfers through the
     * staging buffer), so CPU-only CI can test it */
    const char *stg = getenv("TUNESCALE_VK_STAGING");
    if (stg && !strcmp(stg, "1")) ctx->direct_map = 0;

    vk_mem_init(ctx);

    ts_status st = vk_stream_init(be);
    if (st != TS_OK) return st;
    const char *call = "vkCreateBuffer (status word)";
    r = vk_mem_buffer(ctx, 4, 0, &ctx->status, &call);
    if (r == VK_SUCCESS && !ctx->status->mapped)
        r = vk_mem_buffer(ctx, 4, 1, &ctx->status_host, &call);
    if (r != VK_SUCCESS)
        return ts_set_error_status(is_oom(r) ? TS_ENOMEM : TS_ERR,
                                   "vulkan backend: %s failed: %s (%d)", call, vk_result_str(r),
                                   (int)r);
    st = vk_ts_init(be);
    if (st != TS_OK) return st;
    VkCommandBuffer cmd = vk_cmd_on(be, ctx->status, NULL);
    if (!cmd) return ts_backend_replay_error(be);
    vkCmdFillBuffer(cmd, ctx->status->buf, 0, VK_WHOLE_SIZE, 0);
    vk_barrier(be);
    return vk_pipelines_init(be);
}

ts_status ts_vulkan_backend_create(const ts_backend_options *o, ts_backend **out) {
    *out = NULL;
    int index = o ? o->device : 0;
    if (index < 0) return ts_set_error_status(TS_EUSAGE, "--device must be >= 0, not %d", index);
    ts_backend *be = calloc(1, sizeof *be);
    vk_ctx *ctx = calloc(1, sizeof *ctx);
    if (!be || !ctx) {
        free(be);
        free(ctx);
        return ts_set_error_status(TS_ENOMEM, "out of host memory creating the vulkan backend");
    }
    be->iface = &vk_iface;
    be->ctx = ctx;
    const char *prof = getenv("TUNESCALE_VK_PROFILE");
    ctx->profile = prof && !strcmp(prof, "1");
    ctx->gemm_spec[0] = VK_GEMM_DIRECT_WG;
    ctx->gemm_spec[1] = VK_GEMM_DIRECT_RM;
    ctx->gemm_spec[2] = VK_GEMM_DIRECT_RN;
    be->error = TS_OK;
    ts_status st = init_instance(be, ctx);
    if (st == TS_OK) st = pick_device(ctx, index);
    if (st == TS_OK) st = pick_gemm(ctx);
    if (st == TS_OK) st = vk_precision_pick(be, ctx, o ? o->precision : TS_PREC_FP32);
    if (st == TS_OK) st = pick_limits(ctx);
    if (st == TS_OK) st = init_device(be, ctx);
    if (st == TS_OK && be->error != TS_OK) st = ts_backend_replay_error(be);
    if (st != TS_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ts_last_error());
        vk_destroy(be);
        return ts_set_error_status(st, "%s", msg);
    }
    /* maxMemoryAllocationSize; the frontend lowers it further (backend.c) */
    be->max_buffer_bytes =
        ctx->max_alloc_bytes > SIZE_MAX ? SIZE_MAX : (size_t)ctx->max_alloc_bytes;
    *out = be;
    return TS_OK;
}
