/*
 * opencl_program.c — kernel programs: sources, the on-disk binary cache, kernel lookup and
 * launches.
 *
 * Each cl/<family>.cl is one program, built on first use of one of its kernels, from the copy
 * embedded at build time (or from $TUNESCALE_CL_DIR/<family>.cl while developing), with
 * cl/common.cl in front. Compilers are slow (PoCL takes seconds per program), so built binaries
 * are cached on disk, keyed by sha256 of (device name, driver version, platform version, build
 * options, source): a second run loads the binary instead of compiling. A cache entry carries
 * the sha256 of its payload, so a torn or corrupt file is detected and the program is compiled
 * again (and the entry rewritten).
 */
#include "backends/opencl/opencl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/sha256.h"

static const char *const program_files[OCL_P_COUNT] = {
#define OCL_PROGRAM_FILE(p) [OCL_P_##p] = #p,
    OCL_PROGRAMS(OCL_PROGRAM_FILE)
#undef OCL_PROGRAM_FILE
};

static const struct {
    ocl_program_id program;
    const char *name;
} kernel_table[OCL_K_COUNT] = {
#define OCL_KERNEL_ENTRY(k, program) [OCL_K_##k] = {OCL_P_##program, "ts_" #k},
    OCL_KERNELS(OCL_KERNEL_ENTRY)
#define TS_OP(name, exempt, check, ...)                                                            \
    TS_OP_LAUNCH(OCL_OP_KERNEL, OCL_KERNEL_ENTRY, name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP
#undef OCL_KERNEL_ENTRY
};

#define CACHE_MAGIC     "TSCLBIN1\n"
#define CACHE_MAGIC_LEN 9
#define CACHE_HEADER    (CACHE_MAGIC_LEN + 65) /* magic, payload sha256 hex, '\n' */

/* ---- sources ------------------------------------------------------------------------------ */

/* The text of cl/<name>.cl: from $TUNESCALE_CL_DIR when set (malloc'd, *owned = 1), else the
 * embedded copy. NULL with an error recorded when it cannot be found. */
static char *load_source(ts_backend *be, const char *name, int *owned) {
    *owned = 0;
    const char *dir = getenv("TUNESCALE_CL_DIR");
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.cl", dir, name);
        char *text = NULL;
        size_t len = 0;
        if (ts_read_file(path, &text, &len) != TS_OK) {
            ocl_fail(be, 0, "TUNESCALE_CL_DIR is set but %s cannot be read", path);
            return NULL;
        }
        *owned = 1;
        return text;
    }
    for (const ocl_embedded_source *s = ocl_embedded_sources; s->name; s++)
        if (!strcmp(s->name, name)) return (char *)s->text;
    ocl_fail(be, 0, "kernel file cl/%s.cl was not embedded at build time", name);
    return NULL;
}

/* ---- the disk cache --------------------------------------------------------------------- */

/* The cache directory: $TUNESCALE_CACHE_DIR, else $XDG_CACHE_HOME/tunescale/cl, else
 * ~/.cache/tunescale/cl; 0 when none can be named (the cache is then off). */
static int cache_dir(char *out, size_t size) {
    const char *env = getenv("TUNESCALE_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (env && *env)
        snprintf(out, size, "%s", env);
    else if (xdg && *xdg)
        snprintf(out, size, "%s/tunescale/cl", xdg);
    else if (home && *home)
        snprintf(out, size, "%s/.cache/tunescale/cl", home);
    else
        return 0;
    return 1;
}

/* The cached binary for key, verified against its checksum; NULL when absent or corrupt. */
static unsigned char *cache_load(const char *path, size_t *len) {
    char *data = NULL;
    size_t n = 0;
    if (!ts_is_file(path) || ts_read_file(path, &data, &n) != TS_OK) {
        ts_clear_error();
        return NULL;
    }
    char hex[65];
    if (n <= CACHE_HEADER || memcmp(data, CACHE_MAGIC, CACHE_MAGIC_LEN) != 0 ||
        data[CACHE_HEADER - 1] != '\n') {
        free(data);
        return NULL;
    }
    ts_sha256_hex(data + CACHE_HEADER, n - CACHE_HEADER, hex);
    if (memcmp(hex, data + CACHE_MAGIC_LEN, 64) != 0) {
        free(data);
        return NULL;
    }
    unsigned char *bin = malloc(n - CACHE_HEADER);
    if (bin) memcpy(bin, data + CACHE_HEADER, n - CACHE_HEADER);
    *len = n - CACHE_HEADER;
    free(data);
    return bin;
}

/* Writes the program's binary to the cache; failures only cost a recompile next time. */
static void cache_store(cl_program prog, cl_device_id device, const char *dir, const char *path) {
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    (void)device; /* one device per program: the binaries array has one entry */
    char *file = malloc(CACHE_HEADER + size);
    if (!file) return;
    unsigned char *bin = (unsigned char *)file + CACHE_HEADER;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        char hex[65];
        ts_sha256_hex(bin, size, hex);
        memcpy(file, CACHE_MAGIC, CACHE_MAGIC_LEN);
        memcpy(file + CACHE_MAGIC_LEN, hex, 64);
        file[CACHE_HEADER - 1] = '\n';
        if (ts_mkdir_p(dir) != TS_OK ||
            ts_write_file_atomic(path, file, CACHE_HEADER + size) != TS_OK)
            ts_clear_error();
    }
    free(file);
}

/* ---- building --------------------------------------------------------------------------- */

/* "build log: <first lines>" for an error message. */
static void build_log(cl_program prog, cl_device_id device, char *out, size_t size) {
    out[0] = '\0';
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS)
        return;
    char *log = malloc(n + 1);
    if (!log) return;
    if (clGetProgramBuildInfo(prog, device, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS) {
        log[n] = '\0';
        snprintf(out, size, "%s", log);
    }
    free(log);
}

static cl_program build_from_binary(ocl_ctx *ctx, const unsigned char *bin, size_t len,
                                    const char *options) {
    cl_int err, bin_status = CL_SUCCESS;
    cl_program prog =
        clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, &bin, &bin_status, &err);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        if (prog) clReleaseProgram(prog);
        return NULL;
    }
    if (clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

static cl_program build_program(ts_backend *be, const char *name, const char *options);

static cl_program get_program(ts_backend *be, ocl_program_id id) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (ctx->programs[id]) return ctx->programs[id];
    cl_program prog = build_program(be, program_files[id], ctx->build_options);
    if (prog) ctx->programs[id] = prog;
    return prog;
}

cl_program ocl_build_variant(ts_backend *be, const char *name, const char *extra_options) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    char options[768];
    snprintf(options, sizeof options, "%s %s", ctx->build_options, extra_options);
    return build_program(be, name, options);
}

/* cl/<name>.cl (common.cl in front) built with `options`, through the disk cache. */
static cl_program build_program(ts_backend *be, const char *name, const char *options) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    int own_common, own_body;
    char *common = load_source(be, "common", &own_common);
    char *body = common ? load_source(be, name, &own_body) : NULL;
    if (!body) {
        if (common && own_common) free(common);
        return NULL;
    }
    /* The #line resets error line numbers to the family file's own. */
    size_t cl = strlen(common), bl = strlen(body), extra = strlen(name) + 64;
    char *src = malloc(cl + bl + extra);
    if (src) snprintf(src, cl + bl + extra, "%s\n#line 1 \"%s.cl\"\n%s", common, name, body);
    if (own_common) free(common);
    if (own_body) free(body);
    if (!src) {
        ocl_fail(be, 0, "out of host memory building %s.cl", name);
        return NULL;
    }

    char hex[65], dir[4096], path[4200];
    ts_sha256 *h = ts_sha256_new();
    int cached = cache_dir(dir, sizeof dir) && h;
    if (h) {
        ts_sha256_update(h, ctx->cache_key_prefix, strlen(ctx->cache_key_prefix));
        ts_sha256_update(h, options, strlen(options) + 1);
        ts_sha256_update(h, src, strlen(src));
        ts_sha256_finish_hex(h, hex);
        snprintf(path, sizeof path, "%s/%s-%s.bin", dir, name, hex);
    }
    cl_program prog = NULL;
    if (cached) {
        size_t len = 0;
        unsigned char *bin = cache_load(path, &len);
        if (bin) prog = build_from_binary(ctx, bin, len, options);
        free(bin);
    }
    if (!prog) {
        if (getenv("TUNESCALE_CL_VERBOSE")) ts_info("compiling OpenCL program %s.cl", name);
        cl_int err;
        const char *text = src;
        prog = clCreateProgramWithSource(ctx->context, 1, &text, NULL, &err);
        if (err != CL_SUCCESS) {
            free(src);
            ocl_fail_call(be, "clCreateProgramWithSource", name, err);
            return NULL;
        }
        err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
        if (err != CL_SUCCESS) {
            char log[700];
            build_log(prog, ctx->device, log, sizeof log);
            clReleaseProgram(prog);
            free(src);
            ocl_fail(be, ocl_is_oom(err), "clBuildProgram (%s.cl) failed: %s; build log: %s", name,
                     ocl_error_name(err), log);
            return NULL;
        }
        if (cached) cache_store(prog, ctx->device, dir, path);
    }
    free(src);
    return prog;
}

cl_kernel ocl_kernel(ts_backend *be, ocl_kernel_id id) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (ctx->kernels[id]) return ctx->kernels[id];
    cl_program prog = get_program(be, kernel_table[id].program);
    if (!prog) return NULL;
    cl_int err;
    cl_kernel k = clCreateKernel(prog, kernel_table[id].name, &err);
    if (err != CL_SUCCESS) {
        ocl_fail_call(be, "clCreateKernel", kernel_table[id].name, err);
        return NULL;
    }
    ctx->kernels[id] = k;
    return k;
}

void ocl_release_programs(ocl_ctx *ctx) {
    for (int i = 0; i < OCL_K_COUNT; i++)
        if (ctx->kernels[i]) clReleaseKernel(ctx->kernels[i]);
    for (int i = 0; i < OCL_P_COUNT; i++)
        if (ctx->programs[i]) clReleaseProgram(ctx->programs[i]);
}

/* ---- launches --------------------------------------------------------------------------- */

static const size_t arg_bytes[] = {
#define OCL_ARG_BYTES(m, type) [OCL_ARG_##m] = sizeof(type),
    OCL_ARG_KINDS(OCL_ARG_BYTES)
#undef OCL_ARG_BYTES
};

void ocl_enqueue_kernel(ts_backend *be, cl_kernel k, const char *name, int dims,
                        const size_t *global, const size_t *local, int nargs, const ocl_arg *args) {
    for (int i = 0; i < nargs; i++) {
        const ocl_arg *a = &args[i];
        cl_int err = clSetKernelArg(k, (cl_uint)i, arg_bytes[a->kind], &a->v);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "%s, argument %d", name, i);
            ocl_fail_call(be, "clSetKernelArg", what, err);
            return;
        }
    }
    size_t g[3];
    for (int d = 0; d < dims; d++) {
        if (global[d] == 0) return; /* nothing to do */
        g[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    }
    cl_event *timed = ocl_profile_event(be, name); /* NULL unless profiling */
    cl_int err = clEnqueueNDRangeKernel(ocl_ctx_of(be)->queue, k, (cl_uint)dims, NULL, g, local, 0,
                                        NULL, timed);
    if (err != CL_SUCCESS) {
        if (timed) ocl_profile_drop_last(be);
        ocl_fail_call(be, "clEnqueueNDRangeKernel", name, err);
    }
    be->dispatches++;
}

void ocl_launch(ts_backend *be, ocl_kernel_id id, int dims, const size_t *global,
                const size_t *local, int nargs, const ocl_arg *args) {
    if (be->error != TS_OK) return;
    cl_kernel k = ocl_kernel(be, id);
    if (k) ocl_enqueue_kernel(be, k, kernel_table[id].name, dims, global, local, nargs, args);
}
