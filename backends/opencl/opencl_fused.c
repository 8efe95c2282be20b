/*
 * opencl_fused.c — the host side of the fused ops (cl/fused.cl): one launch each. The views
 * were checked by the frontend; here only the 32-bit index limit of the kernels is.
 */
#include "backends/opencl/opencl_internal.h"

#include <math.h>

#define NARGS(a)     ((int)(sizeof(a) / sizeof((a)[0])))
#define DROP_NARGS   9
#define FUSED_MAX_EL ((size_t)UINT32_MAX - 65536)

static int fits(ts_backend *be, size_t n, const char *op) {
    if (n <= FUSED_MAX_EL) return 1;
    ocl_fail(be, 0, "%s: %zu elements is more than the OpenCL kernels index (2^32)", op, n);
    return 0;
}

/* TS_DROP_ARGS of cl/fused.cl: the scalars dropout_forward passes, with thr = 0 for p == 0
 * (keep everything, unscaled: the copy the unfused op makes). */
static void drop_args(ocl_arg *a, float p, ts_dropout_key key) {
    a[0] = ocl_u32(p > 0.0f ? (cl_uint)ceil((double)p * 16777216.0) : 0);
    a[1] = ocl_f32(p < 1.0f ? 1.0f / (1.0f - p) : 0.0f);
    a[2] = ocl_u32((cl_uint)key.seed);
    a[3] = ocl_u32((cl_uint)(key.seed >> 32));
    a[4] = ocl_u32(key.step);
    a[5] = ocl_u32(key.tensor_id);
    a[6] = ocl_u64((cl_ulong)key.offset);
    a[7] = ocl_u32(key.span);
    a[8] = ocl_u32(key.stride);
}

static void launch_groups(ts_backend *be, ocl_kernel_id id, size_t groups, size_t local, int nargs,
                          const ocl_arg *args) {
    size_t global = groups * local;
    ocl_launch(be, id, 1, &global, &local, nargs, args);
}

void ocl_residual_layernorm_forward(ts_backend *be, ts_tensor sum, ts_tensor out, ts_tensor mean,
                                    ts_tensor rstd, ts_tensor x, ts_tensor r, ts_tensor rbias,
                                    ts_tensor weight, ts_tensor bias, int N, int C, float eps,
                                    float p, ts_dropout_key key) {
    if (N <= 0 || C <= 0 || !fits(be, (size_t)N * C, "residual_layernorm_forward")) return;
    ocl_arg a[18 + 3 + DROP_NARGS] = {OCL_VIEW(sum),       OCL_VIEW(out),       OCL_VIEW(mean),
                                      OCL_VIEW(rstd),      OCL_VIEW(x),         OCL_VIEW(r),
                                      OCL_VIEW(rbias),     OCL_VIEW(weight),    OCL_VIEW(bias),
                                      ocl_u32((cl_uint)N), ocl_u32((cl_uint)C), ocl_f32(eps)};
    drop_args(a + 21, p, key);
    launch_groups(be, OCL_K_residual_layernorm_forward, (size_t)N, (size_t)ocl_ctx_of(be)->row_wg,
                  NARGS(a), a);
}

void ocl_layernorm_backward_dropout(ts_backend *be, ts_tensor dinp, ts_tensor ddrop,
                                    ts_tensor dweight, ts_tensor dbias, ts_tensor dout,
                                    ts_tensor inp, ts_tensor weight, ts_tensor mean, ts_tensor rstd,
                                    int N, int C, float p, ts_dropout_key key) {
    size_t n = (size_t)N * C;
    if (N <= 0 || C <= 0 || !fits(be, n, "layernorm_backward_dropout")) return;
    size_t wg = (size_t)ocl_ctx_of(be)->row_wg;
    ocl_arg a[] = {OCL_VIEW(dinp),      OCL_VIEW(dweight),  OCL_VIEW(dbias), OCL_VIEW(dout),
                   OCL_VIEW(inp),       OCL_VIEW(weight),   OCL_VIEW(mean),  OCL_VIEW(rstd),
                   ocl_u32((cl_uint)N), ocl_u32((cl_uint)C)};
    /* N row groups, then the column groups */
    launch_groups(be, OCL_K_layernorm_backward_dropout, (size_t)N + ((size_t)C + wg - 1) / wg, wg,
                  NARGS(a), a);
    /* the dropout as its own launch (see cl/fused.cl); none when ddrop is dinp and p == 0 */
    if (p > 0.0f || ddrop.buf != dinp.buf || ddrop.off != dinp.off)
        ocl_dropout_forward(be, ddrop, dinp, n, p, key);
}

/* 1 when the dropout can take one Philox block of four elements per item: p == 0, or a
 * contiguous slice that starts on a block (dropout_forward's block path) */
static int philox_blocks(float p, ts_dropout_key key) {
    return p == 0.0f || (key.span == 0 && key.offset % 4 == 0);
}

void ocl_bias_gelu_dropout_forward(ts_backend *be, ts_tensor g, ts_tensor h, ts_tensor bias,
                                   int rows, int cols, int add_bias, float p, ts_dropout_key key) {
    size_t n = (size_t)rows * cols;
    if (n == 0 || !fits(be, n, "bias_gelu_dropout_forward")) return;
    int blocks = philox_blocks(p, key);
    size_t items = blocks ? (n + 3) / 4 : n;
    ocl_arg a[6 + 4 + DROP_NARGS] = {OCL_VIEW(g),
                                     OCL_VIEW(h),
                                     OCL_VIEW(bias),
                                     ocl_u32((cl_uint)rows),
                                     ocl_u32((cl_uint)cols),
                                     ocl_i32(add_bias),
                                     ocl_i32(blocks)};
    drop_args(a + 10, p, key);
    launch_groups(be, OCL_K_bias_gelu_dropout_forward, (items + OCL_WG - 1) / OCL_WG, OCL_WG,
                  NARGS(a), a);
}

void ocl_gelu_dropout_backward_bias(ts_backend *be, ts_tensor dh, ts_tensor dbias, ts_tensor dg,
                                    ts_tensor h, int rows, int cols, float p, ts_dropout_key key) {
    size_t n = (size_t)rows * cols;
    if (n == 0 || !fits(be, n, "gelu_dropout_backward_bias")) return;
    int blocks = philox_blocks(p, key) && cols % 4 == 0;
    size_t per = blocks ? 4 : 1;
    size_t elem_groups = ((n + per - 1) / per + OCL_WG - 1) / OCL_WG;
    size_t col_groups = (((size_t)cols + per - 1) / per + OCL_WG - 1) / OCL_WG;
    ocl_arg a[8 + 4 + DROP_NARGS] = {OCL_VIEW(dh),
                                     OCL_VIEW(dbias),
                                     OCL_VIEW(dg),
                                     OCL_VIEW(h),
                                     ocl_u32((cl_uint)rows),
                                     ocl_u32((cl_uint)cols),
                                     ocl_u32((cl_uint)elem_groups),
                                     ocl_i32(blocks)};
    drop_args(a + 12, p, key);
    /* element groups, then the column groups */
    launch_groups(be, OCL_K_gelu_dropout_backward_bias, elem_groups + col_groups, OCL_WG, NARGS(a),
                  a);
}

void ocl_crossentropy_fused(ts_backend *be, ts_tensor losses, ts_tensor dlogits, ts_tensor logits,
                            ts_tensor targets, int N, int V, int ignore_index, float scale) {
    if (N <= 0 || V <= 0 || !fits(be, (size_t)N * V, "crossentropy_fused")) return;
    ocl_arg a[] = {OCL_VIEW(losses),      OCL_VIEW(dlogits),   OCL_VIEW(logits),
                   OCL_VIEW(targets),     ocl_u32((cl_uint)N), ocl_u32((cl_uint)V),
                   ocl_i32(ignore_index), ocl_f32(scale),      ocl_mem(ocl_ctx_of(be)->status)};
    launch_groups(be, OCL_K_crossentropy_fused, (size_t)N, (size_t)ocl_ctx_of(be)->row_wg, NARGS(a),
                  a);
}

void ocl_bias_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v,
                                ts_tensor qkv, ts_tensor bias, int B, int T, int NH, int HS) {
    size_t n = (size_t)B * T * NH * HS;
    if (n == 0 || !fits(be, 3 * n, "bias_qkv_split_forward")) return;
    ocl_arg a[] = {OCL_VIEW(q),         OCL_VIEW(k),          OCL_VIEW(v),
                   OCL_VIEW(qkv),       OCL_VIEW(bias),       ocl_u32((cl_uint)B),
                   ocl_u32((cl_uint)T), ocl_u32((cl_uint)NH), ocl_u32((cl_uint)HS)};
    launch_groups(be, OCL_K_bias_qkv_split_forward, (n + OCL_WG - 1) / OCL_WG, OCL_WG, NARGS(a), a);
}

void ocl_qkv_split_backward_bias(ts_backend *be, ts_tensor dqkv, ts_tensor dbias, ts_tensor dq,
                                 ts_tensor dk, ts_tensor dv, int B, int T, int NH, int HS) {
    size_t n = (size_t)B * T * NH * HS, cols = (size_t)3 * NH * HS;
    if (n == 0 || !fits(be, 3 * n, "qkv_split_backward_bias")) return;
    size_t elem_groups = (n + OCL_WG - 1) / OCL_WG, col_groups = (cols + OCL_WG - 1) / OCL_WG;
    ocl_arg a[] = {OCL_VIEW(dqkv),       OCL_VIEW(dbias),
                   OCL_VIEW(dq),         OCL_VIEW(dk),
                   OCL_VIEW(dv),         ocl_u32((cl_uint)B),
                   ocl_u32((cl_uint)T),  ocl_u32((cl_uint)NH),
                   ocl_u32((cl_uint)HS), ocl_u32((cl_uint)elem_groups)};
    /* element groups, then the column groups */
    launch_groups(be, OCL_K_qkv_split_backward_bias, elem_groups + col_groups, OCL_WG, NARGS(a), a);
}
