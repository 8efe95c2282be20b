/* gemm_epilogue.c — linear_bias_forward on every backend (see gemm_epilogue.h). */
#include "backends/gemm_epilogue.h"

#include <stdint.h>

/* 1 when the dropout index of each of n elements fits the shaders' 32 bits (the check
 * dropout_forward makes; the unfused path reports the error when it does not). */
static int drop_index_fits(size_t n, float p, ts_dropout_key key) {
    if (p <= 0.0f || n == 0) return 1;
    uint64_t last =
        key.span ? key.offset + (uint64_t)((n - 1) / key.span) * key.stride + (n - 1) % key.span
                 : key.offset + n - 1;
    return last <= UINT32_MAX;
}

/* 1 when the plan runs (rows x out x in) with the tiled kernel in one launch. */
static int tiled_in_one(ts_backend *be, const ts_gemm_plan *plan, int rows, int in, int out,
                        ts_gemm_choice *c) {
    if (!plan || be->precision != TS_PREC_FP32 || in == 0) return 0;
    *c = ts_gemm_pick(plan, rows, out, in, 1);
    return c->kernel == TS_GEMM_TILED && ts_gemm_splits(c, in) == 1;
}

void ts_linear_bias_forward_on(ts_backend *be, ts_gemm_plan *plan, ts_gemm_tiled_fn tiled,
                               ts_tensor h, ts_tensor g, ts_tensor inp, ts_tensor W, ts_tensor bias,
                               int rows, int in, int out, int gelu, float p, ts_dropout_key key) {
    if (rows == 0 || out == 0) return;
    const ts_backend_iface *op = be->impl; /* counted once, as this op, by the frontend */
    size_t n = (size_t)rows * out;
    ts_gemm_choice c;
    if (tiled && tiled_in_one(be, plan, rows, in, out, &c) && drop_index_fits(n, p, key)) {
        ts_gemm_epilogue e = {gelu ? TS_EPI_BIAS_GELU : TS_EPI_BIAS, bias, g, p, key};
        tiled(be, &c, 0, 1, rows, out, in, 1.0f, inp, in, 0, W, in, 0, 0.0f, h, out, 0, 1, &e);
        return;
    }
    /* h = inp W^T, as ts_linear_forward's product */
    op->gemm(be, 0, 1, rows, out, in, 1.0f, inp, in, 0, W, in, 0, 0.0f, h, out, 0, 1);
    if (gelu)
        op->bias_gelu_dropout_forward(be, g, h, bias, rows, out, 1, p, key);
    else
        op->bias_add(be, h, bias, rows, out);
}
