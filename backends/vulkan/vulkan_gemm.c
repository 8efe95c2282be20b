/*
 * vulkan_gemm.c — matrix products with the tiled shader shaders/gemm.comp (shared-memory tiles,
 * 4x4 register blocks, transposes as push-constant flags, batch entries along grid z).
 *
 * K == 0 is done here as C = beta * C (scale2d), like the other backends; beta == 0 never
 * reads C, inside the shader.
 */
#include "backends/vulkan/vulkan_internal.h"

/* gemm_direct4 reads A and B as vec4s: every row start must be 16-byte aligned and every
 * dimension a multiple of 4 (so clamped edge groups stay whole). */
static int vec4_ok(uint32_t ao, uint32_t bo, int M, int N, int K, int lda, int ldb, long sa,
                   long sb, int batch) {
    if ((ao | bo | (uint32_t)M | (uint32_t)N | (uint32_t)K | (uint32_t)lda | (uint32_t)ldb) & 3u)
        return 0;
    return batch == 1 || ((sa | sb) & 3) == 0;
}

/*
 * ---- VK_KHR_cooperative_matrix: the place for a tensor-core path ------------------------
 * A device that offers the extension with fp16 x fp16 -> fp32 (or fp32) tiles could run the
 * products through coopMatMulAdd. It is not written yet: this stub says so, and vk_gemm falls
 * through to the tiled shader. (lavapipe, the reference device, has no cooperative matrices.)
 */
static int gemm_coopmat(ts_backend *be, int trans_a, int trans_b, int M, int N, int K) {
    (void)be;
    (void)trans_a;
    (void)trans_b;
    (void)M;
    (void)N;
    (void)K;
    return 0; /* not available */
}

void vk_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
             ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
             ts_tensor C, int ldc, long stride_c, int batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    if (be->precision != TS_PREC_FP32 && K > 0) { /* --precision: vulkan_gemm_lowp.c */
        vk_gemm_lowp(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta,
                     C, ldc, stride_c, batch);
        return;
    }
    if (batch > 65535) {
        vk_fail(be, 0, "gemm: batch %d is more than a dispatch holds (65535)", batch);
        return;
    }
    int a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
    int b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
    if (K == 0) {
        struct {
            uint32_t co, M, N, ldc, stride, batch;
            float beta;
        } p = {(uint32_t)C.off,    (uint32_t)M,     (uint32_t)N, (uint32_t)ldc,
               (uint32_t)stride_c, (uint32_t)batch, beta};
        vk_arg args[] = {VK_ARG(C.buf, p.co, ts_matrix_extent(M, N, ldc, stride_c, batch))};
        vk_dispatch_items(be, VK_K_scale2d, args, 1, &p, sizeof p, (size_t)M * N * batch);
        return;
    }
    if (gemm_coopmat(be, trans_a, trans_b, M, N, K)) return;
    struct {
        uint32_t ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
        float alpha, beta;
    } p = {(uint32_t)A.off,
           (uint32_t)B.off,
           (uint32_t)C.off,
           (uint32_t)M,
           (uint32_t)N,
           (uint32_t)K,
           (uint32_t)lda,
           (uint32_t)ldb,
           (uint32_t)ldc,
           (uint32_t)stride_a,
           (uint32_t)stride_b,
           (uint32_t)stride_c,
           (uint32_t) !!trans_a,
           (uint32_t) !!trans_b,
           alpha,
           beta};
    vk_arg args[] = {VK_ARG(A.buf, p.ao, ts_matrix_extent(a_rows, a_cols, lda, stride_a, batch)),
                     VK_ARG(B.buf, p.bo, ts_matrix_extent(b_rows, b_cols, ldb, stride_b, batch)),
                     VK_ARG(C.buf, p.co, ts_matrix_extent(M, N, ldc, stride_c, batch))};
    vk_ctx *ctx = vk_ctx_of(be);
    if (ctx->gemm_direct && vec4_ok(p.ao, p.bo, M, N, K, lda, ldb, stride_a, stride_b, batch)) {
        uint32_t wg = ctx->gemm_spec[0], bn = wg * 4 * VK_GEMM_DIRECT4_RN4;
        uint32_t gx = ((uint32_t)N + bn - 1) / bn;
        uint32_t gy = ((uint32_t)M + VK_GEMM_DIRECT4_RM - 1) / VK_GEMM_DIRECT4_RM;
        if (gx <= ctx->max_groups && gy <= ctx->max_groups) {
            vk_kernel_id id = (vk_kernel_id)(VK_K_gemm_direct4_nn + 2 * !!trans_a + !!trans_b);
            vk_dispatch(be, id, args, 3, &p, sizeof p, gx, gy, (uint32_t)batch);
            return;
        }
    }
    if (ctx->gemm_direct) {
        uint32_t wg = ctx->gemm_spec[0], rm = ctx->gemm_spec[1], rn = ctx->gemm_spec[2];
        uint32_t gx = (uint32_t)(((uint32_t)N + wg * rn - 1) / (wg * rn));
        uint32_t gy = (uint32_t)(((uint32_t)M + rm - 1) / rm);
        if (gx <= ctx->max_groups && gy <= ctx->max_groups) {
            vk_dispatch(be, VK_K_gemm_direct, args, 3, &p, sizeof p, gx, gy, (uint32_t)batch);
            return;
        }
    }
    vk_dispatch(be, VK_K_gemm, args, 3, &p, sizeof p, (uint32_t)((N + VK_GEMM_BN - 1) / VK_GEMM_BN),
                (uint32_t)((M + VK_GEMM_BM - 1) / VK_GEMM_BM), (uint32_t)batch);
}
