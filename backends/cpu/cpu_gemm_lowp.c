/*
 * cpu_gemm_lowp.c — --precision tf32|bf16|fp16 on the cpu: an emulation, labelled as one.
 *
 * A CPU has no tensor cores (and OpenBLAS no mixed-precision sgemm), so the reduced modes are
 * computed as what they mean numerically: each GEMM input is rounded to the mode's format
 * (ts_precision_round: nearest, ties to even, fp16's range and subnormals), then the ordinary
 * fp32 product runs on the rounded copies. A product of two such inputs is exact in fp32 and
 * the sums are fp32, which is what tensor-core kernels with fp32 accumulation compute (their
 * order of summation differs). It is no faster than fp32 — slower, by the copies — so its
 * speed means nothing; it is the reference for the reduced modes' loss curves.
 */
#include "backends/cpu/cpu_internal.h"

#include <stdio.h>
#include <string.h>

void cpu_precision_init(ts_backend *be, ts_precision p) {
    be->precision = p;
    if (p == TS_PREC_FP32) return;
    snprintf(be->precision_impl, sizeof be->precision_impl,
             "%s emulated: GEMM and fused-attention product inputs rounded to %s, fp32 "
             "products and sums (no %s hardware)",
             ts_precision_name(p), ts_precision_name(p), ts_precision_name(p));
}

/* dst[i] = src[i] rounded, for n elements. */
static void round_into(ts_backend *be, float *dst, const float *src, size_t n) {
    ts_precision p = be->precision;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (n >= CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        dst[i] = ts_precision_round(p, src[i]);
}

void cpu_gemm_lowp(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                   ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                   float beta, ts_tensor C, int ldc, long stride_c, int batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    size_t na = ts_matrix_extent(trans_a ? K : M, trans_a ? M : K, lda, stride_a, batch);
    size_t nb = ts_matrix_extent(trans_b ? N : K, trans_b ? K : N, ldb, stride_b, batch);
    float *tmp = cpu_scratch(be, (na + nb) * sizeof(float));
    if (!tmp) return; /* the error is recorded */
    /* the copies live in scratch: views of two stand-in buffers at offset 0 */
    ts_buffer ra = {tmp, na * sizeof(float)}, rb = {tmp + na, nb * sizeof(float)};
    round_into(be, ra.data, cpu_f32(A), na);
    round_into(be, rb.data, cpu_f32(B), nb);
    ts_tensor a = {&ra, 0}, b = {&rb, 0};
    cpu_gemm_f32(be, trans_a, trans_b, M, N, K, alpha, a, lda, stride_a, b, ldb, stride_b, beta, C,
                 ldc, stride_c, batch);
}
