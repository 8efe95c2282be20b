/*
 * cpu_fused.c — the fused ops of ops.def as the CPU reference: each runs the unfused ops it
 * stands for, in their order, so the CPU's results are bit for bit those of the unfused
 * sequence (the golden tests and the other backends' parity cases compare against them).
 * The fused LayerNorm ops are in cpu_norm.c, beside the op they extend.
 */
#include "backends/cpu/cpu_internal.h"

#include "backends/gemm_epilogue.h"

void cpu_bias_gelu_dropout_forward(ts_backend *be, ts_tensor g, ts_tensor h, ts_tensor bias,
                                   int rows, int cols, int add_bias, float p, ts_dropout_key key) {
    if (rows <= 0 || cols <= 0) return;
    size_t n = (size_t)rows * cols;
    if (add_bias) cpu_bias_add(be, h, bias, rows, cols);
    cpu_gelu_forward(be, g, h, n);
    cpu_dropout_forward(be, g, g, n, p, key);
}

void cpu_gelu_dropout_backward_bias(ts_backend *be, ts_tensor dh, ts_tensor dbias, ts_tensor dg,
                                    ts_tensor h, int rows, int cols, float p, ts_dropout_key key) {
    if (rows <= 0 || cols <= 0) return;
    size_t n = (size_t)rows * cols;
    cpu_dropout_backward(be, dh, dg, n, p, key);
    cpu_gelu_backward(be, dh, h, dh, n);
    cpu_bias_backward(be, dbias, dh, rows, cols);
}

/* The probabilities go into dlogits, which the backward then turns into the gradient in place
 * (crossentropy_forward lets probs alias logits; the backward is elementwise per row). */
void cpu_crossentropy_fused(ts_backend *be, ts_tensor losses, ts_tensor dlogits, ts_tensor logits,
                            ts_tensor targets, int N, int V, int ignore_index, float scale) {
    if (N <= 0 || V <= 0) return;
    cpu_crossentropy_forward(be, losses, dlogits, logits, targets, N, V, ignore_index);
    if (be->error == TS_OK)
        cpu_crossentropy_backward(be, dlogits, dlogits, targets, N, V, ignore_index, scale);
}

void cpu_bias_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v,
                                ts_tensor qkv, ts_tensor bias, int B, int T, int NH, int HS) {
    if (B <= 0 || T <= 0 || NH <= 0 || HS <= 0) return;
    cpu_bias_add(be, qkv, bias, B * T, 3 * NH * HS);
    cpu_qkv_split_forward(be, q, k, v, qkv, B, T, NH, HS);
}

void cpu_qkv_split_backward_bias(ts_backend *be, ts_tensor dqkv, ts_tensor dbias, ts_tensor dq,
                                 ts_tensor dk, ts_tensor dv, int B, int T, int NH, int HS) {
    if (B <= 0 || T <= 0 || NH <= 0 || HS <= 0) return;
    cpu_qkv_split_backward(be, dqkv, dq, dk, dv, B, T, NH, HS);
    cpu_bias_backward(be, dbias, dqkv, B * T, 3 * NH * HS);
}

/* gemm, then bias_add or bias_gelu_dropout_forward (gemm_epilogue.c with no plan). */
void cpu_linear_bias_forward(ts_backend *be, ts_tensor h, ts_tensor g, ts_tensor inp, ts_tensor W,
                             ts_tensor bias, int rows, int in, int out, int gelu, float p,
                             ts_dropout_key key) {
    ts_linear_bias_forward_on(be, NULL, NULL, h, g, inp, W, bias, rows, in, out, gelu, p, key);
}
