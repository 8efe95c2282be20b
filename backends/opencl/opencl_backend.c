/*
 * opencl_backend.c — the OpenCL backend's iface table, creation (platform and device by the
 * flattened index `tunescale devices` prints), device facts, buffers, transfers and errors.
 *
 * Errors: every failed OpenCL call becomes one message naming the call and the error by name,
 * recorded as the sticky be->error and re-reported by sync and every later transfer. Device
 * out-of-memory (which drivers may report only when a buffer is first used) becomes TS_ENOMEM.
 */
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS /* clCreateCommandQueue, see init_ctx */
#include "backends/opencl/opencl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#ifndef TS_CLBLAST_VERSION
#define TS_CLBLAST_VERSION "?"
#endif

/* The ICD loader's "no platform" code lives in cl_ext.h; its value is fixed by the spec. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* ---- error names ----------------------------------------------------------------------- */

#define OCL_ERR(x)                                                                                 \
    { x, #x }
typedef struct {
    int code;
    const char *name;
} code_name;

static const code_name cl_errors[] = {
    OCL_ERR(CL_SUCCESS),
    OCL_ERR(CL_DEVICE_NOT_FOUND),
    OCL_ERR(CL_DEVICE_NOT_AVAILABLE),
    OCL_ERR(CL_COMPILER_NOT_AVAILABLE),
    OCL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE),
    OCL_ERR(CL_OUT_OF_RESOURCES),
    OCL_ERR(CL_OUT_OF_HOST_MEMORY),
    OCL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE),
    OCL_ERR(CL_MEM_COPY_OVERLAP),
    OCL_ERR(CL_IMAGE_FORMAT_MISMATCH),
    OCL_ERR(CL_IMAGE_FORMAT_NOT_SUPPORTED),
    OCL_ERR(CL_BUILD_PROGRAM_FAILURE),
    OCL_ERR(CL_MAP_FAILURE),
    OCL_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET),
    OCL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST),
    OCL_ERR(CL_COMPILE_PROGRAM_FAILURE),
    OCL_ERR(CL_LINKER_NOT_AVAILABLE),
    OCL_ERR(CL_LINK_PROGRAM_FAILURE),
    OCL_ERR(CL_DEVICE_PARTITION_FAILED),
    OCL_ERR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE),
    OCL_ERR(CL_INVALID_VALUE),
    OCL_ERR(CL_INVALID_DEVICE_TYPE),
    OCL_ERR(CL_INVALID_PLATFORM),
    OCL_ERR(CL_INVALID_DEVICE),
    OCL_ERR(CL_INVALID_CONTEXT),
    OCL_ERR(CL_INVALID_QUEUE_PROPERTIES),
    OCL_ERR(CL_INVALID_COMMAND_QUEUE),
    OCL_ERR(CL_INVALID_HOST_PTR),
    OCL_ERR(CL_INVALID_MEM_OBJECT),
    OCL_ERR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR),
    OCL_ERR(CL_INVALID_IMAGE_SIZE),
    OCL_ERR(CL_INVALID_SAMPLER),
    OCL_ERR(CL_INVALID_BINARY),
    OCL_ERR(CL_INVALID_BUILD_OPTIONS),
    OCL_ERR(CL_INVALID_PROGRAM),
    OCL_ERR(CL_INVALID_PROGRAM_EXECUTABLE),
    OCL_ERR(CL_INVALID_KERNEL_NAME),
    OCL_ERR(CL_INVALID_KERNEL_DEFINITION),
    OCL_ERR(CL_INVALID_KERNEL),
    OCL_ERR(CL_INVALID_ARG_INDEX),
    OCL_ERR(CL_INVALID_ARG_VALUE),
    OCL_ERR(CL_INVALID_ARG_SIZE),
    OCL_ERR(CL_INVALID_KERNEL_ARGS),
    OCL_ERR(CL_INVALID_WORK_DIMENSION),
    OCL_ERR(CL_INVALID_WORK_GROUP_SIZE),
    OCL_ERR(CL_INVALID_WORK_ITEM_SIZE),
    OCL_ERR(CL_INVALID_GLOBAL_OFFSET),
    OCL_ERR(CL_INVALID_EVENT_WAIT_LIST),
    OCL_ERR(CL_INVALID_EVENT),
    OCL_ERR(CL_INVALID_OPERATION),
    OCL_ERR(CL_INVALID_GL_OBJECT),
    OCL_ERR(CL_INVALID_BUFFER_SIZE),
    OCL_ERR(CL_INVALID_MIP_LEVEL),
    OCL_ERR(CL_INVALID_GLOBAL_WORK_SIZE),
    OCL_ERR(CL_INVALID_PROPERTY),
    OCL_ERR(CL_INVALID_IMAGE_DESCRIPTOR),
    OCL_ERR(CL_INVALID_COMPILER_OPTIONS),
    OCL_ERR(CL_INVALID_LINKER_OPTIONS),
    OCL_ERR(CL_INVALID_DEVICE_PARTITION_COUNT),
    OCL_ERR(CL_INVALID_PIPE_SIZE),
    OCL_ERR(CL_INVALID_DEVICE_QUEUE),
    OCL_ERR(CL_INVALID_SPEC_ID),
    OCL_ERR(CL_MAX_SIZE_RESTRICTION_EXCEEDED),
    OCL_ERR(CL_PLATFORM_NOT_FOUND_KHR),
};

static const code_name clblast_errors[] = {
    OCL_ERR(CLBlastNotImplemented),
    OCL_ERR(CLBlastInvalidMatrixA),
    OCL_ERR(CLBlastInvalidMatrixB),
    OCL_ERR(CLBlastInvalidMatrixC),
    OCL_ERR(CLBlastInvalidDimension),
    OCL_ERR(CLBlastInvalidLeadDimA),
    OCL_ERR(CLBlastInvalidLeadDimB),
    OCL_ERR(CLBlastInvalidLeadDimC),
    OCL_ERR(CLBlastInsufficientMemoryA),
    OCL_ERR(CLBlastInsufficientMemoryB),
    OCL_ERR(CLBlastInsufficientMemoryC),
    OCL_ERR(CLBlastInsufficientMemoryTemp),
    OCL_ERR(CLBlastInvalidBatchCount),
    OCL_ERR(CLBlastInvalidOverrideKernel),
    OCL_ERR(CLBlastMissingOverrideParameter),
    OCL_ERR(CLBlastInvalidLocalMemUsage),
    OCL_ERR(CLBlastDatabaseError),
    OCL_ERR(CLBlastUnknownError),
    OCL_ERR(CLBlastUnexpectedError),
};
#undef OCL_ERR

/* The name of `code` in table[0..n), or NULL. */
static const char *find_name(const code_name *table, size_t n, int code) {
    for (size_t i = 0; i < n; i++)
        if (table[i].code == code) return table[i].name;
    return NULL;
}

const char *ocl_error_name(cl_int err) {
    const char *name = find_name(cl_errors, sizeof cl_errors / sizeof cl_errors[0], err);
    return name ? name : "unknown OpenCL error";
}

const char *ocl_clblast_error_name(int status) {
    const char *name =
        find_name(clblast_errors, sizeof clblast_errors / sizeof clblast_errors[0], status);
    return name ? name : ocl_error_name((cl_int)status); /* CLBlast passes OpenCL's codes on */
}

int ocl_is_oom(cl_int err) {
    return err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
           err == CL_OUT_OF_HOST_MEMORY;
}

void ocl_fail_call(ts_backend *be, const char *call, const char *op, cl_int err) {
    ts_backend_fail_call(be, ocl_is_oom(err), call, op, ocl_error_name(err), (int)err,
                         ocl_ctx_of(be)->device_name);
}

cl_mem ocl_scratch(ts_backend *be, size_t bytes) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (bytes <= ctx->scratch_bytes && ctx->scratch) return ctx->scratch;
    size_t rounded = (bytes + 4095) & ~(size_t)4095;
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, rounded, NULL, &err);
    if (err != CL_SUCCESS) {
        ocl_fail_call(be, "clCreateBuffer", "scratch", err);
        return NULL;
    }
    /* The old scratch may still be in use by enqueued kernels: OpenCL keeps it alive until they
     * finish, so releasing it here is safe. */
    if (ctx->scratch) clReleaseMemObject(ctx->scratch);
    ctx->scratch = m;
    ctx->scratch_bytes = rounded;
    return m;
}

/* ---- device and stream ----------------------------------------------------------------- */

static void ocl_destroy(ts_backend *be) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (ctx) {
        if (ctx->queue) clFinish(ctx->queue);
        for (int i = 0; i < OCL_READS; i++)
            if (ctx->reads[i].done) clReleaseEvent(ctx->reads[i].done);
        for (int i = 0; i < OCL_STAGING_SLOTS; i++) {
            if (ctx->staging[i].done) clReleaseEvent(ctx->staging[i].done);
            free(ctx->staging[i].host);
        }
        ocl_profile_free(ctx);
        ocl_release_programs(ctx);
        ocl_gemm_release(ctx);
        ocl_lstm_persistent_release(ctx);
        if (ctx->scratch) clReleaseMemObject(ctx->scratch);
        if (ctx->status) clReleaseMemObject(ctx->status);
        if (ctx->queue) clReleaseCommandQueue(ctx->queue);
        if (ctx->context) clReleaseContext(ctx->context);
        free(ctx);
    }
    free(be);
}

static void device_str(cl_device_id d, cl_device_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetDeviceInfo(d, what, size, out, NULL) != CL_SUCCESS) out[0] = '\0';
    out[size - 1] = '\0';
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\n'))
        out[--n] = '\0';
}

static void platform_str(cl_platform_id p, cl_platform_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetPlatformInfo(p, what, size, out, NULL) != CL_SUCCESS) out[0] = '\0';
    out[size - 1] = '\0';
}

static void ocl_device_info(ts_backend *be, ts_device_info *out) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    memset(out, 0, sizeof *out);
    snprintf(out->backend, sizeof out->backend, "opencl");
    device_str(ctx->device, CL_DEVICE_NAME, out->name, sizeof out->name);
    device_str(ctx->device, CL_DEVICE_VENDOR, out->vendor, sizeof out->vendor);
    char drv[64];
    device_str(ctx->device, CL_DRIVER_VERSION, drv, sizeof drv);
    /* CLBlast has no API to say whether this device is in its tuning database; the note tells
     * the reader where the numbers come from and how to tune (backends/opencl/README.md). */
    snprintf(out->driver, sizeof out->driver, "%.40s; %.80s", drv, ctx->clblast_note);
    device_str(ctx->device, CL_DEVICE_VERSION, out->api_version, sizeof out->api_version);
    cl_ulong mem = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL) ==
        CL_SUCCESS)
        out->memory_bytes = mem;
    cl_uint cus = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL) ==
        CL_SUCCESS)
        out->compute_units = (int)cus;
    out->threads = 1;
    out->peak_gflops = 0; /* OpenCL does not say how many lanes a compute unit has */
}

/* Fails the stream when the status word (read into ctx->status_host) holds a bad-data code. */
static void judge_status_word(ts_backend *be) {
    cl_int word = ocl_ctx_of(be)->status_host;
    if (word != 0) ts_backend_fail_bad_data(be, (int)word);
}

/* Enqueues the read of the status word that kernels set on bad ids or targets; blocking, it is
 * the wait itself (the queue is in order: it returns once all earlier work is done). */
static cl_int read_status_word(ts_backend *be, cl_bool blocking) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    cl_int err = clEnqueueReadBuffer(ctx->queue, ctx->status, blocking, 0, sizeof ctx->status_host,
                                     &ctx->status_host, 0, NULL, NULL);
    if (err != CL_SUCCESS) ocl_fail_call(be, "clEnqueueReadBuffer", "status word", err);
    return err;
}

/* One wait: the blocking status-word read drains the in-order queue like clFinish would. */
static ts_status ocl_sync(ts_backend *be) {
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    be->host_waits++;
    if (read_status_word(be, CL_TRUE) == CL_SUCCESS) judge_status_word(be);
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* ---- buffers --------------------------------------------------------------------------- */

/* Bytes one clEnqueueFillBuffer may cover: NVIDIA's OpenCL fails very large fills (seen as
 * CL_INVALID_COMMAND_QUEUE on an 8 GiB buffer), so big ranges are filled piece by piece. */
#define OCL_FILL_CHUNK ((size_t)256 << 20)

cl_int ocl_fill_bytes(ocl_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, cl_float value) {
    cl_int err = CL_SUCCESS;
    for (size_t done = 0; done < bytes && err == CL_SUCCESS; done += OCL_FILL_CHUNK) {
        size_t n = bytes - done < OCL_FILL_CHUNK ? bytes - done : OCL_FILL_CHUNK;
        err = clEnqueueFillBuffer(ctx->queue, mem, &value, sizeof value, offset + done, n, 0, NULL,
                                  NULL);
    }
    return err;
}

static ts_status ocl_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out) {
    *out = NULL;
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    ocl_ctx *ctx = ocl_ctx_of(be);
    /* A zero-size cl_mem is invalid; whole elements keep the fill pattern aligned. */
    size_t size = bytes + 3 < bytes ? 0 : (bytes + 3) & ~(size_t)3;
    if (size == 0) size = 4;
    ts_buffer *buf = malloc(sizeof *buf);
    if (!buf) return ts_set_error_status(TS_ENOMEM, "out of host memory allocating a buffer");
    cl_int err;
    const char *call = "clCreateBuffer";
    buf->mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, size, NULL, &err);
    buf->bytes = bytes;
    if (err == CL_SUCCESS) {
        /* Drivers allocate lazily: the zero fill plus a wait makes an out-of-memory surface
         * here, as TS_ENOMEM at the allocation, instead of in some later kernel. */
        call = "clEnqueueFillBuffer (zeroing the new buffer)";
        err = ocl_fill_bytes(ctx, buf->mem, 0, size, 0.0f);
        if (err == CL_SUCCESS) {
            call = "clFinish (after zeroing the new buffer)";
            err = clFinish(ctx->queue);
        }
        if (err != CL_SUCCESS) clReleaseMemObject(buf->mem);
    }
    if (err != CL_SUCCESS) {
        free(buf);
        if (ocl_is_oom(err) || err == CL_INVALID_BUFFER_SIZE)
            return ts_set_error_status(TS_ENOMEM,
                                       "out of device memory: allocating %zu bytes on %s failed "
                                       "with %s (%s)",
                                       bytes, ctx->device_name, ocl_error_name(err), call);
        return ts_set_error("opencl backend: %s for a buffer of %zu bytes failed: %s (%d)", call,
                            bytes, ocl_error_name(err), (int)err);
    }
    *out = buf;
    return TS_OK;
}

static void ocl_buffer_free(ts_backend *be, ts_buffer *buf) {
    (void)be;
    if (!buf) return;
    clReleaseMemObject(buf->mem); /* deferred by OpenCL until enqueued users finish */
    free(buf);
}

static size_t ocl_buffer_size(ts_backend *be, const ts_buffer *buf) {
    (void)be;
    return buf ? buf->bytes : 0;
}

/* A staging area that is idle (its last write done) and can hold `bytes`; NULL when all are
 * still in flight. */
static ocl_staging *idle_staging(ts_backend *be, size_t bytes) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    ocl_staging *pick = NULL;
    for (int i = 0; i < OCL_STAGING_SLOTS; i++) {
        ocl_staging *a = &ctx->staging[i];
        if (a->done) {
            cl_int state = CL_QUEUED;
            if (clGetEventInfo(a->done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state,
                               NULL) == CL_SUCCESS &&
                state > CL_COMPLETE) /* queued, submitted or running: still reading */
                continue;
            clReleaseEvent(a->done);
            a->done = NULL;
        }
        if (!pick || (pick->cap < bytes && a->cap > pick->cap)) pick = a;
    }
    if (pick && pick->cap < bytes) {
        void *grown = malloc(bytes);
        if (!grown) return NULL;
        free(pick->host);
        pick->host = grown;
        pick->cap = bytes;
    }
    return pick;
}

/* The caller may reuse its host memory as soon as we return: small uploads (ids, targets,
 * a few scalars) are copied into a staging area and written without waiting; large ones (the
 * initial parameters) block. */
static ts_status ocl_upload(ts_backend *be, ts_tensor dst, const void *src, size_t bytes) {
    if (bytes == 0) return TS_OK;
    ocl_ctx *ctx = ocl_ctx_of(be);
    ocl_staging *a = bytes <= OCL_STAGING_MAX ? idle_staging(be, bytes) : NULL;
    cl_int err;
    if (a) {
        memcpy(a->host, src, bytes);
        err = clEnqueueWriteBuffer(ctx->queue, dst.buf->mem, CL_FALSE, dst.off * 4, bytes, a->host,
                                   0, NULL, &a->done);
        if (err != CL_SUCCESS) a->done = NULL;
    } else {
        be->host_waits++;
        err = clEnqueueWriteBuffer(ctx->queue, dst.buf->mem, CL_TRUE, dst.off * 4, bytes, src, 0,
                                   NULL, NULL);
    }
    if (err != CL_SUCCESS) {
        ocl_fail_call(be, "clEnqueueWriteBuffer", "upload", err);
        return ts_backend_replay_error(be);
    }
    return TS_OK;
}

/* One wait: the status word is read without blocking just before the data, whose blocking read
 * then finds both done (in-order queue). Data computed from bad ids or targets must not pass
 * silently. */
static ts_status ocl_download(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    if (!bytes) return ocl_sync(be);
    if (be->error != TS_OK) return ts_backend_replay_error(be);
    be->host_waits++;
    if (read_status_word(be, CL_FALSE) == CL_SUCCESS) {
        cl_int err = clEnqueueReadBuffer(ocl_ctx_of(be)->queue, src.buf->mem, CL_TRUE, src.off * 4,
                                         bytes, dst, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            ocl_fail_call(be, "clEnqueueReadBuffer", "download", err);
        else
            judge_status_word(be);
    }
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* The non-blocking half: the status word and the data are read without waiting (in stream
 * order, so the data is what the ops enqueued so far left there); no free slot: a plain
 * download. */
static ts_status ocl_download_start(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    ocl_read *r = NULL;
    for (int i = 0; i < OCL_READS && !r; i++)
        if (!ctx->reads[i].dst) r = &ctx->reads[i];
    if (!r || !bytes) return ocl_download(be, dst, src, bytes);
    cl_int err = clEnqueueReadBuffer(ctx->queue, ctx->status, CL_FALSE, 0, sizeof r->status_word,
                                     &r->status_word, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(ctx->queue, src.buf->mem, CL_FALSE, src.off * 4, bytes, dst, 0,
                                  NULL, &r->done);
    if (err != CL_SUCCESS) {
        /* what was enqueued may still write status_word: drain before giving the slot up */
        clFinish(ctx->queue);
        ocl_fail_call(be, "clEnqueueReadBuffer", "download", err);
        return ts_backend_replay_error(be);
    }
    r->dst = dst;
    return TS_OK;
}

/* The waiting half: one host wait, for that copy (and everything enqueued before it). */
static ts_status ocl_download_wait(ts_backend *be, void *dst) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    for (int i = 0; i < OCL_READS; i++) {
        ocl_read *r = &ctx->reads[i];
        if (r->dst != dst) continue;
        be->host_waits++;
        cl_int err = clWaitForEvents(1, &r->done);
        clReleaseEvent(r->done);
        r->done = NULL;
        r->dst = NULL;
        if (err != CL_SUCCESS) {
            ocl_fail_call(be, "clWaitForEvents", "download", err);
        } else {
            ctx->status_host = r->status_word;
            judge_status_word(be);
        }
        break;
    }
    /* not in flight: it was a plain download, already done */
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* ---- the table and its constructor ----------------------------------------------------- */

static const ts_backend_iface ocl_iface = {
    .name = "opencl",
    TS_BACKEND_MEMBERS(ocl),
#define TS_OP(name, exempt, check, ...) .name = ocl_##name,
#include "backends/ops.def"
#undef TS_OP
    .download_start = ocl_download_start,
    .download_wait = ocl_download_wait,
    .timings = ocl_timings,
};

/* Finds device `index` in the flattened (platform, device) order of `tunescale devices`. */
static ts_status find_device(int index, cl_platform_id *platform, cl_device_id *device) {
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0))
        return ts_set_error("no OpenCL device %d: no OpenCL platform is installed (install an "
                            "ICD such as pocl-opencl-icd or your GPU driver's; tunescale devices "
                            "lists what it finds)",
                            index);
    if (err != CL_SUCCESS)
        return ts_set_error("opencl backend: clGetPlatformIDs failed: %s (%d)", ocl_error_name(err),
                            (int)err);
    cl_platform_id *plats = malloc(np * sizeof *plats);
    if (!plats) return ts_set_error_status(TS_ENOMEM, "out of host memory listing platforms");
    err = clGetPlatformIDs(np, plats, NULL);
    int seen = 0, found = 0;
    for (cl_uint p = 0; err == CL_SUCCESS && p < np && !found; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue; /* as opencl_info.c: a platform without devices adds no indices */
        cl_device_id *devs = malloc(nd * sizeof *devs);
        if (devs && clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) == CL_SUCCESS &&
            index >= seen && index < seen + (int)nd) {
            *platform = plats[p];
            *device = devs[index - seen];
            found = 1;
        }
        seen += (int)nd;
        free(devs);
    }
    free(plats);
    if (err != CL_SUCCESS)
        return ts_set_error("opencl backend: clGetPlatformIDs failed: %s (%d)", ocl_error_name(err),
                            (int)err);
    if (!found)
        return ts_set_error("no OpenCL device %d (this machine has %d; tunescale devices lists "
                            "them)",
                            index, seen);
    return TS_OK;
}

/* Largest power of two <= both limit and the device's work-group limit. */
static int pow2_wg(cl_device_id d, int limit) {
    size_t max_wg = 1;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL) !=
        CL_SUCCESS)
        max_wg = 64;
    int wg = 1;
    while (wg * 2 <= limit && (size_t)(wg * 2) <= max_wg)
        wg *= 2;
    return wg;
}

static ts_status init_ctx(ocl_ctx *ctx, int index) {
    ts_status st = find_device(index, &ctx->platform, &ctx->device);
    if (st != TS_OK) return st;
    device_str(ctx->device, CL_DEVICE_NAME, ctx->device_name, sizeof ctx->device_name);
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return ts_set_error("opencl backend: clCreateContext on %s failed: %s (%d)",
                            ctx->device_name, ocl_error_name(err), (int)err);
    /* clCreateCommandQueue is deprecated in 2.0+, but it is the one call that 1.2 platforms
     * (still common on GPUs) have too. In-order; profiling only when asked for, since events
     * cost time on every launch. */
    const char *prof = getenv("TUNESCALE_CL_PROFILE");
    ctx->profiling = prof && atoi(prof) > 0;
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device,
                                      ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS)
        return ts_set_error("opencl backend: clCreateCommandQueue failed: %s (%d)",
                            ocl_error_name(err), (int)err);
    cl_int zero = 0;
    ctx->status = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                 sizeof zero, &zero, &err);
    if (err != CL_SUCCESS)
        return ts_set_error("opencl backend: clCreateBuffer (status word) failed: %s (%d)",
                            ocl_error_name(err), (int)err);

    ctx->row_wg = pow2_wg(ctx->device, OCL_ROW_WG_MAX);
    if (ctx->row_wg < OCL_RED_WG)
        return ts_set_error("opencl backend: %s allows work-groups of only %d items; tunescale "
                            "needs %d",
                            ctx->device_name, ctx->row_wg, OCL_RED_WG);
    /* Correctly rounded divide and sqrt where the device offers them: AdamW and the norms then
     * round like the CPU backend. No fast-math flags: results must stay IEEE. */
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    snprintf(ctx->build_options, sizeof ctx->build_options,
             "-cl-std=CL1.2%s -DTS_WG=%d -DTS_ROW_WG=%d -DTS_RED_WG=%d -DTS_RED_GROUPS=%d "
             "-DTS_COLSUM_ROWS=%d -DTS_EMB_TILE=%d -DTS_BAD_EMBEDDING_ID=%d -DTS_BAD_TARGET=%d "
             "-DTS_ATT_TILE=%d -DTS_ATT_MAX_HS=%d",
             (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) ? " -cl-fp32-correctly-rounded-divide-sqrt"
                                                        : "",
             OCL_WG, ctx->row_wg, OCL_RED_WG, OCL_RED_GROUPS, OCL_COLSUM_ROWS, OCL_EMB_TILE,
             OCL_BAD_EMBEDDING_ID, OCL_BAD_TARGET, OCL_ATT_TILE, TS_ATTENTION_MAX_HS);
    char drv[128], pver[256];
    device_str(ctx->device, CL_DRIVER_VERSION, drv, sizeof drv);
    platform_str(ctx->platform, CL_PLATFORM_VERSION, pver, sizeof pver);
    snprintf(ctx->cache_key_prefix, sizeof ctx->cache_key_prefix, "%s\n%s\n%s\n", ctx->device_name,
             drv, pver);
    snprintf(ctx->clblast_note, sizeof ctx->clblast_note,
             "CLBlast %s (default tuning; to tune see backends/opencl/README.md)",
             TS_CLBLAST_VERSION);
    return TS_OK;
}

ts_status ts_opencl_backend_create(const ts_backend_options *o, ts_backend **out) {
    *out = NULL;
    int index = o ? o->device : 0;
    if (index < 0) return ts_set_error_status(TS_EUSAGE, "--device must be >= 0, not %d", index);
    ts_backend *be = ts_backend_new(&ocl_iface, sizeof(ocl_ctx));
    if (!be) return TS_ENOMEM;
    ocl_ctx *ctx = ocl_ctx_of(be);
    ts_status st = init_ctx(ctx, index);
    if (st == TS_OK) st = ocl_precision_init(be, o ? o->precision : TS_PREC_FP32);
    if (st != TS_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ts_last_error());
        ocl_destroy(be);
        return ts_set_error_status(st, "%s", msg);
    }
    cl_ulong max_alloc = 0; /* the frontend lowers it further (backend.c) */
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc,
                        NULL) == CL_SUCCESS)
        be->max_buffer_bytes = max_alloc > SIZE_MAX ? SIZE_MAX : (size_t)max_alloc;
    *out = be;
    return TS_OK;
}
