/*
 * vulkan_gemm.c — matrix products with the tiled shader shaders/gemm.comp (shared-memory tiles,
 * 4x4 register blocks, transposes as push-constant flags, batch entries along grid z).
 *
 * Beside them runs the tiled design shared with OpenCL (gemm_tiled.comp, tile shapes as
 * specialization constants, one pipeline per tile and load width, split-K through the scratch
 * buffer and gemm_splitk_reduce.comp): the plan (backends/gemm_plan.h, tuned by `tunescale
 * tune`, else from device facts) says per shape class which one a product gets.
 *
 * K == 0 is done here as C = beta * C (scale2d), like the other backends; beta == 0 never
 * reads C, inside the shaders.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdio.h>

#include "backends/gemm_epilogue.h"

_Static_assert(VK_K_gemm_tiled4_0 - VK_K_gemm_tiled_0 == TS_GEMM_TILES &&
                   VK_K_gemm_tiled4_5 - VK_K_gemm_tiled_0 == 2 * TS_GEMM_TILES - 1,
               "one gemm_tiled kernel per tile and load width (vulkan_internal.h)");

/* (plan->variant_names in vk_gemm_plan spells this list out) */
#define VK_GEMM_DIRECT4_BLOCK(X, rm, rn4) {rm, rn4},
const uint8_t vk_gemm_direct4_block[VK_GEMM_DIRECT4_VARIANTS][2] = {
    VK_GEMM_DIRECT4_BLOCKS(VK_GEMM_DIRECT4_BLOCK, _)};
_Static_assert(VK_K_gemm_direct4_4x4_tt - VK_K_gemm_direct4_first ==
                   4 * VK_GEMM_DIRECT4_VARIANTS - 1,
               "four gemm_direct4 kernels per block, in VK_GEMM_DIRECT4_BLOCKS order");
_Static_assert(VK_GEMM_DIRECT4_VARIANTS <= TS_GEMM_VARIANTS_MAX, "variant bits (gemm_plan.h)");

uint32_t vk_gemm_tiled_spec(vk_kernel_id id, uint32_t *spec) {
    if (id < VK_K_gemm_tiled_0 || id > VK_K_gemm_tiled4_5) return 0;
    int v = (int)(id - VK_K_gemm_tiled_0);
    const ts_gemm_tile *t = &ts_gemm_tiles[v % TS_GEMM_TILES];
    spec[0] = (uint32_t)t->wgn;
    spec[1] = (uint32_t)t->wgm;
    spec[2] = (uint32_t)t->tn;
    spec[3] = (uint32_t)t->tm;
    spec[4] = (uint32_t)t->tk;
    spec[5] = v >= TS_GEMM_TILES ? 4u : 1u;
    return 6;
}

ts_gemm_plan *vk_gemm_plan(ts_backend *be) {
    vk_ctx *ctx = vk_ctx_of(be);
    ts_gemm_plan *plan = &ctx->gemm_plan;
    if (!plan->loaded) {
        plan->loaded = 1;
        /* Vulkan names no compute-unit count: deep-K splits come from tuning only. On CPU
         * devices the built-in direct shaders stay; GPUs get the tiled design. */
        ts_gemm_facts f = {0, ctx->props.limits.maxComputeSharedMemorySize, 0,
                           ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU};
        ts_gemm_defaults(&f, f.is_cpu, plan);
        /* the direct shaders' register blocks are the built-in variants (CPU devices) */
        plan->variants = ctx->gemm_direct ? (1u << (VK_GEMM_DIRECT4_VARIANTS - 1)) - 1 : 0;
        plan->variant_names =
            "gemm_direct4 register blocks v0 8x2 (default), v1 16x2, v2 8x4, v3 4x4";
        ts_gemm_plan keep = *plan;
        char why[4400];
        int rc =
            ts_gemm_tuning_load("vulkan", ctx->device_name, ctx->driver, plan, why, sizeof why);
        int c = rc == 1 ? ts_gemm_variant_unfit(plan) : -1;
        if (c >= 0) {
            snprintf(why, sizeof why,
                     "class %s names built-in variant %d, which this device's GEMM shader "
                     "does not have (run tunescale tune again)",
                     ts_gemm_class_name((ts_gemm_class)c), plan->cls[c].variant);
            *plan = keep;
            rc = -1;
        }
        plan->tuned = rc == 1;
        if (rc < 0) ts_warn("gemm tuning ignored: %s", why);
        if (!ts_gemm_env_force(plan, why, sizeof why)) ts_backend_fail(be, TS_EUSAGE, "%s", why);
    }
    return plan;
}

/* The tiled design with choice c: one dispatch, or partial products and their ordered sum;
 * with epilogue e (NULL: none; only without a split). */
static void gemm_tiled(ts_backend *be, const ts_gemm_choice *c, int trans_a, int trans_b, int M,
                       int N, int K, float alpha, ts_tensor A, int lda, long stride_a, ts_tensor B,
                       int ldb, long stride_b, float beta, ts_tensor C, int ldc, long stride_c,
                       int batch, const ts_gemm_epilogue *e) {
    vk_ctx *ctx = vk_ctx_of(be);
    const ts_gemm_tile *t = &ts_gemm_tiles[c->tile];
    int a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
    int b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
    int vec = ((A.off | B.off | (size_t)lda | (size_t)ldb) & 3) == 0 &&
              (batch == 1 || ((stride_a | stride_b) & 3) == 0);
    int splits = ts_gemm_splits(c, K);
    size_t part = (size_t)splits * (size_t)batch * (size_t)M * (size_t)N;
    if (splits > 1 && (part > 0x3fffffff || splits * batch > 65535)) splits = 1;
    ts_buffer *pbuf = NULL;
    if (splits > 1) {
        pbuf = vk_scratch(be, part * 4);
        if (!pbuf) return;
    }
    uint32_t bm = (uint32_t)(t->wgm * t->tm), bn = (uint32_t)(t->wgn * t->tn);
    uint32_t gx = ((uint32_t)N + bn - 1) / bn, gy = ((uint32_t)M + bm - 1) / bm;
    int tiles = (K + t->tk - 1) / t->tk;
    ts_gemm_epilogue none = {TS_EPI_NONE, C, C, 0.0f, {0}};
    if (!e || splits > 1) e = &none;
    ts_tensor g = e->kind == TS_EPI_BIAS_GELU ? e->g : C;
    struct {
        uint32_t ao, bo, co, M, N, K, lda, ldb, ldc, sa, sb, sc, ta, tb;
        float alpha, beta;
        uint32_t batch, kchunk, split_stride;
        uint32_t epi, biaso, go;
        ts_dropout_words d; /* fused_drop.glsl's TS_DROP_FIELDS */
    } p = {(uint32_t)A.off,
           (uint32_t)B.off,
           splits > 1 ? 0u : (uint32_t)C.off,
           (uint32_t)M,
           (uint32_t)N,
           (uint32_t)K,
           (uint32_t)lda,
           (uint32_t)ldb,
           splits > 1 ? (uint32_t)N : (uint32_t)ldc,
           (uint32_t)stride_a,
           (uint32_t)stride_b,
           splits > 1 ? (uint32_t)M * (uint32_t)N : (uint32_t)stride_c,
           (uint32_t) !!trans_a,
           (uint32_t) !!trans_b,
           splits > 1 ? 1.0f : alpha,
           splits > 1 ? 0.0f : beta,
           (uint32_t)batch,
           (uint32_t)(((tiles + splits - 1) / splits) * t->tk),
           (uint32_t)(batch * M * N),
           (uint32_t)e->kind,
           (uint32_t)e->bias.off,
           (uint32_t)g.off,
           ts_dropout_words_of(e->p, e->key)};
    size_t mn = (size_t)M * (size_t)N;
    vk_arg args[] = {VK_ARG(A.buf, p.ao, ts_matrix_extent(a_rows, a_cols, lda, stride_a, batch)),
                     VK_ARG(B.buf, p.bo, ts_matrix_extent(b_rows, b_cols, ldb, stride_b, batch)),
                     splits > 1 ? VK_ARG(pbuf, p.co, part)
                                : VK_ARG(C.buf, p.co, ts_matrix_extent(M, N, ldc, stride_c, batch)),
                     /* without an epilogue: one element of C each, never read */
                     VK_ARG(e->bias.buf, p.biaso, e->kind ? (size_t)N : 1),
                     VK_ARG(g.buf, p.go, e->kind == TS_EPI_BIAS_GELU ? mn : 1)};
    if (gx > ctx->max_groups || gy > ctx->max_groups) {
        vk_fail(be, 0, "gemm: %dx%d is more than one tiled dispatch holds", M, N);
        return;
    }
    vk_kernel_id id = (vk_kernel_id)((vec ? VK_K_gemm_tiled4_0 : VK_K_gemm_tiled_0) + c->tile);
    vk_dispatch(be, id, args, 5, &p, sizeof p, gx, gy, (uint32_t)(batch * splits));
    if (splits == 1) return;
    struct {
        uint32_t po, co, M, N, ldc, sc, batch, splits;
        float alpha, beta;
    } r = {0,
           (uint32_t)C.off,
           (uint32_t)M,
           (uint32_t)N,
           (uint32_t)ldc,
           (uint32_t)stride_c,
           (uint32_t)batch,
           (uint32_t)splits,
           alpha,
           beta};
    vk_arg rargs[] = {VK_ARG(pbuf, r.po, part),
                      VK_ARG(C.buf, r.co, ts_matrix_extent(M, N, ldc, stride_c, batch))};
    vk_dispatch_items(be, VK_K_gemm_splitk_reduce, rargs, 2, &r, sizeof r,
                      (size_t)M * (size_t)N * (size_t)batch);
}

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

void vk_gemm_bind(vk_gemm_push *p, vk_arg args[3], int trans_a, int trans_b, int M, int N, int K,
                  float alpha, ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb,
                  long stride_b, float beta, ts_tensor C, int ldc, long stride_c, int batch) {
    int a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
    int b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
    *p = (vk_gemm_push){(uint32_t)A.off,
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
    args[0] = VK_ARG(A.buf, p->ao, ts_matrix_extent(a_rows, a_cols, lda, stride_a, batch));
    args[1] = VK_ARG(B.buf, p->bo, ts_matrix_extent(b_rows, b_cols, ldb, stride_b, batch));
    args[2] = VK_ARG(C.buf, p->co, ts_matrix_extent(M, N, ldc, stride_c, batch));
}

/* llvmpipe (lavapipe) stops a shader loop after 65535 iterations as if its condition had
 * turned false (LP_MAX_TGSI_LOOP_ITERATIONS), and every GEMM shader loops over K: on a CPU
 * device a longer K is run as products over column blocks of at most this many, summed into C
 * through beta = 1. */
#define VK_CPU_MAX_K 32768

static int gemm_k_blocks(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
                         ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b,
                         float beta, ts_tensor C, int ldc, long stride_c, int batch) {
    if (K <= VK_CPU_MAX_K || vk_ctx_of(be)->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU)
        return 0;
    for (int k0 = 0; k0 < K; k0 += VK_CPU_MAX_K) {
        int kb = K - k0 < VK_CPU_MAX_K ? K - k0 : VK_CPU_MAX_K;
        /* column k0 of op(A) and row k0 of op(B), whichever way each lies in memory */
        ts_tensor a = {A.buf, A.off + (size_t)k0 * (trans_a ? (size_t)lda : 1u)};
        ts_tensor b = {B.buf, B.off + (size_t)k0 * (trans_b ? 1u : (size_t)ldb)};
        vk_gemm(be, trans_a, trans_b, M, N, kb, alpha, a, lda, stride_a, b, ldb, stride_b,
                k0 ? 1.0f : beta, C, ldc, stride_c, batch);
    }
    return 1;
}

void vk_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K, float alpha,
             ts_tensor A, int lda, long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
             ts_tensor C, int ldc, long stride_c, int batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    if (gemm_k_blocks(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b,
                      beta, C, ldc, stride_c, batch))
        return;
    if (be->precision != TS_PREC_FP32 && K > 0) { /* --precision: vulkan_gemm_lowp.c */
        vk_gemm_lowp(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta,
                     C, ldc, stride_c, batch);
        return;
    }
    if (batch > 65535) {
        vk_fail(be, 0, "gemm: batch %d is more than a dispatch holds (65535)", batch);
        return;
    }
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
    ts_gemm_plan *plan = vk_gemm_plan(be);
    ts_gemm_choice choice = ts_gemm_pick(plan, M, N, K, batch);
    if (choice.kernel == TS_GEMM_TILED) {
        gemm_tiled(be, &choice, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb,
                   stride_b, beta, C, ldc, stride_c, batch, NULL);
        return;
    }
    vk_gemm_push p;
    vk_arg args[3];
    vk_gemm_bind(&p, args, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b,
                 beta, C, ldc, stride_c, batch);
    vk_ctx *ctx = vk_ctx_of(be);
    /* the plan's variant: gemm_direct4's register block (the scalar shader has one block) */
    int v = choice.variant > 0 && choice.variant < VK_GEMM_DIRECT4_VARIANTS ? choice.variant : 0;
    plan->ran_variant = -1;
    if (ctx->gemm_direct && vec4_ok(p.ao, p.bo, M, N, K, lda, ldb, stride_a, stride_b, batch)) {
        uint32_t wg = ctx->gemm_spec[0], rm = vk_gemm_direct4_block[v][0];
        uint32_t bn = wg * 4 * vk_gemm_direct4_block[v][1];
        uint32_t gx = ((uint32_t)N + bn - 1) / bn;
        uint32_t gy = ((uint32_t)M + rm - 1) / rm;
        if (gx <= ctx->max_groups && gy <= ctx->max_groups) {
            vk_kernel_id id =
                (vk_kernel_id)(VK_K_gemm_direct4_first + 4 * v + 2 * !!trans_a + !!trans_b);
            vk_dispatch(be, id, args, 3, &p, sizeof p, gx, gy, (uint32_t)batch);
            plan->ran_variant = v;
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

void vk_linear_bias_forward(ts_backend *be, ts_tensor h, ts_tensor g, ts_tensor inp, ts_tensor W,
                            ts_tensor bias, int rows, int in, int out, int gelu, float p,
                            ts_dropout_key key) {
    ts_linear_bias_forward_on(be, vk_gemm_plan(be), gemm_tiled, h, g, inp, W, bias, rows, in, out,
                              gelu, p, key);
}
