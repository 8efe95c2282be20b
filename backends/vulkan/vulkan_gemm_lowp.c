/*
 * vulkan_gemm_lowp.c — --precision on Vulkan: which reduced modes a device can compute, and
 * the fp16 product.
 *
 * fp16: devices with shaderFloat16 run shaders/gemm_fp16.comp (inputs converted to float16_t,
 * fp32 sums). That is the right arithmetic at plain-shader speed: a tensor-core kernel needs
 * cooperative matrices, and this build's glslc (shaderc 2023.2, Debian 12) knows only
 * GL_NV_cooperative_matrix, whose kernel is not written yet (no device here has it to test).
 * tf32 and bf16: Vulkan exposes them only as cooperative-matrix component types (and bf16 as
 * VK_KHR_shader_bfloat16), none of which this glslc can compile, so every device refuses them.
 * A refused mode is one line at creation and exit 1; nothing falls back to fp32.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdio.h>

/* gemm_fp16.comp's register block: RM rows x RN columns per invocation. */
#define LOWP_RM 4
#define LOWP_RN 4

ts_status vk_precision_pick(ts_backend *be, vk_ctx *ctx, ts_precision p) {
    if (p == TS_PREC_FP32) return TS_OK;
    const char *why = NULL;
    if (p != TS_PREC_FP16) {
        why = "Vulkan offers tf32 and bf16 only as cooperative-matrix types, which this build's "
              "glslc cannot compile";
    } else {
        VkPhysicalDeviceShaderFloat16Int8Features f16 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
        VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                        .pNext = &f16};
        vkGetPhysicalDeviceFeatures2(ctx->phys, &f2);
        if (!f16.shaderFloat16) why = "the device has no shaderFloat16";
    }
    if (why)
        return ts_set_error("vulkan backend: --precision %s is not supported on this device: %s "
                            "(%s); use --precision fp32 or another backend",
                            ts_precision_name(p), ctx->device_name, why);
    ctx->enable_float16 = 1;
    be->precision = p;
    snprintf(be->precision_impl, sizeof be->precision_impl,
             "fp16: GEMM inputs converted to float16_t (shaderFloat16), fp32 sums; plain shader, "
             "no cooperative matrix");
    return TS_OK;
}

void vk_gemm_lowp(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                  ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                  float beta, ts_tensor C, int ldc, long stride_c, int batch) {
    vk_ctx *ctx = vk_ctx_of(be);
    uint32_t wg = vk_kernel_wg(ctx, VK_K_gemm_fp16);
    uint32_t gx = ((uint32_t)N + wg * LOWP_RN - 1) / (wg * LOWP_RN);
    uint32_t gy = ((uint32_t)M + LOWP_RM - 1) / LOWP_RM;
    if (batch > 65535 || gx > ctx->max_groups || gy > ctx->max_groups) {
        vk_fail(be, 0,
                "gemm (--precision %s) M=%d N=%d batch=%d needs more work-groups than a "
                "dispatch holds",
                ts_precision_name(be->precision), M, N, batch);
        return;
    }
    int a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
    int b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
    /* gemm_direct.comp's push constants, which gemm_fp16.comp shares */
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
    vk_dispatch(be, VK_K_gemm_fp16, args, 3, &p, sizeof p, gx, gy, (uint32_t)batch);
}
