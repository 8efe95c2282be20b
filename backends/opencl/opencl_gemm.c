/*
 * opencl_gemm.c — matrix products through CLBlast (row-major sgemm, strided-batched sgemm for
 * batch > 1). CLBlast takes (cl_mem, element offset) pairs, so tensor views map directly.
 *
 * Two cases are done here rather than in CLBlast: K == 0 (CLBlast rejects it; the product is
 * C = beta * C) and beta == 0, where the BLAS convention says C is not read: C is zeroed
 * first so that NaN or Inf left in it cannot leak into the result through 0 * NaN.
 */
#include "backends/opencl/opencl_internal.h"

#include <clblast_c.h>

/* C_b = beta * C_b for every batch entry (beta == 0 writes zeros). */
static void scale_c(ts_backend *be, ts_tensor C, int M, int N, int ldc, long stride_c, int batch,
                    float beta) {
    size_t global[3] = {(size_t)N, (size_t)M, (size_t)batch};
    size_t local[3] = {16, 4, 1};
    ocl_arg args[] = {OCL_VIEW(C),           ocl_u32((cl_uint)M),         ocl_u32((cl_uint)N),
                      ocl_u32((cl_uint)ldc), ocl_u64((cl_ulong)stride_c), ocl_f32(beta)};
    ocl_launch(be, OCL_K_scale2d, 3, global, local, (int)(sizeof args / sizeof args[0]), args);
}

void ocl_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
              ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
              ts_tensor C, int ldc, long stride_c, int batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    if (K == 0 || beta == 0.0f) {
        scale_c(be, C, M, N, ldc, stride_c, batch, beta);
        if (K == 0) return;
    }
    ocl_ctx *ctx = ocl_ctx_of(be);
    CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode st;
    const char *call;
    if (batch == 1) {
        call = "CLBlastSgemm";
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, (size_t)M, (size_t)N, (size_t)K, alpha,
                          A.buf->mem, A.off, (size_t)lda, B.buf->mem, B.off, (size_t)ldb, beta,
                          C.buf->mem, C.off, (size_t)ldc, &ctx->queue, NULL);
    } else {
        call = "CLBlastSgemmStridedBatched";
        st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, (size_t)M, (size_t)N,
                                        (size_t)K, alpha, A.buf->mem, A.off, (size_t)lda,
                                        (size_t)stride_a, B.buf->mem, B.off, (size_t)ldb,
                                        (size_t)stride_b, beta, C.buf->mem, C.off, (size_t)ldc,
                                        (size_t)stride_c, (size_t)batch, &ctx->queue, NULL);
    }
    if (st != CLBlastSuccess) {
        int oom = ocl_is_oom((cl_int)st) || st == CLBlastTempBufferAllocFailure;
        ocl_fail(be, oom, "%s (gemm %s%s M=%d N=%d K=%d batch=%d) failed: %s (%d)", call,
                 trans_a ? "t" : "n", trans_b ? "t" : "n", M, N, K, batch,
                 ocl_clblast_error_name(st), (int)st);
    }
}
