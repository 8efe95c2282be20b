/*
 * cpu_internal.h — private declarations shared by the CPU reference backend's files.
 *
 * Buffers are 64-byte aligned host allocations; a tensor view is buf->data + off. Ops run
 * synchronously on the calling thread plus an OpenMP team of ctx->threads workers. Every op
 * first validates its views against the buffer sizes: a bad view records a sticky error in
 * be->error (reported by sync) and the op does nothing, so a bug upstream never writes out of
 * bounds. After the first error every later op is skipped.
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

/* Pointer to n elements of view t, or NULL (with an error recorded) when the view is null or
 * runs past its buffer. n == 0 only checks that off is inside the buffer. */
float *cpu_f32(ts_backend *be, ts_tensor t, size_t n, const char *op, const char *arg);
int32_t *cpu_i32(ts_backend *be, ts_tensor t, size_t n, const char *op, const char *arg);

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

/* ---- ops (one iface entry each) -------------------------------------------------------- */

void cpu_fill(ts_backend *be, ts_tensor x, float value, size_t n);
void cpu_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);
void cpu_add(ts_backend *be, ts_tensor out, ts_tensor a, ts_tensor b, size_t n);
void cpu_scale(ts_backend *be, ts_tensor x, float s, size_t n);

void cpu_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
              ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
              ts_tensor C, int ldc, long stride_c, int batch);

void cpu_bias_add(ts_backend *be, ts_tensor out, ts_tensor bias, int rows, int cols);
void cpu_bias_backward(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols);

void cpu_embedding_forward(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                           int C, int V, int accumulate);
void cpu_embedding_backward(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids, int n,
                            int C, int V);

void cpu_layernorm_forward(ts_backend *be, ts_tensor out, ts_tensor mean, ts_tensor rstd,
                           ts_tensor inp, ts_tensor weight, ts_tensor bias, int N, int C,
                           float eps);
void cpu_layernorm_backward(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                            ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                            ts_tensor rstd, int N, int C);

void cpu_gelu_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n);
void cpu_gelu_backward(ts_backend *be, ts_tensor dinp, ts_tensor inp, ts_tensor dout, size_t n);
void cpu_dropout_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n, float p,
                         ts_dropout_key key);
void cpu_dropout_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, size_t n, float p,
                          ts_dropout_key key);

void cpu_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor qkv,
                           int B, int T, int NH, int HS);
void cpu_qkv_split_backward(ts_backend *be, ts_tensor dqkv, ts_tensor dq, ts_tensor dk,
                            ts_tensor dv, int B, int T, int NH, int HS);
void cpu_heads_merge_forward(ts_backend *be, ts_tensor out, ts_tensor inp, int B, int T, int NH,
                             int HS);
void cpu_heads_merge_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, int B, int T, int NH,
                              int HS);
void cpu_softmax_causal_forward(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                                float scale);
void cpu_softmax_causal_backward(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                 int BH, int T, float scale);

/* Fused causal attention (cpu_flash_attention.c) */
void cpu_attention_forward(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q, ts_tensor k,
                           ts_tensor v, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key);
void cpu_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                            ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q,
                            ts_tensor k, ts_tensor v, ts_tensor lse, int BH, int T, int HS,
                            float scale, float p, ts_dropout_key key);
/* Philox4x32-10 of CPU_PHILOX_LANES consecutive blocks {blk0 + j, 0, c2, c3}: out[4j + w] is
 * word w of block j (cpu_elementwise.c; dropout and the fused attention's mask). */
#define CPU_PHILOX_LANES 16
void cpu_philox_lanes(uint32_t blk0, uint32_t c2, uint32_t c3, const uint32_t key[2],
                      uint32_t out[4 * CPU_PHILOX_LANES]);

void cpu_lstm_cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                           ts_tensor c_prev, int B, int H, int ld_state);
void cpu_lstm_cell_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                            ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B,
                            int H, int ld_state);

void cpu_crossentropy_forward(ts_backend *be, ts_tensor losses, ts_tensor probs, ts_tensor logits,
                              ts_tensor targets, int N, int V, int ignore_index);
void cpu_crossentropy_backward(ts_backend *be, ts_tensor dlogits, ts_tensor probs,
                               ts_tensor targets, int N, int V, int ignore_index, float scale);

void cpu_sum(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
void cpu_sum_squares(ts_backend *be, ts_tensor out, ts_tensor x, size_t n);
void cpu_adamw(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v, size_t n,
               double lr, double beta1, double beta2, double eps, double weight_decay, int t,
               float grad_scale);

/* bench peak's kernels (cpu_peak.c) */
void cpu_peak_fma(ts_backend *be, ts_tensor out, size_t items, int iters);
void cpu_peak_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n);

#endif
