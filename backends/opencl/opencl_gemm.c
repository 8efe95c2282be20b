/*
 * opencl_gemm.c — matrix products through CLBlast (row-major sgemm, strided-batched sgemm for
 * batch > 1). CLBlast takes (cl_mem, element offset) pairs, so tensor views map directly.
 *
 * Two cases are done here rather than in CLBlast: K == 0 (CLBlast rejects it; the product is
 * C = beta * C) and beta == 0, where the BLAS convention says C is not read: C is zeroed
 * first so that NaN or Inf left in it cannot leak into the result through 0 * NaN.
 *
 * CLBlast indexes some kernels (direct GEMM, pad/transpose copies) with int, so every view it
 * gets must end below 2^31 elements (buffers are capped there, backend.c; checked anyway), and
 * a batched call whose padded temporaries would outgrow one buffer is issued in groups.
 */
#include "backends/opencl/opencl_internal.h"

#include <limits.h>

#include <clblast_c.h>

/* Elements spanned by a batch of (rows, cols) matrices with leading dimension ld. */
static size_t gemm_extent(int rows, int cols, int ld, long stride, int batch) {
    return (size_t)(batch - 1) * (size_t)stride + (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* 1 if a view of `extent` elements at t.off ends below CLBlast's int indices, else records
 * why not and returns 0. */
static int clblast_index_ok(ts_backend *be, ts_tensor t, size_t extent, const char *arg) {
    if (t.off <= (size_t)INT_MAX && extent <= (size_t)INT_MAX - t.off) return 1;
    ocl_fail(be, 0,
             "gemm: view %s reaches element %zu, past CLBlast's int indices (2^31-1); split the "
             "tensor over more buffers",
             arg, t.off + extent);
    return 0;
}

/* Elements of a (rows, cols) matrix padded to CLBlast's largest tile (128) on both sides:
 * an upper bound on what its indirect GEMM copies each batch entry into. */
static size_t padded(int rows, int cols) {
    return (((size_t)rows + 127) & ~(size_t)127) * (((size_t)cols + 127) & ~(size_t)127);
}

/* Batch entries per CLBlast call: as many as keep the padded temporaries within one buffer
 * (the per-buffer cap, itself below 2^31 elements). */
static int batch_group(const ts_backend *be, int M, int N, int K, int batch) {
    size_t per = padded(M, K);
    if (padded(K, N) > per) per = padded(K, N);
    if (padded(M, N) > per) per = padded(M, N);
    size_t cap = be->max_buffer_bytes ? be->max_buffer_bytes / 4 : TS_MAX_BUFFER_ELEMENTS;
    size_t group = cap / per;
    if (group < 1) group = 1;
    return group < (size_t)batch ? (int)group : batch;
}

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
    int a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
    int b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
    if (!clblast_index_ok(be, C, gemm_extent(M, N, ldc, stride_c, batch), "C") ||
        (K > 0 &&
         (!clblast_index_ok(be, A, gemm_extent(a_rows, a_cols, lda, stride_a, batch), "A") ||
          !clblast_index_ok(be, B, gemm_extent(b_rows, b_cols, ldb, stride_b, batch), "B"))))
        return;
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
        be->dispatches++;
        call = "CLBlastSgemm";
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, (size_t)M, (size_t)N, (size_t)K, alpha,
                          A.buf->mem, A.off, (size_t)lda, B.buf->mem, B.off, (size_t)ldb, beta,
                          C.buf->mem, C.off, (size_t)ldc, &ctx->queue,
                          ocl_profile_event(be, "gemm"));
    } else {
        call = "CLBlastSgemmStridedBatched";
        st = CLBlastSuccess;
        int group = batch_group(be, M, N, K, batch);
        for (int b0 = 0; b0 < batch && st == CLBlastSuccess; b0 += group) {
            size_t n = (size_t)(batch - b0 < group ? batch - b0 : group);
            be->dispatches++;
            st = CLBlastSgemmStridedBatched(
                CLBlastLayoutRowMajor, ta, tb, (size_t)M, (size_t)N, (size_t)K, alpha, A.buf->mem,
                A.off + (size_t)b0 * (size_t)stride_a, (size_t)lda, (size_t)stride_a, B.buf->mem,
                B.off + (size_t)b0 * (size_t)stride_b, (size_t)ldb, (size_t)stride_b, beta,
                C.buf->mem, C.off + (size_t)b0 * (size_t)stride_c, (size_t)ldc, (size_t)stride_c, n,
                &ctx->queue, ocl_profile_event(be, "gemm"));
        }
    }
    if (st != CLBlastSuccess) {
        ocl_profile_drop_last(be); /* the failed call made no event */
        int oom = ocl_is_oom((cl_int)st) || st == CLBlastTempBufferAllocFailure;
        ocl_fail(be, oom, "%s (gemm %s%s M=%d N=%d K=%d batch=%d) failed: %s (%d)", call,
                 trans_a ? "t" : "n", trans_b ? "t" : "n", M, N, K, batch,
                 ocl_clblast_error_name(st), (int)st);
    }
}
