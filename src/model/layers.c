/* layers.c — layers shared by both model families, built from backend ops. */
#include "model/model.h"

void ts_linear_forward(ts_backend *be, ts_tensor out, ts_tensor inp, ts_tensor W, ts_tensor b,
                       int N, int in, int outdim) {
    /* out (N x outdim) = inp (N x in) * W^T (in x outdim) [+ b: one launch where the backend's
     * tiled GEMM adds it on the way out] */
    if (b.buf) {
        be->iface->linear_bias_forward(be, out, (ts_tensor){0}, inp, W, b, N, in, outdim, 0, 0.0f,
                                       (ts_dropout_key){0});
        return;
    }
    be->iface->gemm(be, 0, 1, N, outdim, in, 1.0f, inp, in, 0, W, in, 0, 0.0f, out, outdim, 0, 1);
}

void ts_linear_backward(ts_backend *be, ts_tensor dinp, ts_tensor dW, ts_tensor db, ts_tensor dout,
                        ts_tensor inp, ts_tensor W, int N, int in, int outdim, int accumulate) {
    /* dW (outdim x in) += dout^T (outdim x N) * inp (N x in) */
    be->iface->gemm(be, 1, 0, outdim, in, N, 1.0f, dout, outdim, 0, inp, in, 0, 1.0f, dW, in, 0, 1);
    if (db.buf) be->iface->bias_backward(be, db, dout, N, outdim);
    /* dinp (N x in) (+)= dout (N x outdim) * W (outdim x in) */
    if (dinp.buf)
        be->iface->gemm(be, 0, 0, N, in, outdim, 1.0f, dout, outdim, 0, W, in, 0,
                        accumulate ? 1.0f : 0.0f, dinp, in, 0, 1);
}
