/*
 * opencl_lstm_split.c — the split-K sequence path on OpenCL (backends/lstm_split.h): the
 * partial products of cl/lstm_split.cl into the scratch buffer, and the split cells of
 * cl/lstm_step.cl, two launches per time step and direction.
 */
#include "backends/lstm_split.h"
#include "backends/lstm_variant.h"
#include "backends/opencl/opencl_internal.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The scratch holding the partials: `floats` of them, or NULL with the error recorded. */
static cl_mem partials(ts_backend *be, size_t floats) {
    return be->error == TS_OK ? ocl_scratch(be, floats * sizeof(float)) : NULL;
}

static void partial(ts_backend *be, ts_tensor x, int ldx, ts_tensor w, int B, int M, int K, int sm,
                    int sk, ts_lstm_split_plan pl) {
    cl_mem part = partials(be, (size_t)pl.splits * B * M);
    if (!part) return;
    ocl_arg args[] = {ocl_mem(part),        OCL_VIEW(x), OCL_VIEW(w),    ocl_u32(B),
                      ocl_u32(M),           ocl_u32(K),  ocl_u32(pl.ks), ocl_u32((cl_uint)ldx),
                      ocl_u32((cl_uint)sm), ocl_u32(sk)};
    size_t rows = (B + TS_LSTM_SPLIT_ROWS - 1) / TS_LSTM_SPLIT_ROWS;
    size_t global[3] = {(size_t)M, rows, (size_t)pl.splits}, local[3] = {64, 1, 1};
    ocl_launch(be, OCL_K_lstm_split_partial, 3, global, local, NARGS(args), args);
}

static void cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                         ts_tensor c_prev, ts_tensor b_ih, ts_tensor b_hh, int B, int H,
                         int has_prev, int splits) {
    cl_mem part = partials(be, (size_t)splits * B * 4 * H);
    if (!part) return;
    ocl_arg args[] = {OCL_VIEW(h),      OCL_VIEW(c),    OCL_VIEW(act),          OCL_VIEW(pre),
                      OCL_VIEW(c_prev), OCL_VIEW(b_ih), OCL_VIEW(b_hh),         ocl_mem(part),
                      ocl_u32(B),       ocl_u32(H),     ocl_u32(has_prev != 0), ocl_u32(splits)};
    ocl_lstm_launch_units(be, OCL_K_lstm_split_forward, B, H, NARGS(args), args);
}

static void cell_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                          ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B, int H,
                          int has_prev, int has_next, int splits) {
    cl_mem part = partials(be, (size_t)splits * B * H);
    if (!part) return;
    ocl_arg args[] = {OCL_VIEW(dpre),   OCL_VIEW(dc_prev),      OCL_VIEW(dh),
                      OCL_VIEW(dc),     OCL_VIEW(act),          OCL_VIEW(c),
                      OCL_VIEW(c_prev), ocl_mem(part),          ocl_u32(B),
                      ocl_u32(H),       ocl_u32(has_prev != 0), ocl_u32(has_next != 0),
                      ocl_u32(splits)};
    ocl_lstm_launch_units(be, OCL_K_lstm_split_backward, B, H, NARGS(args), args);
}

static const ts_lstm_split_kernels kernels = {partial, cell_forward, cell_backward};

int ocl_lstm_split_on(ts_backend *be, int H, const ts_lstm_split_kernels **k) {
    *k = &kernels;
    cl_device_type type = 0;
    clGetDeviceInfo(ocl_ctx_of(be)->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    return ts_lstm_split_wanted(be, (type & CL_DEVICE_TYPE_CPU) != 0, H);
}
