/*
 * op_variants.h — ops that every backend implements as one routine of its own with a flag:
 * the four head permutations, sum and sum_squares, and dropout_backward (the forward mask
 * applied to the gradient). The mapping from op to routine is stated here once; a backend
 * defines the routine and expands the macro next to it.
 */
#ifndef TS_BACKENDS_OP_VARIANTS_H
#define TS_BACKENDS_OP_VARIANTS_H

#include "backends/backend.h"

/*
 * Needs, in scope:
 *   static void permute_heads(ts_backend *be, const char *op, ts_tensor packed,
 *                             const ts_tensor *heads, int parts, int B, int T, int NH, int HS,
 *                             int to_heads);
 * which moves rows between packed (B, T, parts*NH*HS) and the parts tensors heads[] of
 * (B, NH, T, HS): to them when to_heads is set, from them otherwise.
 */
#define TS_HEADS_OPS(prefix)                                                                       \
    void prefix##_qkv_split_forward(ts_backend *be, ts_tensor q, ts_tensor k, ts_tensor v,         \
                                    ts_tensor qkv, int B, int T, int NH, int HS) {                 \
        permute_heads(be, "qkv_split_forward", qkv, (ts_tensor[3]){q, k, v}, 3, B, T, NH, HS, 1);  \
    }                                                                                              \
    void prefix##_qkv_split_backward(ts_backend *be, ts_tensor dqkv, ts_tensor dq, ts_tensor dk,   \
                                     ts_tensor dv, int B, int T, int NH, int HS) {                 \
        permute_heads(be, "qkv_split_backward", dqkv, (ts_tensor[3]){dq, dk, dv}, 3, B, T, NH, HS, \
                      0);                                                                          \
    }                                                                                              \
    /* out[b, t, h*HS + d] = inp[b, h, t, d] */                                                    \
    void prefix##_heads_merge_forward(ts_backend *be, ts_tensor out, ts_tensor inp, int B, int T,  \
                                      int NH, int HS) {                                            \
        permute_heads(be, "heads_merge_forward", out, &inp, 1, B, T, NH, HS, 0);                   \
    }                                                                                              \
    void prefix##_heads_merge_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, int B,      \
                                       int T, int NH, int HS) {                                    \
        permute_heads(be, "heads_merge_backward", dout, &dinp, 1, B, T, NH, HS, 1);                \
    }

/* Needs static void reduce(ts_backend *be, const char *op, ts_tensor out, ts_tensor x, size_t n,
 * int squares): out[0] = the sum of x[i], or of x[i]^2 when squares is set. */
#define TS_SUM_OPS(prefix)                                                                         \
    void prefix##_sum(ts_backend *be, ts_tensor out, ts_tensor x, size_t n) {                      \
        reduce(be, "sum", out, x, n, 0);                                                           \
    }                                                                                              \
    void prefix##_sum_squares(ts_backend *be, ts_tensor out, ts_tensor x, size_t n) {              \
        reduce(be, "sum_squares", out, x, n, 1);                                                   \
    }

/* Needs static void dropout_mask(ts_backend *be, const char *op, ts_tensor out, ts_tensor inp,
 * size_t n, float p, ts_dropout_key key) for n > 0 and p > 0; p == 0 copies. Backward is the
 * same masking of dout (same key, same mask) as the forward. */
#define TS_DROPOUT_OPS(prefix)                                                                     \
    void prefix##_dropout_forward(ts_backend *be, ts_tensor out, ts_tensor inp, size_t n, float p, \
                                  ts_dropout_key key) {                                            \
        if (n == 0) return;                                                                        \
        if (p == 0.0f)                                                                             \
            prefix##_copy(be, out, inp, n);                                                        \
        else                                                                                       \
            dropout_mask(be, "dropout", out, inp, n, p, key);                                      \
    }                                                                                              \
    void prefix##_dropout_backward(ts_backend *be, ts_tensor dinp, ts_tensor dout, size_t n,       \
                                   float p, ts_dropout_key key) {                                  \
        prefix##_dropout_forward(be, dinp, dout, n, p, key);                                       \
    }

#endif
