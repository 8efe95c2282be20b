/*
 * cpu_gemm.c — matrix products (OpenBLAS sgemm) and the bias ops that follow them.
 *
 * gemm: C_b = alpha op(A_b) op(B_b) + beta C_b for b < batch, row-major. OpenBLAS runs
 * single-threaded and the OpenMP team does the splitting: each product is cut into slabs of
 * rows (or columns) by its shape alone (gemm_plan), and the team shares out the (batch entry,
 * slab) pairs. One thread pool instead of
 * two: OpenBLAS's own pthreads spin for a while after each call and would steal the cores
 * from the OpenMP loops that follow (measured: up to 1.5x slower mixed steps on 2 cores).
 * Every C element is a full-K sum from one sgemm call over a block fixed by the shape alone, so
 * results are the same bits for any thread count.
 */
#include "backends/cpu/cpu_internal.h"

#include <cblas.h>

/* Below this many multiply-adds a product is not worth splitting over the team. */
#define GEMM_SPLIT_MACS (1L << 18)

/* C = beta * C for one M x N block (K == 0: the product adds nothing). */
static void scale_block(float *c, int M, int N, int ldc, float beta) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
}

typedef struct {
    int trans_a, trans_b, M, N, K;
    float alpha;
    const float *A;
    int lda;
    const float *B;
    int ldb;
    float beta;
    float *C;
    int ldc;
} gemm_args;

/* Rows [i0, i1) x columns [j0, j1) of one product, single-threaded sgemm; oa/ob/oc offset
 * A, B and C to a batch entry. Row i of op(A) starts at A + i*lda (A + i when transposed);
 * column j of op(B) at B + j (B + j*ldb when transposed). */
static void gemm_part(const gemm_args *g, size_t oa, size_t ob, size_t oc, int i0, int i1, int j0,
                      int j1) {
    if (i1 <= i0 || j1 <= j0) return;
    const float *a = g->A + oa + (g->trans_a ? (size_t)i0 : (size_t)i0 * g->lda);
    const float *b = g->B + ob + (g->trans_b ? (size_t)j0 * g->ldb : (size_t)j0);
    float *c = g->C + oc + (size_t)i0 * g->ldc + j0;
    cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                g->trans_b ? CblasTrans : CblasNoTrans, i1 - i0, j1 - j0, g->K, g->alpha, a, g->lda,
                b, g->ldb, g->beta, c, g->ldc);
}

/* How one product is cut: the longer of M and N into slabs whose size depends on the product
 * alone (multiples of 16, the kernels' unroll; at most 32 of them; none below GEMM_SPLIT_MACS),
 * never on the team. OpenBLAS takes other kernels for small blocks, so a cut per thread gave
 * other bits for another --threads, and a sweep's MPI ranks (fewer threads each) other losses
 * than one process. Returns the number of slabs. */
typedef struct {
    int by_rows, len, slab;
} gemm_cut;

static int gemm_plan(const gemm_args *g, gemm_cut *cut) {
    cut->by_rows = g->M >= g->N;
    cut->len = cut->by_rows ? g->M : g->N;
    if ((long)g->M * g->N * g->K < GEMM_SPLIT_MACS) {
        cut->slab = cut->len;
        return 1;
    }
    int slab = (cut->len + 31) / 32;
    slab = (slab + 15) / 16 * 16;
    cut->slab = slab < 64 ? 64 : slab;
    return (cut->len + cut->slab - 1) / cut->slab;
}

/* Slab p of batch entry b: a full-K single-threaded sgemm. */
static void gemm_slab(const gemm_args *g, const gemm_cut *cut, long sa, long sb, long sc, int b,
                      int p) {
    int lo = p * cut->slab, hi = lo + cut->slab < cut->len ? lo + cut->slab : cut->len;
    size_t oa = (size_t)b * sa, ob = (size_t)b * sb, oc = (size_t)b * sc;
    if (cut->by_rows)
        gemm_part(g, oa, ob, oc, lo, hi, 0, g->N);
    else
        gemm_part(g, oa, ob, oc, 0, g->M, lo, hi);
}

void cpu_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
              ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
              ts_tensor C, int ldc, long stride_c, int batch) {
    if (be->precision != TS_PREC_FP32 && K > 0) { /* --precision: cpu_gemm_lowp.c */
        cpu_gemm_lowp(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b,
                      beta, C, ldc, stride_c, batch);
        return;
    }
    cpu_gemm_f32(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C,
                 ldc, stride_c, batch);
}

void cpu_gemm_f32(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                  ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                  float beta, ts_tensor C, int ldc, long stride_c, int batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    float *pc = cpu_f32(C);
    const float *pa = NULL, *pb = NULL;
    if (K > 0) {
        pa = cpu_f32(A);
        pb = cpu_f32(B);
    }
    if (K == 0) {
        for (int b = 0; b < batch; b++)
            scale_block(pc + (size_t)b * stride_c, M, N, ldc, beta);
        return;
    }
    /* Set once at creation; restored here in case other code in the process changed it, since
     * a threaded OpenBLAS inside our OpenMP loops would oversubscribe the cores. */
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    gemm_args g = {trans_a, trans_b, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc};
    int threads = cpu_threads(be);
    gemm_cut cut;
    int slabs = gemm_plan(&g, &cut);
    long work = (long)batch * M * N * K;
    int team = threads > 1 && work >= GEMM_SPLIT_MACS;
    /* The team shares out (entry, slab) pairs; the cut is the same for any team, so the bits
     * are. Entries whose C_b overlap (a product accumulated over the batch) go in order. */
    if ((size_t)stride_c >= ts_matrix_extent(M, N, ldc, 0, 1)) {
        long tasks = (long)batch * slabs;
#pragma omp parallel for num_threads(threads) schedule(static) if (team && tasks > 1)
        for (long t = 0; t < tasks; t++)
            gemm_slab(&g, &cut, stride_a, stride_b, stride_c, (int)(t / slabs), (int)(t % slabs));
        return;
    }
    for (int b = 0; b < batch; b++) {
#pragma omp parallel for num_threads(threads) schedule(static) if (team && slabs > 1)
        for (int p = 0; p < slabs; p++)
            gemm_slab(&g, &cut, stride_a, stride_b, stride_c, b, p);
    }
}

/* ---- bias ------------------------------------------------------------------------------ */

void cpu_bias_add(ts_backend *be, ts_tensor out, ts_tensor bias, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    float *po = cpu_f32(out);
    const float *pb = cpu_f32(bias);
    long work = (long)rows * cols;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        float *row = po + (size_t)r * cols;
        for (int c = 0; c < cols; c++)
            row[c] += pb[c];
    }
}

typedef struct {
    const float *dout;
    int cols;
} bias_rows;

static void bias_row(const void *arg, int r, double *acc) {
    const bias_rows *a = arg;
    const float *row = a->dout + (size_t)r * a->cols;
    for (int c = 0; c < a->cols; c++)
        acc[c] += row[c];
}

/* dbias[c] += sum_r dout[r, c] (deterministic, see cpu_column_sums). */
void cpu_bias_backward(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    float *pdb = cpu_f32(dbias);
    const float *pdo = cpu_f32(dout);
    bias_rows arg = {pdo, cols};
    cpu_column_sums(be, rows, cols, 1, bias_row, &arg, pdb, NULL);
}
