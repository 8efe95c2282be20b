/*
 * vulkan_gemm_lowp.c — --precision on Vulkan: which reduced modes a device can compute, and
 * the fp16 products.
 *
 * fp16 on tensor cores: a device offering VK_NV_cooperative_matrix with 16x16x16 fp16 x fp16
 * -> fp32 tiles at subgroup scope (subgroups of 32, the Vulkan memory model) runs
 * shaders/gemm_coopmat_nv.comp. That kernel could not be run here (lavapipe has no cooperative
 * matrices): it is checked on the next NVIDIA machine by bench/gpu/precision.sh (test_precision
 * compares it with the cpu's fp16 emulation). TUNESCALE_VK_COOPMAT=0 turns it off.
 * fp16 elsewhere: devices with shaderFloat16 run shaders/gemm_fp16.comp (inputs converted to
 * float16_t, fp32 sums): the right arithmetic at plain-shader speed.
 * tf32 and bf16: Vulkan exposes them only as VK_KHR_cooperative_matrix component types (and
 * bf16 as VK_KHR_shader_bfloat16), which this build's glslc (shaderc 2023.2, Debian 12) cannot
 * compile, so every device refuses them.
 * A refused mode is one line at creation and exit 1; nothing falls back to fp32.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gemm_fp16.comp's register block: RM rows x RN columns per invocation. */
#define LOWP_RM 4
#define LOWP_RN 4

/* 1 when the device's extension list names `name`. */
int vk_has_device_ext(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkExtensionProperties *e = malloc(n * sizeof *e);
    int found = 0;
    if (e && vkEnumerateDeviceExtensionProperties(phys, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

/* gemm_coopmat_nv.comp's needs: the extension and its feature, the Vulkan memory model,
 * subgroups of 32 and a 16x16x16 fp16 x fp16 -> fp32 subgroup tile among the device's. */
static int coopmat_nv_usable(const vk_ctx *ctx) {
    const char *env = getenv("TUNESCALE_VK_COOPMAT");
    if ((env && !strcmp(env, "0")) || !vk_has_device_ext(ctx->phys, "VK_NV_cooperative_matrix"))
        return 0;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES, .pNext = &cm};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &mm};
    vkGetPhysicalDeviceFeatures2(ctx->phys, &f2);
    VkPhysicalDeviceSubgroupProperties sub = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &sub};
    vkGetPhysicalDeviceProperties2(ctx->phys, &p2);
    if (!cm.cooperativeMatrix || !mm.vulkanMemoryModel || sub.subgroupSize != 32) return 0;
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV get =
        (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)vkGetInstanceProcAddr(
            ctx->instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
    uint32_t n = 0;
    if (!get || get(ctx->phys, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkCooperativeMatrixPropertiesNV *props = calloc(n, sizeof *props);
    int found = 0;
    for (uint32_t i = 0; props && i < n; i++)
        props[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    if (props && get(ctx->phys, &n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) {
            const VkCooperativeMatrixPropertiesNV *q = &props[i];
            found = q->MSize == 16 && q->NSize == 16 && q->KSize == 16 &&
                    q->AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                    q->BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                    q->CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
                    q->DType == VK_COMPONENT_TYPE_FLOAT32_NV && q->scope == VK_SCOPE_SUBGROUP_NV;
        }
    free(props);
    return found;
}

void vk_precision_features(const vk_ctx *ctx, vk_lowp_features *f, VkDeviceCreateInfo *di) {
    memset(f, 0, sizeof *f);
    if (!ctx->enable_float16) return;
    f->f16 = (VkPhysicalDeviceShaderFloat16Int8Features){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .pNext = (void *)di->pNext,
        .shaderFloat16 = VK_TRUE};
    di->pNext = &f->f16;
    if (!ctx->coopmat_nv) return;
    f->memory_model = (VkPhysicalDeviceVulkanMemoryModelFeatures){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES,
        .pNext = (void *)di->pNext,
        .vulkanMemoryModel = VK_TRUE};
    f->coopmat = (VkPhysicalDeviceCooperativeMatrixFeaturesNV){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .pNext = &f->memory_model,
        .cooperativeMatrix = VK_TRUE};
    di->pNext = &f->coopmat;
    /* the only extension tunescale enables on a device, so the list is this one */
    f->ext[0] = "VK_NV_cooperative_matrix";
    di->enabledExtensionCount = 1;
    di->ppEnabledExtensionNames = f->ext;
}

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
    if (!why) ctx->coopmat_nv = coopmat_nv_usable(ctx);
    if (why)
        return ts_set_error("vulkan backend: --precision %s is not supported on this device: %s "
                            "(%s); use --precision fp32 or another backend",
                            ts_precision_name(p), ctx->device_name, why);
    ctx->enable_float16 = 1;
    be->precision = p;
    snprintf(be->precision_impl, sizeof be->precision_impl, "%s",
             ctx->coopmat_nv ? "fp16: VK_NV_cooperative_matrix 16x16x16 fp16 tiles, fp32 "
                               "accumulators (tensor cores); fused attention: product inputs "
                               "rounded to fp16 in fp32 shaders"
                             : "fp16: GEMM inputs converted to float16_t (shaderFloat16), fp32 "
                               "sums; plain shader, no cooperative matrix; fused attention: "
                               "product inputs rounded to fp16 in fp32 shaders");
    return TS_OK;
}

/* gemm_coopmat_nv.comp's block of C per work-group. */
#define COOPMAT_BM 64
#define COOPMAT_BN 64

void vk_gemm_lowp(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                  ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                  float beta, ts_tensor C, int ldc, long stride_c, int batch) {
    vk_ctx *ctx = vk_ctx_of(be);
    vk_kernel_id id = ctx->coopmat_nv ? VK_K_gemm_coopmat_nv : VK_K_gemm_fp16;
    uint32_t gx, gy;
    if (ctx->coopmat_nv) {
        gx = ((uint32_t)N + COOPMAT_BN - 1) / COOPMAT_BN;
        gy = ((uint32_t)M + COOPMAT_BM - 1) / COOPMAT_BM;
    } else {
        uint32_t wg = vk_kernel_wg(ctx, id);
        gx = ((uint32_t)N + wg * LOWP_RN - 1) / (wg * LOWP_RN);
        gy = ((uint32_t)M + LOWP_RM - 1) / LOWP_RM;
    }
    if (batch > 65535 || gx > ctx->max_groups || gy > ctx->max_groups) {
        vk_fail(be, 0,
                "gemm (--precision %s) M=%d N=%d batch=%d needs more work-groups than a "
                "dispatch holds",
                ts_precision_name(be->precision), M, N, batch);
        return;
    }
    /* gemm_direct.comp's push constants, which both shaders share */
    vk_gemm_push p;
    vk_arg args[3];
    vk_gemm_bind(&p, args, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b,
                 beta, C, ldc, stride_c, batch);
    vk_dispatch(be, id, args, 3, &p, sizeof p, gx, gy, (uint32_t)batch);
}
