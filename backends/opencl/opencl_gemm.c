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
 * (CLBlastSgemmWithTempBuffer) instead of CLBlast allocating one per call.
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

#include "backends/gemm_epilogue.h"
#include "backends/gemm_plan.h"

/* What the GEMM path keeps per context: the plan, the tiled programs, CLBlast's temp buffer. */
struct ocl_gemm_state {
    ts_gemm_plan plan;
    cl_program progs[TS_GEMM_TILES][2]; /* [tile][float4 loads] */
    cl_kernel tiled[TS_GEMM_TILES][2], reduce[TS_GEMM_TILES][2];
    cl_mem temp;
    size_t temp_bytes;
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
        int rc = ts_gemm_tuning_load("opencl", info.name, info.driver, &g->plan, why, sizeof why);
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
    if (st != CLBlastSuccess) {
        ocl_profile_drop_last(be); /* the failed call made no event */
        int oom = ocl_is_oom((cl_int)st) || st == CLBlastTempBufferAllocFailure;
        ocl_fail(be, oom, "%s (gemm %s%s M=%d N=%d K=%d batch=%d) failed: %s (%d)", call,
                 trans_a ? "t" : "n", trans_b ? "t" : "n", M, N, K, batch,
                 ocl_clblast_error_name(st), (int)st);
    }
}

void ocl_linear_bias_forward(ts_backend *be, ts_tensor h, ts_tensor g, ts_tensor inp, ts_tensor W,
                             ts_tensor bias, int rows, int in, int out, int gelu, float p,
                             ts_dropout_key key) {
    ts_linear_bias_forward_on(be, ocl_gemm_plan(be), gemm_tiled, h, g, inp, W, bias, rows, in, out,
                              gelu, p, key);
}
