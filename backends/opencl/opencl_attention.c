/*
 * opencl_attention.c — the host side of the fused causal attention (cl/attention_flash.cl):
 * the device's own size limit, then one forward kernel, or three backward kernels
 * (row sums delta, dq over key tiles, dk and dv over query tiles; no atomics, so every sum has
 * a fixed order).
 */
#include "backends/opencl/opencl_internal.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The kernels' dropout arguments: on, then thr, dscale and the key. */
#define MASK_ARGS(d, p, key) ocl_u32((p) > 0.0f), OCL_DROPOUT_ARGS(d, key)

/* The device's own limit (the frontend checked head size and p); 0 when the op must not run. */
static int prepare(ts_backend *be, const char *op, int BH, int T) {
    if (be->error != TS_OK || BH <= 0 || T <= 0) return 0;
    /* rows and the map's element index are 32-bit in the kernels' group counts; the Philox
     * block counter is 32 bits anyway (backend.h) */
    if ((size_t)BH * T > UINT32_MAX || (size_t)T * T > UINT32_MAX) {
        ocl_fail(be, 0, "%s: %d x %d rows is more than the OpenCL kernels index (2^32)", op, BH, T);
        return 0;
    }
    return 1;
}

/* One work-group of OCL_ATT_TILE items per (row tile, pair). */
static void launch_tiles(ts_backend *be, ocl_kernel_id id, int BH, int T, int nargs,
                         const ocl_arg *args) {
    size_t tiles = ((size_t)T + OCL_ATT_TILE - 1) / OCL_ATT_TILE;
    size_t global[2] = {tiles * OCL_ATT_TILE, (size_t)BH}, local[2] = {OCL_ATT_TILE, 1};
    ocl_launch(be, id, 2, global, local, nargs, args);
}

void ocl_attention_forward(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q, ts_tensor k,
                           ts_tensor v, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key) {
    const char *op = "attention_forward";
    if (!prepare(be, op, BH, T)) return;
    const ts_dropout_words d = ts_dropout_words_of(p, key);
    ocl_arg args[] = {OCL_VIEW(out),        OCL_VIEW(lse),  OCL_VIEW(q),
                      OCL_VIEW(k),          OCL_VIEW(v),    ocl_u32((cl_uint)T),
                      ocl_u32((cl_uint)HS), ocl_f32(scale), MASK_ARGS(d, p, key)};
    launch_tiles(be, OCL_K_attention_forward, BH, T, NARGS(args), args);
}

void ocl_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                            ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q,
                            ts_tensor k, ts_tensor v, ts_tensor lse, int BH, int T, int HS,
                            float scale, float p, ts_dropout_key key) {
    const char *op = "attention_backward";
    if (!prepare(be, op, BH, T)) return;
    const ts_dropout_words d = ts_dropout_words_of(p, key);
    size_t rows = (size_t)BH * T;
    ocl_arg dargs[] = {OCL_VIEW(delta), OCL_VIEW(dout), OCL_VIEW(out), ocl_u32((cl_uint)rows),
                       ocl_u32((cl_uint)HS)};
    size_t global = (rows + OCL_WG - 1) / OCL_WG * OCL_WG, local = OCL_WG;
    ocl_launch(be, OCL_K_attention_delta, 1, &global, &local, NARGS(dargs), dargs);
    ocl_arg qargs[] = {OCL_VIEW(dq),    OCL_VIEW(dout),      OCL_VIEW(q),
                       OCL_VIEW(k),     OCL_VIEW(v),         OCL_VIEW(lse),
                       OCL_VIEW(delta), ocl_u32((cl_uint)T), ocl_u32((cl_uint)HS),
                       ocl_f32(scale),  MASK_ARGS(d, p, key)};
    launch_tiles(be, OCL_K_attention_backward_dq, BH, T, NARGS(qargs), qargs);
    ocl_arg kargs[] = {OCL_VIEW(dk),         OCL_VIEW(dv),    OCL_VIEW(dout),
                       OCL_VIEW(q),          OCL_VIEW(k),     OCL_VIEW(v),
                       OCL_VIEW(lse),        OCL_VIEW(delta), ocl_u32((cl_uint)T),
                       ocl_u32((cl_uint)HS), ocl_f32(scale),  MASK_ARGS(d, p, key)};
    launch_tiles(be, OCL_K_attention_backward_dkdv, BH, T, NARGS(kargs), kargs);
}
