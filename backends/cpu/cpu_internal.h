/*
 * cpu_internal.h — private declarations shared by the CPU reference backend's files.
 *
 * Buffers are 64-byte aligned host allocations; a tensor view is buf->data + off. Ops run
 * synchronously on the calling thread plus an OpenMP team of ctx->threads workers. The
 * frontend (backend.c) checks sizes and views and skips every op after the first error, so an
 * op here only runs on valid arguments.
 */
#ifndef TS_BACKENDS_CPU_CPU_INTERNAL_H
#define TS_BACKENDS_CPU_CPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

struct ts_buffer {
    float *data;  /* 64-byte aligned, int32 tensors share the same storage */
    size_t bytes; /* bytes asked at allocation (the allocation itself is rounded up) */
};

typedef struct {
    int threads;   /* OpenMP team size for every parallel loop */
    void *scratch; /* see cpu_scratch */
    size_t scratch_bytes;
} cpu_ctx;

/* Loops with less work than this (in elements) run on one thread: a fork costs microseconds. */
#define CPU_PAR_MIN 16384

static inline cpu_ctx *cpu_ctx_of(ts_backend *be) {
    return (cpu_ctx *)be->ctx;
}
static inline int cpu_threads(ts_backend *be) {
    return cpu_ctx_of(be)->threads;
}

/* Records the first error of the stream (printf format); later ones are dropped. */
void cpu_fail(ts_backend *be, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first element of view t. The frontend (backend.c) has checked every view against its
 * buffer before an op gets here, so an op only has to skip the views it does not touch. */
static inline float *cpu_f32(ts_tensor t) {
    return t.buf->data + t.off;
}
static inline int32_t *cpu_i32(ts_tensor t) {
    return (int32_t *)(t.buf->data + t.off);
}

/* The fp32 product (cpu_gemm's own), and --precision's: inputs rounded to the mode's format
 * into scratch, then the fp32 product (cpu_gemm_lowp.c). cpu_precision_init accepts a mode at
 * creation and says how it is computed. */
void cpu_gemm_f32(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                  ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                  float beta, ts_tensor C, int ldc, long stride_c, int batch);
void cpu_gemm_lowp(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                   ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                   float beta, ts_tensor C, int ldc, long stride_c, int batch);
void cpu_precision_init(ts_backend *be, ts_precision p);

/* Scratch memory owned by the backend, grown on demand and reused by later ops (one stream,
 * so one user at a time). NULL with an out-of-memory error recorded if it cannot grow. */
void *cpu_scratch(ts_backend *be, size_t bytes);

/*
 * Deterministic column sums for parameter gradients (bias, LayerNorm weight and bias): for
 * each column c and output k < nout, out_k[c] += sum_r term_k(r, c). Rows are cut into fixed
 * chunks of CPU_SUM_ROWS, each summed in row order into double partials, and the partials are
 * added in chunk order: the same order for every thread count. fn(arg, r, acc) adds row r's
 * terms to acc[k * cols + c].
 */
#define CPU_SUM_ROWS 64
typedef void (*cpu_row_fn)(const void *arg, int r, double *acc);
void cpu_column_sums(ts_backend *be, int rows, int cols, int nout, cpu_row_fn fn, const void *arg,
                     float *out0, float *out1);

/* sum_i (x[i] - mu)^2 (mu = 0: the plain sum of squares) and sum_i x[i], in double. Eight
 * interleaved accumulators give eight independent add chains (a serial double sum is bound
 * by the add latency) in a fixed order, so the result stays deterministic. They are named
 * variables, not an array, so that they stay in registers. */
#define CPU_SQ(v) (((double)(v)-mu) * ((double)(v)-mu))
static inline double cpu_sumsq_d(const float *x, size_t n, double mu) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 += CPU_SQ(x[i]), a1 += CPU_SQ(x[i + 1]), a2 += CPU_SQ(x[i + 2]);
        a3 += CPU_SQ(x[i + 3]), a4 += CPU_SQ(x[i + 4]), a5 += CPU_SQ(x[i + 5]);
        a6 += CPU_SQ(x[i + 6]), a7 += CPU_SQ(x[i + 7]);
    }
    for (; i < n; i++)
        a0 += CPU_SQ(x[i]);
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}
#undef CPU_SQ

static inline double cpu_sum_d(const float *x, size_t n) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 += x[i], a1 += x[i + 1], a2 += x[i + 2], a3 += x[i + 3];
        a4 += x[i + 4], a5 += x[i + 5], a6 += x[i + 6], a7 += x[i + 7];
    }
    for (; i < n; i++)
        a0 += x[i];
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

/* ---- ops (cpu_*.c): one per entry of backends/ops.def, checked by the frontend ----------- */

#define TS_OP(name, exempt, check, ...) void cpu_##name(ts_backend *be, TS_OP_PARAMS(__VA_ARGS__));
#include "backends/ops.def"
#undef TS_OP

/* Philox4x32-10 of CPU_PHILOX_LANES consecutive blocks {blk0 + j, 0, c2, c3}: out[4j + w] is
 * word w of block j (cpu_elementwise.c; dropout and the fused attention's mask). */
#define CPU_PHILOX_LANES 16
void cpu_philox_lanes(uint32_t blk0, uint32_t c2, uint32_t c3, const uint32_t key[2],
                      uint32_t out[4 * CPU_PHILOX_LANES]);

#endif
