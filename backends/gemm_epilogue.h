/*
 * gemm_epilogue.h — what the tiled SGEMM (cl/gemm_tiled.cl, shaders/gemm_tiled.comp) may do
 * to a product before it stores it, so that the elementwise op the model runs right after the
 * product disappears from the step: add a bias to every row, and then write GELU and dropout of
 * the result into a second tensor (ops.def's linear_bias_forward). A residual add needs no
 * epilogue: it is the GEMM's own beta = 1.
 *
 * Every backend runs linear_bias_forward through ts_linear_bias_forward_on: when the plan
 * (gemm_plan.h) gives the product to the tiled kernel in one launch, the epilogue rides in it;
 * otherwise (the cpu, CLBlast or the built-in shaders, split-K, --precision) the backend's own
 * gemm runs, then its bias_add or bias_gelu_dropout_forward, exactly the ops the model ran
 * before, so the cpu's numbers stay bit for bit those of the unfused sequence.
 */
#ifndef TS_BACKENDS_GEMM_EPILOGUE_H
#define TS_BACKENDS_GEMM_EPILOGUE_H

#include "backends/backend.h"
#include "backends/gemm_plan.h"

typedef enum {
    TS_EPI_NONE = 0,      /* C = alpha op(A) op(B) + beta C */
    TS_EPI_BIAS = 1,      /* C = op(A) op(B) + bias[n] */
    TS_EPI_BIAS_GELU = 2, /* ... and g = Drop(GELU(C)) */
} ts_epi_kind;

typedef struct {
    int kind;       /* ts_epi_kind */
    ts_tensor bias; /* (N) */
    ts_tensor g;    /* TS_EPI_BIAS_GELU: (M, N), contiguous */
    float p;        /* dropout of g (bias_gelu_dropout_forward's mask over element m*N + n) */
    ts_dropout_key key;
} ts_gemm_epilogue;

/* A backend's tiled launch (its gemm's arguments, then the epilogue; NULL: none). With an
 * epilogue it is called only for batch 1, alpha 1, beta 0 and a choice without a split. */
typedef void (*ts_gemm_tiled_fn)(ts_backend *be, const ts_gemm_choice *c, int trans_a, int trans_b,
                                 int M, int N, int K, float alpha, ts_tensor A, int lda,
                                 long stride_a, ts_tensor B, int ldb, long stride_b, float beta,
                                 ts_tensor C, int ldc, long stride_c, int batch,
                                 const ts_gemm_epilogue *e);

/* linear_bias_forward (ops.def) on backend be, whose plan and tiled launch these are (NULL on
 * the cpu): one tiled launch with the epilogue when the plan allows, else be->impl's gemm and
 * bias_add / bias_gelu_dropout_forward. */
void ts_linear_bias_forward_on(ts_backend *be, ts_gemm_plan *plan, ts_gemm_tiled_fn tiled,
                               ts_tensor h, ts_tensor g, ts_tensor inp, ts_tensor W, ts_tensor bias,
                               int rows, int in, int out, int gelu, float p, ts_dropout_key key);

#endif
