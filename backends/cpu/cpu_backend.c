/*
 * cpu_backend.c — the CPU reference backend: its iface table, creation, device facts,
 * buffers, view checking and the sticky error. The ops themselves live in cpu_*.c.
 *
 * Work runs synchronously on the caller's thread with OpenMP teams of ctx->threads workers
 * and OpenBLAS for matrix products, so sync has nothing to wait for.
 */
#include "backends/cpu/cpu_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <omp.h>

/* ---- errors and views ------------------------------------------------------------------ */

void cpu_fail(ts_backend *be, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ts_backend_vfail(be, TS_ERR, fmt, ap);
    va_end(ap);
}

void *cpu_scratch(ts_backend *be, size_t bytes) {
    cpu_ctx *ctx = cpu_ctx_of(be);
    if (bytes <= ctx->scratch_bytes) return ctx->scratch;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    void *p = rounded >= bytes ? aligned_alloc(64, rounded) : NULL;
    if (!p) {
        cpu_fail(be, "out of host memory: could not allocate %zu bytes of scratch", bytes);
        be->error = TS_ENOMEM;
        return NULL;
    }
    free(ctx->scratch);
    ctx->scratch = p;
    ctx->scratch_bytes = rounded;
    return p;
}

void cpu_column_sums(ts_backend *be, int rows, int cols, int nout, cpu_row_fn fn, const void *arg,
                     float *out0, float *out1) {
    int chunks = (rows + CPU_SUM_ROWS - 1) / CPU_SUM_ROWS;
    size_t width = (size_t)nout * cols;
    double *part = cpu_scratch(be, (size_t)chunks * width * sizeof *part);
    if (!part) return;
    long work = (long)rows * cols;
#pragma omp parallel num_threads(cpu_threads(be)) if (work >= CPU_PAR_MIN)
    {
#pragma omp for schedule(static)
        for (int k = 0; k < chunks; k++) {
            double *acc = part + (size_t)k * width;
            memset(acc, 0, width * sizeof *acc);
            int r1 = (k + 1) * CPU_SUM_ROWS < rows ? (k + 1) * CPU_SUM_ROWS : rows;
            for (int r = k * CPU_SUM_ROWS; r < r1; r++)
                fn(arg, r, acc);
        }
        /* the implicit barrier above: every partial is complete */
#pragma omp for schedule(static)
        for (size_t c = 0; c < width; c++) {
            double s = 0;
            for (int k = 0; k < chunks; k++)
                s += part[(size_t)k * width + c];
            if (c < (size_t)cols)
                out0[c] += (float)s;
            else
                out1[c - cols] += (float)s;
        }
    }
}

/* ---- device and stream ----------------------------------------------------------------- */

static void cpu_destroy(ts_backend *be) {
    free(cpu_ctx_of(be)->scratch);
    free(be->ctx);
    free(be);
}

/* Copies the value of the first "key : value" line of /proc/cpuinfo into out; 0 if absent. */
static int cpuinfo_field(const char *key, char *out, size_t size) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[512];
    size_t n = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, n) != 0) continue;
        char *p = line + n;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ':') continue;
        p++;
        while (*p == ' ')
            p++;
        p[strcspn(p, "\n")] = '\0';
        snprintf(out, size, "%s", p);
        found = out[0] != '\0';
    }
    fclose(f);
    return found;
}

/* Nominal FP32 peak: cores * GHz * FLOPs per cycle (two FMA pipes: 32 with AVX2, 64 with
 * AVX-512). Only a rough yardstick for reports; 0 when the clock or ISA is unknown. */
static double peak_gflops(int cores) {
    char mhz[64];
    if (!cpuinfo_field("cpu MHz", mhz, sizeof mhz)) return 0;
    double ghz = atof(mhz) / 1000.0;
    double flops_per_cycle = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        flops_per_cycle = 64;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        flops_per_cycle = 32;
#endif
    return cores * ghz * flops_per_cycle;
}

static void cpu_device_info(ts_backend *be, ts_device_info *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->backend, sizeof out->backend, "cpu");
    if (!cpuinfo_field("model name", out->name, sizeof out->name))
        snprintf(out->name, sizeof out->name, "CPU");
    char vendor[128];
    if (!cpuinfo_field("vendor_id", vendor, sizeof vendor)) snprintf(vendor, sizeof vendor, "?");
    const char *v = !strcmp(vendor, "GenuineIntel")   ? "Intel"
                    : !strcmp(vendor, "AuthenticAMD") ? "AMD"
                                                      : vendor;
    snprintf(out->vendor, sizeof out->vendor, "%s", v);

    /* openblas_get_config(): "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64". */
    const char *config = openblas_get_config();
    snprintf(out->driver, sizeof out->driver, "%s", config ? config : "OpenBLAS");
    char name[32] = "", ver[32] = "";
    if (config && sscanf(config, "%31s %31s", name, ver) == 2)
        snprintf(out->api_version, sizeof out->api_version, "%s %s", name, ver);
    else
        snprintf(out->api_version, sizeof out->api_version, "OpenBLAS");

    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    out->memory_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    out->compute_units = cores > 0 ? (int)cores : 1;
    out->threads = cpu_threads(be);
    out->peak_gflops = peak_gflops(out->compute_units);
}

static ts_status cpu_sync(ts_backend *be) {
    return be->error != TS_OK ? ts_backend_replay_error(be) : TS_OK;
}

/* ---- buffers --------------------------------------------------------------------------- */

static ts_status cpu_buffer_alloc(ts_backend *be, size_t bytes, ts_buffer **out) {
    (void)be;
    *out = NULL;
    /* aligned_alloc wants a multiple of the alignment; a 0-byte buffer still gets a line. */
    size_t rounded = bytes + 63 < bytes ? 0 : (bytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    ts_buffer *buf = malloc(sizeof *buf);
    float *data = bytes + 63 < bytes ? NULL : aligned_alloc(64, rounded);
    if (!buf || !data) {
        free(buf);
        free(data);
        return ts_set_error_status(TS_ENOMEM, "out of host memory: could not allocate %zu bytes",
                                   bytes);
    }
    memset(data, 0, rounded);
    buf->data = data;
    buf->bytes = bytes;
    *out = buf;
    return TS_OK;
}

static void cpu_buffer_free(ts_backend *be, ts_buffer *buf) {
    (void)be;
    if (!buf) return;
    free(buf->data);
    free(buf);
}

static size_t cpu_buffer_size(ts_backend *be, const ts_buffer *buf) {
    (void)be;
    return buf ? buf->bytes : 0;
}

/* The frontend has checked the transfer's bounds (backend.c). */
static ts_status cpu_upload(ts_backend *be, ts_tensor dst, const void *src, size_t bytes) {
    (void)be;
    if (bytes) memcpy(dst.buf->data + dst.off, src, bytes);
    return TS_OK;
}

static ts_status cpu_download(ts_backend *be, void *dst, ts_tensor src, size_t bytes) {
    (void)be;
    if (bytes) memcpy(dst, src.buf->data + src.off, bytes);
    return TS_OK;
}

/* ---- the table and its constructor ----------------------------------------------------- */

static const ts_backend_iface cpu_iface = {
    .name = "cpu",
    TS_BACKEND_MEMBERS(cpu),
#define TS_OP(name, exempt, check, ...) .name = cpu_##name,
#include "backends/ops.def"
#undef TS_OP
};

ts_status ts_cpu_backend_create(const ts_backend_options *o, ts_backend **out) {
    *out = NULL;
    int threads = o ? o->threads : 0;
    if (threads < 0)
        return ts_set_error_status(TS_EUSAGE, "--threads must be >= 0, not %d", threads);
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)cores : 1;
    }
    ts_backend *be = ts_backend_new(&cpu_iface, sizeof(cpu_ctx));
    if (!be) return TS_ENOMEM;
    cpu_ctx_of(be)->threads = threads;
    be->dispatch_per_op = 1; /* an op is one call into the thread pool */
    /* Every parallel loop names its team size; this sets the default for any other OpenMP
     * code in the process. OpenBLAS runs single-threaded inside our OpenMP loops (cpu_gemm.c):
     * its own pthread pool would spin beside the OpenMP team and slow every op after a gemm. */
    omp_set_num_threads(threads);
    openblas_set_num_threads(1);
    cpu_precision_init(be, o ? o->precision : TS_PREC_FP32);
    *out = be;
    return TS_OK;
}
