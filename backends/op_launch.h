/*
 * op_launch.h — the device launch of the ops that are one kernel over their own arguments.
 * An op given a TS_LAUNCH_<op> entry here gets its OpenCL and Vulkan host code, its kernel id
 * and its Vulkan pipeline generated from its ops.def entry; no backend file names it. Its
 * kernel is ts_<op> in cl/<program>.cl and its shader shaders/<op>.comp, and both take the
 * op's arguments in ops.def order, tensors first, then scalars:
 *   OpenCL  each tensor as (__global float *, ulong element offset), each scalar as one 32-bit
 *           argument (uint for sizes, int for flags and indices, float);
 *   Vulkan  one storage-buffer binding per tensor; push constants are the tensors' element
 *           offsets (uint) and then the scalars, one 32-bit word each.
 * An op with any empty tensor does nothing. Ops with more than one kernel, scratch buffers,
 * derived scalars or the status word keep hand-written launches (opencl_ops.c, vulkan_ops.c).
 *
 *   #define TS_LAUNCH_<op> (grid, OpenCL program, Vulkan timing family)
 *
 * grid is one of
 *   ITEMS(n)            one work-item per element of n;
 *   MATRIX(rows, cols)  one work-item per element of a row-major (rows, cols) array;
 *   ROWS(rows)          one work-group per row (the backend's row work-group size).
 */
#ifndef TS_BACKENDS_OP_LAUNCH_H
#define TS_BACKENDS_OP_LAUNCH_H

#include <stdint.h>
#include <string.h>

#include "backends/backend.h"

#define TS_LAUNCH_add                (ITEMS(n), elementwise, elementwise)
#define TS_LAUNCH_bias_add           (MATRIX(rows, cols), bias, bias)
#define TS_LAUNCH_layernorm_forward  (ROWS(N), layernorm, layernorm)
#define TS_LAUNCH_gelu_forward       (ITEMS(n), elementwise, gelu)
#define TS_LAUNCH_gelu_backward      (ITEMS(n), elementwise, gelu)
#define TS_LAUNCH_lstm_cell_forward  (MATRIX(B, H), lstm, lstm)
#define TS_LAUNCH_lstm_cell_backward (MATRIX(B, H), lstm, lstm)

/* Inside an ops.def expansion: f(x, name, grid, program, family, argument tuples...) for an op
 * with a TS_LAUNCH_ entry, nothing for the others. x is passed through (an X-macro). */
#define TS_OP_LAUNCH(f, x, name, ...)                                                              \
    TS_PP_IF(TS_PP_IS_PAREN(TS_PP_CAT(TS_LAUNCH_, name)))                                          \
    (TS_OP_LAUNCH_, TS_PP_EAT)(f, x, name, TS_PP_CAT(TS_LAUNCH_, name), __VA_ARGS__)
#define TS_OP_LAUNCH_(f, x, name, launch, ...)                                                     \
    TS_OP_LAUNCH_CALL_(f, (x, name, TS_PP_UNPACK launch, __VA_ARGS__))
/* not TS_PP_APPLY: f's own expansion uses that, and a macro cannot expand inside itself */
#define TS_OP_LAUNCH_CALL_(f, args) f args

/* What a generated launch hands its backend: the grid, the tensors with the elements each may
 * touch (its ops.def extent), and the scalars as 32-bit words. */
typedef enum { TS_GRID_ITEMS, TS_GRID_MATRIX, TS_GRID_ROWS } ts_grid_kind;
typedef struct {
    ts_grid_kind kind;
    size_t rows, cols; /* ITEMS(n): n rows of one column; ROWS(r): r rows */
} ts_grid;
typedef struct {
    ts_tensor t;
    size_t n;
} ts_launch_tensor;

#define TS_GRID_OF(grid)           TS_PP_CAT(TS_GRID_OF_, grid)
#define TS_GRID_OF_ITEMS(n)        ((ts_grid){TS_GRID_ITEMS, (size_t)(n), 1})
#define TS_GRID_OF_MATRIX(rows, c) ((ts_grid){TS_GRID_MATRIX, (size_t)(rows), (size_t)(c)})
#define TS_GRID_OF_ROWS(rows)      ((ts_grid){TS_GRID_ROWS, (size_t)(rows), 1})

static inline uint32_t ts_word_f32(float x) {
    uint32_t w;
    memcpy(&w, &x, 4);
    return w;
}

/* `{x, extent},` for each tensor tuple; `word,` for each scalar tuple. Only sizes, flags and
 * floats fit one word: a launched op with a stride, a double or a dropout key fails to compile
 * here (TS_LAUNCH_WORD_S etc. are not defined). */
#define TS_LAUNCH_TENSORS(...)       TS_PP_MAP(TS_LAUNCH_TENSOR_ARG, TS_PP_NOTHING, __VA_ARGS__)
#define TS_LAUNCH_WORDS(...)         TS_PP_MAP(TS_LAUNCH_WORD_ARG, TS_PP_NOTHING, __VA_ARGS__)
#define TS_LAUNCH_COUNT_TENSORS(...) (0 TS_PP_MAP(TS_LAUNCH_COUNT_ARG, TS_PP_NOTHING, __VA_ARGS__))
#define TS_LAUNCH_TENSOR_ARG(t)      TS_PP_APPLY(TS_ARG_, (TS_LAUNCH_TENSOR_, TS_PP_UNPACK t))
#define TS_LAUNCH_WORD_ARG(t)        TS_PP_APPLY(TS_ARG_, (TS_LAUNCH_WORD_, TS_PP_UNPACK t))
#define TS_LAUNCH_COUNT_ARG(t)       TS_PP_APPLY(TS_ARG_, (TS_LAUNCH_COUNT_, TS_PP_UNPACK t))

#define TS_LAUNCH_TENSOR_T(x, e) {x, (size_t)(e)},
#define TS_LAUNCH_TENSOR_N(x)
#define TS_LAUNCH_TENSOR_Z(x)
#define TS_LAUNCH_TENSOR_I(x)
#define TS_LAUNCH_TENSOR_F(x)
#define TS_LAUNCH_WORD_T(x, e)
#define TS_LAUNCH_WORD_N(x)     (uint32_t)(x),
#define TS_LAUNCH_WORD_Z(x)     (uint32_t)(x),
#define TS_LAUNCH_WORD_I(x)     (uint32_t)(int32_t)(x),
#define TS_LAUNCH_WORD_F(x)     ts_word_f32(x),
#define TS_LAUNCH_COUNT_T(x, e) +1
#define TS_LAUNCH_COUNT_N(x)
#define TS_LAUNCH_COUNT_Z(x)
#define TS_LAUNCH_COUNT_I(x)
#define TS_LAUNCH_COUNT_F(x)

/* The body of a generated launch: collects the tensors and words and calls
 * launch(be, kernel, op name, grid, tensors, count, words, count). */
#define TS_LAUNCH_BODY(launch, kernel, name, grid, ...)                                            \
    {                                                                                              \
        const ts_launch_tensor tensors_[] = {TS_LAUNCH_TENSORS(__VA_ARGS__)};                      \
        const uint32_t words_[] = {TS_LAUNCH_WORDS(__VA_ARGS__)};                                  \
        launch(be, kernel, #name, TS_GRID_OF(grid), tensors_,                                      \
               (int)(sizeof tensors_ / sizeof tensors_[0]), words_,                                \
               (int)(sizeof words_ / sizeof words_[0]));                                           \
    }

/* For TS_OP_LAUNCH with x = (function prefix, kernel id prefix): the op's function
 * <prefix>_<op>(be, its ops.def parameters), which calls the backend's static launch_op. */
#define TS_LAUNCHED_OP_DEFINE(x, name, grid, program, family, ...)                                 \
    void TS_PP_CAT(TS_LAUNCH_PAIR_1 x, _##name)(ts_backend * be, TS_OP_PARAMS(__VA_ARGS__))        \
        TS_LAUNCH_BODY(launch_op, TS_PP_CAT(TS_LAUNCH_PAIR_2 x, name), name, grid, __VA_ARGS__)
#define TS_LAUNCH_PAIR_1(a, b) a
#define TS_LAUNCH_PAIR_2(a, b) b

/* 1 when some tensor of the launch is empty (the op has nothing to do). */
static inline int ts_launch_empty(const ts_launch_tensor *t, int nt) {
    for (int i = 0; i < nt; i++)
        if (t[i].n == 0) return 1;
    return 0;
}

#endif
