/*
 * opencl_ops.c — the host side of every op except gemm, attention and peak: the generated
 * launch of the single-kernel ops of op_launch.h and the hand-written ones of the rest, each
 * enqueueing its kernels from cl/ (the frontend has checked the views). Nothing here waits for
 * the device.
 */
#include "backends/opencl/opencl_internal.h"
#include "backends/op_variants.h"

#include <math.h>
#include <string.h>

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Kernels index with 32-bit counters: larger tensors are refused with a clear message. */
#define OCL_MAX_ELEMS ((size_t)UINT32_MAX - 65536)

static int too_big(ts_backend *be, size_t n, const char *op) {
    if (n <= OCL_MAX_ELEMS) return 0;
    ocl_fail(be, 0, "%s: %zu elements is more than the OpenCL kernels index (2^32)", op, n);
    return 1;
}

static void launch_1d(ts_backend *be, ocl_kernel_id id, size_t n, int nargs, const ocl_arg *args) {
    size_t global = n, local = OCL_WG;
    ocl_launch(be, id, 1, &global, &local, nargs, args);
}

/* Rows of a (rows, cols) array, one work-group of ctx->row_wg items per row. */
static void launch_rows(ts_backend *be, ocl_kernel_id id, size_t rows, int nargs,
                        const ocl_arg *args) {
    size_t local = (size_t)ocl_ctx_of(be)->row_wg;
    size_t global = rows * local;
    ocl_launch(be, id, 1, &global, &local, nargs, args);
}

/* (cols, rows) grid for kernels with one item per element of a row-major array. */
static void launch_2d(ts_backend *be, ocl_kernel_id id, size_t cols, size_t rows, int nargs,
                      const ocl_arg *args) {
    size_t global[2] = {cols, rows};
    size_t local[2] = {cols >= 64 ? 64 : 16, cols >= 64 ? 1 : 4};
    ocl_launch(be, id, 2, global, local, nargs, args);
}

/* ---- the ops of op_launch.h: one kernel over the op's arguments -------------------------- */

/* Arguments: each tensor as (buffer, offset), then the scalar words (4 bytes each, whatever
 * their type in the kernel). */
static void launch_op(ts_backend *be, ocl_kernel_id id, const char *op, ts_grid grid,
                      const ts_launch_tensor *tensors, int nt, const uint32_t *words, int nw) {
    enum { MAX_ARGS = 32 };
    if (ts_launch_empty(tensors, nt)) return;
    for (int i = 0; i < nt; i++)
        if (too_big(be, tensors[i].n, op)) return;
    ocl_arg args[MAX_ARGS];
    int nargs = 0;
    for (int i = 0; i < nt && nargs + 2 <= MAX_ARGS; i++) {
        args[nargs++] = ocl_mem(tensors[i].t.buf->mem);
        args[nargs++] = ocl_u64((cl_ulong)tensors[i].t.off);
    }
    for (int i = 0; i < nw && nargs < MAX_ARGS; i++)
        args[nargs++] = ocl_u32(words[i]);
    if (grid.kind == TS_GRID_ROWS)
        launch_rows(be, id, grid.rows, nargs, args);
    else if (grid.kind == TS_GRID_MATRIX)
        launch_2d(be, id, grid.cols, grid.rows, nargs, args);
    else
        launch_1d(be, id, grid.rows, nargs, args);
}

#define TS_OP(name, exempt, check, ...)                                                            \
    TS_OP_LAUNCH(TS_LAUNCHED_OP_DEFINE, (ocl, OCL_K_), name, __VA_ARGS__)
#include "backends/ops.def"
#undef TS_OP

/* ---- elementwise and copies ----------------------------------------------------------- */

void ocl_fill(ts_backend *be, ts_tensor x, float value, size_t n) {
    if (n == 0) return;
    be->dispatches++; /* a fill is a device command like a kernel */
    cl_int err = ocl_fill_bytes(ocl_ctx_of(be), x.buf->mem, x.off * 4, n * 4, value);
    if (err != CL_SUCCESS) ocl_fail_call(be, "clEnqueueFillBuffer", "fill", err);
}

void ocl_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n) {
    if (n == 0) return;
    if (dst.buf == src.buf && dst.off == src.off) return;
    ocl_ctx *ctx = ocl_ctx_of(be);
    cl_int err;
    if (dst.buf == src.buf && dst.off < src.off + n && src.off < dst.off + n) {
        /* OpenCL refuses overlapping copies within a buffer: go through the scratch buffer,
         * which gives memmove's result. */
        cl_mem tmp = ocl_scratch(be, n * 4);
        if (!tmp) return;
        be->dispatches++;
        err = clEnqueueCopyBuffer(ctx->queue, src.buf->mem, tmp, src.off * 4, 0, n * 4, 0, NULL,
                                  NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueCopyBuffer(ctx->queue, tmp, dst.buf->mem, 0, dst.off * 4, n * 4, 0, NULL,
                                      NULL);
    } else {
        err = clEnqueueCopyBuffer(ctx->queue, src.buf->mem, dst.buf->mem, src.off * 4, dst.off * 4,
                                  n * 4, 0, NULL, NULL);
    }
    be->dispatches++;
    if (err != CL_SUCCESS) ocl_fail_call(be, "clEnqueueCopyBuffer", "copy", err);
}

void ocl_scale(ts_backend *be, ts_tensor x, float s, size_t n) {
    if (n == 0 || too_big(be, n, "scale")) return;
    ocl_arg args[] = {OCL_VIEW(x), ocl_f32(s), ocl_u32((cl_uint)n)};
    launch_1d(be, OCL_K_scale, n, NARGS(args), args);
}

/* ---- bias ------------------------------------------------------------------------------ */

/* dst[c] += sum_k part[k * width + base + c] for c < cols (bias.cl). */
static void colsum_finish(ts_backend *be, ts_tensor dst, cl_mem part, int cols, int chunks,
                          int width, int base) {
    ocl_arg args[] = {OCL_VIEW(dst),           ocl_mem(part),
                      ocl_u32((cl_uint)cols),  ocl_u32((cl_uint)chunks),
                      ocl_u32((cl_uint)width), ocl_u32((cl_uint)base)};
    launch_1d(be, OCL_K_colsum_finish, (size_t)cols, NARGS(args), args);
}

void ocl_bias_backward(ts_backend *be, ts_tensor dbias, ts_tensor dout, int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    size_t n = (size_t)rows * cols;
    if (too_big(be, n, "bias_backward")) return;
    int chunks = (rows + OCL_COLSUM_ROWS - 1) / OCL_COLSUM_ROWS;
    cl_mem part = ocl_scratch(be, (size_t)chunks * cols * 4);
    if (!part) return;
    ocl_arg args[] = {ocl_mem(part), OCL_VIEW(dout), ocl_u32((cl_uint)rows),
                      ocl_u32((cl_uint)cols)};
    launch_2d(be, OCL_K_colsum_partial, (size_t)cols, (size_t)chunks, NARGS(args), args);
    colsum_finish(be, dbias, part, cols, chunks, cols, 0);
}

/* ---- embeddings ------------------------------------------------------------------------ */

void ocl_embedding_forward(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                           int C, int V, int accumulate) {
    const char *op = "embedding_forward";
    if (n <= 0 || C <= 0) return; /* V > 0 here: the frontend checked the table */
    if (too_big(be, (size_t)n * C, op) || too_big(be, (size_t)V * C, op)) return;
    ocl_arg args[] = {
        OCL_VIEW(out),       OCL_VIEW(table), OCL_VIEW(ids),       ocl_u32((cl_uint)n),
        ocl_u32((cl_uint)C), ocl_i32(V),      ocl_i32(accumulate), ocl_mem(ocl_ctx_of(be)->status)};
    launch_2d(be, OCL_K_embedding_forward, (size_t)C, (size_t)n, NARGS(args), args);
}

void ocl_embedding_backward(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids, int n,
                            int C, int V) {
    const char *op = "embedding_backward";
    if (n <= 0 || C <= 0 || V <= 0) return;
    if (too_big(be, (size_t)n * C, op) || too_big(be, (size_t)V * C, op)) return;
    ocl_arg args[] = {OCL_VIEW(dtable),
                      OCL_VIEW(dout),
                      OCL_VIEW(ids),
                      ocl_u32((cl_uint)n),
                      ocl_u32((cl_uint)C),
                      ocl_i32(V),
                      ocl_mem(ocl_ctx_of(be)->status)};
    size_t local = OCL_EMB_TILE, global = (size_t)V * OCL_EMB_TILE; /* one group per table row */
    ocl_launch(be, OCL_K_embedding_backward, 1, &global, &local, NARGS(args), args);
}

/* ---- LayerNorm ------------------------------------------------------------------------- */

void ocl_layernorm_backward(ts_backend *be, ts_tensor dinp, ts_tensor dweight, ts_tensor dbias,
                            ts_tensor dout, ts_tensor inp, ts_tensor weight, ts_tensor mean,
                            ts_tensor rstd, int N, int C) {
    const char *op = "layernorm_backward";
    if (N <= 0 || C <= 0) return;
    size_t nc = (size_t)N * C;
    if (too_big(be, nc, op)) return;
    /* Parameter sums first: dinp may alias dout, and the in-order queue runs these before the
     * dinp kernel overwrites it. */
    int chunks = (N + OCL_COLSUM_ROWS - 1) / OCL_COLSUM_ROWS;
    cl_mem part = ocl_scratch(be, (size_t)chunks * 2 * C * 4);
    if (!part) return;
    ocl_arg pargs[] = {ocl_mem(part),  OCL_VIEW(dout),      OCL_VIEW(inp),      OCL_VIEW(mean),
                       OCL_VIEW(rstd), ocl_u32((cl_uint)N), ocl_u32((cl_uint)C)};
    launch_2d(be, OCL_K_layernorm_param_partial, (size_t)C, (size_t)chunks, NARGS(pargs), pargs);
    colsum_finish(be, dweight, part, C, chunks, 2 * C, 0);
    colsum_finish(be, dbias, part, C, chunks, 2 * C, C);
    ocl_arg args[] = {OCL_VIEW(dinp), OCL_VIEW(dout), OCL_VIEW(inp),       OCL_VIEW(weight),
                      OCL_VIEW(mean), OCL_VIEW(rstd), ocl_u32((cl_uint)N), ocl_u32((cl_uint)C)};
    launch_rows(be, OCL_K_layernorm_backward, (size_t)N, NARGS(args), args);
}

/* ---- activations ----------------------------------------------------------------------- */

static void dropout_mask(ts_backend *be, const char *op, ts_tensor out, ts_tensor inp, size_t n,
                         float p, ts_dropout_key key) {
    /* The Philox block counter is 32 bits (backend.h), so 2^34 elements at most. */
    if (too_big(be, n, op)) return;
    const ts_dropout_words d = ts_dropout_words_of(p, key);
    ocl_arg args[] = {OCL_VIEW(out), OCL_VIEW(inp), ocl_u32((cl_uint)n), OCL_DROPOUT_ARGS(d, key)};
    /* one work-item per Philox block when the slice is block-aligned, else one per element */
    int blocks = key.span == 0 && key.offset % 4 == 0;
    launch_1d(be, OCL_K_dropout, blocks ? (n + 3) / 4 : n, NARGS(args), args);
}

TS_DROPOUT_OPS(ocl)

/* ---- attention ------------------------------------------------------------------------- */

/* heads[0..parts) <-> packed; see ts_permute_heads in cl/attention.cl. */
static void permute_heads(ts_backend *be, const char *op, ts_tensor packed, const ts_tensor *heads,
                          int parts, int B, int T, int NH, int HS, int to_heads) {
    size_t n = (size_t)B * T * NH * HS;
    if (n == 0 || too_big(be, (size_t)parts * n, op)) return;
    const ts_tensor *h1 = parts == 3 ? &heads[1] : &heads[0];
    const ts_tensor *h2 = parts == 3 ? &heads[2] : &heads[0];
    ocl_arg args[] = {OCL_VIEW(packed),    OCL_VIEW(heads[0]),      OCL_VIEW(*h1),
                      OCL_VIEW(*h2),       ocl_u32((cl_uint)parts), ocl_u32((cl_uint)B),
                      ocl_u32((cl_uint)T), ocl_u32((cl_uint)NH),    ocl_u32((cl_uint)HS),
                      ocl_i32(to_heads)};
    launch_1d(be, OCL_K_permute_heads, n, NARGS(args), args);
}

TS_HEADS_OPS(ocl)

void ocl_softmax_causal_forward(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                                float scale) {
    const char *op = "softmax_causal_forward";
    if (BH <= 0 || T <= 0) return;
    size_t n = (size_t)BH * T * T;
    if (too_big(be, n, op)) return;
    ocl_arg args[] = {OCL_VIEW(att), OCL_VIEW(pre), ocl_u32((cl_uint)((size_t)BH * T)),
                      ocl_u32((cl_uint)T), ocl_f32(scale)};
    launch_rows(be, OCL_K_softmax_causal_forward, (size_t)BH * T, NARGS(args), args);
}

void ocl_softmax_causal_backward(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                 int BH, int T, float scale) {
    const char *op = "softmax_causal_backward";
    if (BH <= 0 || T <= 0) return;
    size_t n = (size_t)BH * T * T;
    if (too_big(be, n, op)) return;
    ocl_arg args[] = {OCL_VIEW(dpre),      OCL_VIEW(datt),
                      OCL_VIEW(att),       ocl_u32((cl_uint)((size_t)BH * T)),
                      ocl_u32((cl_uint)T), ocl_f32(scale)};
    launch_rows(be, OCL_K_softmax_causal_backward, (size_t)BH * T, NARGS(args), args);
}

/* ---- loss ------------------------------------------------------------------------------ */

void ocl_crossentropy_forward(ts_backend *be, ts_tensor losses, ts_tensor probs, ts_tensor logits,
                              ts_tensor targets, int N, int V, int ignore_index) {
    const char *op = "crossentropy_forward";
    if (N <= 0 || V <= 0) return;
    size_t nv = (size_t)N * V;
    if (too_big(be, nv, op)) return;
    ocl_arg args[] = {OCL_VIEW(losses),      OCL_VIEW(probs),
                      OCL_VIEW(logits),      OCL_VIEW(targets),
                      ocl_u32((cl_uint)N),   ocl_u32((cl_uint)V),
                      ocl_i32(ignore_index), ocl_mem(ocl_ctx_of(be)->status)};
    launch_rows(be, OCL_K_crossentropy_forward, (size_t)N, NARGS(args), args);
}

void ocl_crossentropy_backward(ts_backend *be, ts_tensor dlogits, ts_tensor probs,
                               ts_tensor targets, int N, int V, int ignore_index, float scale) {
    const char *op = "crossentropy_backward";
    if (N <= 0 || V <= 0) return;
    size_t nv = (size_t)N * V;
    if (too_big(be, nv, op)) return;
    ocl_arg args[] = {OCL_VIEW(dlogits),   OCL_VIEW(probs),
                      OCL_VIEW(targets),   ocl_u32((cl_uint)N),
                      ocl_u32((cl_uint)V), ocl_i32(ignore_index),
                      ocl_f32(scale),      ocl_mem(ocl_ctx_of(be)->status)};
    launch_2d(be, OCL_K_crossentropy_backward, (size_t)V, (size_t)N, NARGS(args), args);
}

/* ---- reductions and the optimizer ------------------------------------------------------ */

static void reduce(ts_backend *be, const char *op, ts_tensor out, ts_tensor x, size_t n,
                   int squares) {
    if (n == 0) {
        ocl_fill(be, out, 0.0f, 1);
        return;
    }
    if (too_big(be, n, op)) return;
    cl_mem part = ocl_scratch(be, OCL_RED_GROUPS * 4);
    if (!part) return;
    ocl_arg pargs[] = {ocl_mem(part), OCL_VIEW(x), ocl_u32((cl_uint)n), ocl_i32(squares)};
    size_t local = OCL_RED_WG, global = (size_t)OCL_RED_WG * OCL_RED_GROUPS;
    ocl_launch(be, OCL_K_reduce_partial, 1, &global, &local, NARGS(pargs), pargs);
    ocl_arg fargs[] = {OCL_VIEW(out), ocl_mem(part)};
    ocl_launch(be, OCL_K_reduce_finish, 1, &local, &local, NARGS(fargs), fargs);
}

TS_SUM_OPS(ocl)

void ocl_grad_gate(ts_backend *be, ts_tensor gate, ts_tensor norm, ts_tensor sums, double clip) {
    ocl_arg args[] = {OCL_VIEW(gate), OCL_VIEW(norm), OCL_VIEW(sums), ocl_f32((cl_float)clip)};
    size_t one = 1;
    ocl_launch(be, OCL_K_grad_gate, 1, &one, &one, NARGS(args), args);
}

void ocl_adamw(ts_backend *be, ts_tensor param, ts_tensor grad, ts_tensor m, ts_tensor v,
               ts_tensor gate, size_t n, double lr, double beta1, double beta2, double eps,
               double weight_decay, int t) {
    const char *op = "adamw";
    if (n == 0) return;
    if (too_big(be, n, op)) return;
    const ts_adamw_scalars s = ts_adamw_scalars_of(lr, beta1, beta2, eps, weight_decay, t);
    ocl_arg args[] = {OCL_VIEW(param),     OCL_VIEW(grad),      OCL_VIEW(m),      OCL_VIEW(v),
                      OCL_VIEW(gate),      ocl_u32((cl_uint)n), ocl_f32(s.decay), ocl_f32(s.b1),
                      ocl_f32(s.b2),       ocl_f32(s.eps),      ocl_f32(s.a1),    ocl_f32(s.a2),
                      ocl_f32(s.neg_step), ocl_f32(s.bc2_sqrt)};
    launch_1d(be, OCL_K_adamw, n, NARGS(args), args);
}
