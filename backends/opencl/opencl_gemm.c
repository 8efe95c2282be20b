/*
 * opencl_gemm.c — matrix products through CLBlast (row-major sgemm, strided-batched sgemm for
 * batch > 1). CLBlast takes (cl_mem, element offset) pairs, so tensor views map directly.
 *
 * Beside CLBlast runs our own tiled SGEMM (cl/gemm_tiled.cl, one program per tile shape and
 * load width, built on first use): the plan (backends/gemm_plan.h: tuned by `tunescale tune`,
 * else defaults from device facts) says per shape class which one a product gets.
 *
 * K == 0 is done here (CLBlast rejects it; the product is C = beta * C). beta == 0 goes to
 * CLBlast (or ours) as is: both skip reading C then (CLBlast's store kernels test IsZero(beta)),
 * so NaN or Inf left in C cannot leak in, and no scale of C runs first.
 * Single products reuse one persistent temp buffer for CLBlast's padded copies
 * (CLBlastSgemmWithTempBuffer) instead of CLBlast allocating one per call. Batched products
 * cannot: CLBlast 1.5 has no temp-buffer variant of SgemmBatched / SgemmStridedBatched, so its
 * indirect path allocates per call (its direct kernel, no temporaries, avoids that).
 *
 * CLBlast's own kernel parameters can be tuned too: a plan choice may name a parameter set
 * (backends/clblast_params.h) that is applied with CLBlastOverrideParameters before the call.
 * CLBlast keeps overrides per device for the whole process and (1.5, C API) can neither read
 * nor reset them, so which set is applied is tracked here per device, and once a set was
 * applied CLBlast's own parameters stay out of reach until the process ends (a class that
 * asks for them then keeps the applied set: the same results, maybe another speed).
 *
 * CLBlast indexes some kernels (direct GEMM, pad/transpose copies) with int, so every view it
 * gets must end below 2^31 elements (buffers are capped there, backend.c; checked anyway), and
 * a batched call whose padded temporaries would outgrow one buffer is issued in groups.
 */
#include "backends/opencl/opencl_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "backends/clblast_params.h"
#include "backends/gemm_epilogue.h"
#include "backends/gemm_plan.h"

/* What the GEMM path keeps per context: the plan, the tiled programs, CLBlast's temp buffer. */
struct ocl_gemm_state {
    ts_gemm_plan plan;
    cl_program progs[TS_GEMM_TILES][2]; /* [tile][float4 loads] */
    cl_kernel tiled[TS_GEMM_TILES][2], reduce[TS_GEMM_TILES][2];
    cl_mem temp;
    size_t temp_bytes;
    int trial_saved, trial_prev; /* the CLBlast set applied before the tuner's trial */
};

static struct ocl_gemm_state *gemm_state(ts_backend *be) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (!ctx->gemm) ctx->gemm = calloc(1, sizeof *ctx->gemm);
    if (!ctx->gemm) ocl_fail(be, 1, "gemm: out of host memory");
    return ctx->gemm;
}

void ocl_gemm_release(ocl_ctx *ctx) {
    struct ocl_gemm_state *g = ctx->gemm;
    if (!g) return;
    for (int t = 0; t < TS_GEMM_TILES; t++)
        for (int v = 0; v < 2; v++) {
            if (g->tiled[t][v]) clReleaseKernel(g->tiled[t][v]);
            if (g->reduce[t][v]) clReleaseKernel(g->reduce[t][v]);
            if (g->progs[t][v]) clReleaseProgram(g->progs[t][v]);
        }
    if (g->temp) clReleaseMemObject(g->temp);
    free(g);
    ctx->gemm = NULL;
}

/* ---- CLBlast parameter sets -------------------------------------------------------------- */

/* The set applied per device in this process: 0 CLBlast's own, k set k, -1 unknown (an
 * override failed half-way). */
#define CLB_DEVICES 16
static struct {
    cl_device_id dev;
    int set;
} clb_applied[CLB_DEVICES];

static int *applied_of(cl_device_id dev) {
    for (int i = 0; i < CLB_DEVICES; i++) {
        if (clb_applied[i].dev == dev) return &clb_applied[i].set;
        if (!clb_applied[i].dev) {
            clb_applied[i].dev = dev;
            clb_applied[i].set = 0;
            return &clb_applied[i].set;
        }
    }
    return NULL;
}

/* Makes set `want` CLBlast's parameters on the device; CLBlastSuccess or the failing status.
 * want 0 after an override cannot bring CLBlast's own back: the applied set stays, except a
 * half-applied one, which set 1 (the small safe set) replaces. */
static CLBlastStatusCode clb_apply(cl_device_id dev, int want) {
    int *cur = applied_of(dev);
    if (!cur) return want ? CLBlastNotImplemented : CLBlastSuccess;
    if (want == *cur || (want == 0 && *cur > 0)) return CLBlastSuccess;
    if (want == 0) want = 1;
    if (want < 0 || want > TS_CLBLAST_SETS) return CLBlastInvalidOverrideKernel;
    const ts_clblast_set *s = &ts_clblast_sets[want - 1];
    static const char *routine[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
    *cur = -1;
    CLBlastStatusCode st =
        CLBlastOverrideParameters(dev, "Xgemm", CLBlastPrecisionSingle, TS_CLB_XGEMM,
                                  (const char **)ts_clb_xgemm_names, s->xgemm);
    if (st == CLBlastSuccess)
        st = CLBlastOverrideParameters(dev, "XgemmDirect", CLBlastPrecisionSingle, TS_CLB_DIRECT,
                                       (const char **)ts_clb_direct_names, s->direct);
    if (st == CLBlastSuccess)
        st = CLBlastOverrideParameters(dev, "GemmRoutine", CLBlastPrecisionSingle, 1, routine,
                                       &s->min_indirect);
    if (st == CLBlastSuccess) *cur = want;
    return st;
}

/* Which sets fit the device's work-group size and local memory. A CPU device gets only the
 * first two (the small safe set, the fallback, and the 64x64 one, fastest on PoCL): PoCL takes
 * 30-80 s to build one CLBlast program on a 2-core machine, two per set. */
static unsigned clb_sets_fitting(cl_device_id dev) {
    size_t max_wg = 0;
    cl_ulong local = 0;
    cl_device_type type = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    unsigned bits = 0;
    int sets = (type & CL_DEVICE_TYPE_CPU) ? 2 : TS_CLBLAST_SETS;
    for (int k = 0; k < sets; k++)
        if (ts_clblast_set_fits(&ts_clblast_sets[k], max_wg, (size_t)local)) bits |= 1u << k;
    return bits;
}

/* Device facts for the untuned defaults. */
static void device_facts(ocl_ctx *ctx, ts_gemm_facts *f) {
    cl_device_type type = 0;
    cl_uint cu = 0;
    cl_ulong local = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    f->compute_units = (int)cu;
    f->local_mem_bytes = (size_t)local;
    f->subgroup = 0;
    f->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
}

ts_gemm_plan *ocl_gemm_plan(ts_backend *be) {
    struct ocl_gemm_state *g = gemm_state(be);
    if (!g) return NULL;
    if (!g->plan.loaded) {
        g->plan.loaded = 1;
        ts_gemm_facts f;
        device_facts(ocl_ctx_of(be), &f);
        ts_gemm_defaults(&f, 1, &g->plan);
        ts_device_info info;
        be->impl->device_info(be, &info);
        char why[4400];
        ocl_ctx *ctx = ocl_ctx_of(be);
        g->plan.variants = clb_sets_fitting(ctx->device);
        g->plan.variants_exclusive = 1;
        ts_gemm_plan keep = g->plan;
        int rc = ts_gemm_tuning_load("opencl", info.name, info.driver, &g->plan, why, sizeof why);
        int c = rc == 1 ? ts_gemm_variant_unfit(&g->plan) : -1;
        if (c >= 0) {
            snprintf(why, sizeof why,
                     "class %s names CLBlast set %d, which does not fit this device's "
                     "work-group size or local memory",
                     ts_gemm_class_name((ts_gemm_class)c), g->plan.cls[c].variant);
            g->plan = keep;
            rc = -1;
        }
        g->plan.tuned = rc == 1;
        if (rc < 0) ts_warn("gemm tuning ignored: %s", why);
        if (!ts_gemm_env_force(&g->plan, why, sizeof why))
            ts_backend_fail(be, TS_EUSAGE, "%s", why);
    }
    return &g->plan;
}

/* The tiled kernels of (tile, float4 loads), building the program on first use. */
static int tiled_kernels(ts_backend *be, int tile, int vec, cl_kernel *gemm, cl_kernel *reduce) {
    struct ocl_gemm_state *g = ocl_ctx_of(be)->gemm;
    if (!g->tiled[tile][vec]) {
        const ts_gemm_tile *t = &ts_gemm_tiles[tile];
        char opts[160];
        snprintf(opts, sizeof opts, "-DWGN=%d -DWGM=%d -DTN=%d -DTM=%d -DTK=%d -DVW=%d", t->wgn,
                 t->wgm, t->tn, t->tm, t->tk, vec ? 4 : 1);
        cl_program prog = ocl_build_variant(be, "gemm_tiled", opts);
        if (!prog) return 0;
        cl_int e1, e2;
        cl_kernel k1 = clCreateKernel(prog, "ts_gemm_tiled", &e1);
        cl_kernel k2 = clCreateKernel(prog, "ts_gemm_splitk_reduce", &e2);
        if (e1 != CL_SUCCESS || e2 != CL_SUCCESS) {
            if (k1) clReleaseKernel(k1);
            if (k2) clReleaseKernel(k2);
            clReleaseProgram(prog);
            ocl_fail_call(be, "clCreateKernel", "gemm_tiled", e1 != CL_SUCCESS ? e1 : e2);
            return 0;
        }
        g->progs[tile][vec] = prog;
        g->tiled[tile][vec] = k1;
        g->reduce[tile][vec] = k2;
    }
    *gemm = g->tiled[tile][vec];
    *reduce = g->reduce[tile][vec];
    return 1;
}

/* Sets the arguments and enqueues one of the tiled kernels (a dispatch, timed as "gemm"). */
static void enqueue(ts_backend *be, cl_kernel k, const char *name, int nargs, const ocl_arg *args,
                    const size_t *global, const size_t *local) {
    ocl_enqueue_kernel(be, k, name, 3, global, local, nargs, args);
}

/* The epilogue's kernel arguments (gemm_epilogue.h): bias, G, epi and the dropout; with none,
 * C stands in for the unread tensors. */
#define EPILOGUE_NARGS 14
static void epilogue_args(const ts_gemm_epilogue *e, ts_tensor C, ocl_arg *a) {
    ts_gemm_epilogue none = {TS_EPI_NONE, C, C, 0.0f, {0}};
    if (!e) e = &none;
    ts_tensor g = e->kind == TS_EPI_BIAS_GELU ? e->g : C;
    ts_dropout_words d = ts_dropout_words_of(e->p, e->key);
    ocl_arg args[] = {OCL_VIEW(e->bias), OCL_VIEW(g), ocl_u32((cl_uint)e->kind),
                      OCL_DROPOUT_ARGS(d, e->key)};
    _Static_assert(sizeof args == EPILOGUE_NARGS * sizeof args[0], "gemm_tiled.cl's epilogue");
    memcpy(a, args, sizeof args);
}

/* Our tiled SGEMM with choice c (split-K through the scratch buffer and a fixed-order sum),
 * with epilogue e (NULL: none; only without a split). */
static void gemm_tiled(ts_backend *be, const ts_gemm_choice *c, int trans_a, int trans_b, int M,
                       int N, int K, float alpha, ts_tensor A, int lda, long stride_a, ts_tensor B,
                       int ldb, long stride_b, float beta, ts_tensor C, int ldc, long stride_c,
                       int batch, const ts_gemm_epilogue *e) {
    const ts_gemm_tile *t = &ts_gemm_tiles[c->tile];
    int vec = ((A.off | B.off | (size_t)lda | (size_t)ldb) & 3) == 0 &&
              (batch == 1 || ((stride_a | stride_b) & 3) == 0);
    cl_kernel kg, kr;
    if (!tiled_kernels(be, c->tile, vec, &kg, &kr)) return;
    int splits = ts_gemm_splits(c, K);
    size_t part = (size_t)splits * (size_t)batch * (size_t)M * (size_t)N;
    size_t cap = be->max_buffer_bytes ? be->max_buffer_bytes / 4 : TS_MAX_BUFFER_ELEMENTS;
    if (splits > 1 && part > cap / 2) splits = 1; /* partials would not fit: no split */
    cl_mem part_mem = NULL;
    if (splits > 1) {
        part_mem = ocl_scratch(be, part * 4);
        if (!part_mem) return;
    }
    /* each split's K range is whole TK tiles, so float4 reads stay aligned */
    int tiles = (K + t->tk - 1) / t->tk;
    cl_uint kchunk = (cl_uint)(((tiles + splits - 1) / splits) * t->tk);
    size_t local[3] = {(size_t)t->wgn, (size_t)t->wgm, 1};
    size_t bn = (size_t)(t->wgn * t->tn), bm = (size_t)(t->wgm * t->tm);
    size_t global[3] = {(N + bn - 1) / bn * local[0], (M + bm - 1) / bm * local[1],
                        (size_t)batch * (size_t)splits};
    ocl_arg out_c = ocl_mem(splits > 1 ? part_mem : C.buf->mem);
    ocl_arg base[] = {OCL_VIEW(A),
                      OCL_VIEW(B),
                      out_c,
                      ocl_u64(splits > 1 ? 0 : (cl_ulong)C.off),
                      ocl_u32((cl_uint)M),
                      ocl_u32((cl_uint)N),
                      ocl_u32((cl_uint)K),
                      ocl_u32((cl_uint)lda),
                      ocl_u32((cl_uint)ldb),
                      ocl_u32(splits > 1 ? (cl_uint)N : (cl_uint)ldc),
                      ocl_u64((cl_ulong)stride_a),
                      ocl_u64((cl_ulong)stride_b),
                      ocl_u64(splits > 1 ? (cl_ulong)M * (cl_ulong)N : (cl_ulong)stride_c),
                      ocl_u32((cl_uint) !!trans_a),
                      ocl_u32((cl_uint) !!trans_b),
                      ocl_f32(splits > 1 ? 1.0f : alpha),
                      ocl_f32(splits > 1 ? 0.0f : beta),
                      ocl_u32((cl_uint)batch),
                      ocl_u32(kchunk),
                      ocl_u64((cl_ulong)batch * (cl_ulong)M * (cl_ulong)N)};
    enum { NBASE = sizeof base / sizeof base[0] };
    ocl_arg args[NBASE + EPILOGUE_NARGS];
    memcpy(args, base, sizeof base);
    epilogue_args(splits > 1 ? NULL : e, C, args + NBASE);
    enqueue(be, kg, "ts_gemm_tiled", (int)(sizeof args / sizeof args[0]), args, global, local);
    if (splits == 1 || be->error != TS_OK) return;
    size_t rl[3] = {16, 4, 1};
    size_t rg[3] = {((size_t)N + 15) / 16 * 16, ((size_t)M + 3) / 4 * 4, (size_t)batch};
    ocl_arg rargs[] = {ocl_mem(part_mem),       OCL_VIEW(C),
                       ocl_u32((cl_uint)M),     ocl_u32((cl_uint)N),
                       ocl_u32((cl_uint)ldc),   ocl_u64((cl_ulong)stride_c),
                       ocl_u32((cl_uint)batch), ocl_u32((cl_uint)splits),
                       ocl_f32(alpha),          ocl_f32(beta)};
    enqueue(be, kr, "ts_gemm_splitk_reduce", (int)(sizeof rargs / sizeof rargs[0]), rargs, rg, rl);
}

/* CLBlast's temp buffer for a single product, grown on demand and kept; NULL (CLBlast then
 * allocates its own) when the size cannot be asked or the buffer cannot be made. */
static cl_mem clblast_temp(ts_backend *be, CLBlastTranspose ta, CLBlastTranspose tb, int M, int N,
                           int K, ts_tensor A, int lda, ts_tensor B, int ldb, ts_tensor C,
                           int ldc) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    struct ocl_gemm_state *g = ctx->gemm;
    size_t need = 0;
    if (CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ta, tb, (size_t)M, (size_t)N, (size_t)K,
                                   A.off, (size_t)lda, B.off, (size_t)ldb, C.off, (size_t)ldc,
                                   &ctx->queue, &need) != CLBlastSuccess)
        return NULL;
    if (need == 0) need = 4;
    if (g->temp && need <= g->temp_bytes) return g->temp;
    size_t rounded = (need + 65535) & ~(size_t)65535;
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, rounded, NULL, &err);
    if (err != CL_SUCCESS) return NULL;
    /* enqueued users of the old buffer keep it alive until they finish */
    if (g->temp) clReleaseMemObject(g->temp);
    g->temp = m;
    g->temp_bytes = rounded;
    return m;
}

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

/* One CLBlast call for the product (strided-batched in groups for batch > 1); the status of the
 * first failing call, whose profiling slot is given back. *call names it. */
static CLBlastStatusCode clblast_gemm(ts_backend *be, int trans_a, int trans_b, int M, int N, int K,
                                      float alpha, ts_tensor A, int lda, long stride_a, ts_tensor B,
                                      int ldb, long stride_b, float beta, ts_tensor C, int ldc,
                                      long stride_c, int batch, const char **callp) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode st;
    const char *call;
    if (batch == 1) {
        be->dispatches++;
        cl_mem temp = clblast_temp(be, ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
        call = temp ? "CLBlastSgemmWithTempBuffer" : "CLBlastSgemm";
        if (temp)
            st = CLBlastSgemmWithTempBuffer(
                CLBlastLayoutRowMajor, ta, tb, (size_t)M, (size_t)N, (size_t)K, alpha, A.buf->mem,
                A.off, (size_t)lda, B.buf->mem, B.off, (size_t)ldb, beta, C.buf->mem, C.off,
                (size_t)ldc, &ctx->queue, ocl_profile_event(be, "gemm"), temp);
        else
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
    if (st != CLBlastSuccess) ocl_profile_drop_last(be); /* the failed call made no event */
    *callp = call;
    return st;
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
    if (K == 0) {
        scale_c(be, C, M, N, ldc, stride_c, batch, beta);
        return;
    }
    ts_gemm_plan *plan = ocl_gemm_plan(be);
    if (!plan) return;
    ts_gemm_choice choice = ts_gemm_pick(plan, M, N, K, batch);
    if (choice.kernel == TS_GEMM_TILED) {
        gemm_tiled(be, &choice, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb,
                   stride_b, beta, C, ldc, stride_c, batch, NULL);
        return;
    }
    struct ocl_gemm_state *g = ocl_ctx_of(be)->gemm;
    cl_device_id dev = ocl_ctx_of(be)->device;
    int *applied = applied_of(dev);
    if (plan->trial && !g->trial_saved && applied) {
        g->trial_prev = *applied; /* put back when the trial ends (ocl_gemm_trial_end) */
        g->trial_saved = 1;
    }
    const char *call = "CLBlastOverrideParameters";
    CLBlastStatusCode st = clb_apply(dev, choice.variant);
    if (st == CLBlastSuccess)
        st = clblast_gemm(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b,
                          beta, C, ldc, stride_c, batch, &call);
    if (st == CLBlastSuccess) return;
    char what[320], set[48] = "";
    if (choice.variant > 0) snprintf(set, sizeof set, ", CLBlast set %d", choice.variant);
    snprintf(what, sizeof what, "%s (gemm %s%s M=%d N=%d K=%d batch=%d%s) failed: %s (%d)", call,
             trans_a ? "t" : "n", trans_b ? "t" : "n", M, N, K, batch, set,
             ocl_clblast_error_name(st), (int)st);
    /* a set that failed may sit half-built in CLBlast: never reuse it unchecked (a failure
     * under CLBlast's own parameters, out of memory say, changes nothing here) */
    if (applied && (choice.variant > 0 || *applied != 0)) *applied = -1;
    if (plan->trial) {
        /* the tuner's trial: its own status, the previous parameters back, no sticky error */
        plan->trial_failed = 1;
        snprintf(plan->trial_why, sizeof plan->trial_why, "%s", what);
        ocl_gemm_trial_end(be);
        return;
    }
    if (choice.variant > 0 && !plan->forced) {
        /* a tuned set this device or driver cannot run: drop it from the plan, once */
        ts_warn("gemm tuning: %s; CLBlast runs without its tuned parameters", what);
        for (int c = 0; c < TS_GEMM_CLASSES; c++)
            if (plan->cls[c].variant == choice.variant) plan->cls[c].variant = 0;
        st = clb_apply(dev, 0);
        if (st == CLBlastSuccess)
            st = clblast_gemm(be, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb,
                              stride_b, beta, C, ldc, stride_c, batch, &call);
        if (st == CLBlastSuccess) return;
    }
    int oom = ocl_is_oom((cl_int)st) || st == CLBlastTempBufferAllocFailure;
    ocl_fail(be, oom, "%s", what);
}

void ocl_gemm_trial_end(ts_backend *be) {
    struct ocl_gemm_state *g = ocl_ctx_of(be)->gemm;
    if (!g || !g->trial_saved) return;
    g->trial_saved = 0;
    if (clb_apply(ocl_ctx_of(be)->device, g->trial_prev) != CLBlastSuccess) {
        int *applied = applied_of(ocl_ctx_of(be)->device);
        if (applied) *applied = -1;
    }
}

void ocl_linear_bias_forward(ts_backend *be, ts_tensor h, ts_tensor g, ts_tensor inp, ts_tensor W,
                             ts_tensor bias, int rows, int in, int out, int gelu, float p,
                             ts_dropout_key key) {
    ts_linear_bias_forward_on(be, ocl_gemm_plan(be), gemm_tiled, h, g, inp, W, bias, rows, in, out,
                              gelu, p, key);
}
