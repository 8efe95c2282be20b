/*
 * opencl_lstm.c — host side of the fused LSTM time step (cl/lstm_step.cl): one launch per
 * step forward and one backward, each item a (batch row, hidden unit) pair. Views the kernel
 * will not read (h_prev/c_prev without has_prev, dc/dpre_next without has_next) may be empty
 * in the call; a view that is read is passed in their place so every argument is a real buffer.
 */
#include "backends/opencl/opencl_internal.h"
#include "backends/lstm_variant.h"

#define NARGS(a)    ((int)(sizeof(a) / sizeof((a)[0])))
#define OCL_LSTM_WG 64 /* TS_LSTM_WG in cl/lstm_step.cl */

/* The kernels index with 32-bit sizes: refuse what does not fit with a clear message. */
static int lstm_step_fits(ts_backend *be, const char *op, int B, int H, int ld_state) {
    size_t most = (size_t)UINT32_MAX - 65536;
    if ((size_t)B * 4 * H <= most && (size_t)B * ld_state <= most && (size_t)4 * H * H <= most)
        return 1;
    ocl_fail(be, 0, "%s: B=%d H=%d is more than the OpenCL kernels index (2^32)", op, B, H);
    return 0;
}

void ocl_lstm_launch_units(ts_backend *be, ocl_kernel_id id, int B, int H, int nargs,
                           const ocl_arg *args) {
    size_t global[2] = {(size_t)H, (size_t)B};
    size_t local[2] = {H >= 64 ? 64 : 16, H >= 64 ? 1 : 4};
    ocl_launch(be, id, 2, global, local, nargs, args);
}

void ocl_lstm_step_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                           ts_tensor h_prev, ts_tensor c_prev, ts_tensor w_hh, ts_tensor b_ih,
                           ts_tensor b_hh, int B, int H, int ld_state, int has_prev) {
    if (B <= 0 || H <= 0 || !lstm_step_fits(be, "lstm_step_forward", B, H, ld_state)) return;
    if (!has_prev) h_prev = h, c_prev = c;
    size_t bt = 2;
    while (bt < (size_t)B && bt < 16)
        bt *= 2;
    ocl_arg args[] = {OCL_VIEW(h),
                      OCL_VIEW(c),
                      OCL_VIEW(act),
                      OCL_VIEW(pre),
                      OCL_VIEW(h_prev),
                      OCL_VIEW(c_prev),
                      OCL_VIEW(w_hh),
                      OCL_VIEW(b_ih),
                      OCL_VIEW(b_hh),
                      ocl_u32((cl_uint)B),
                      ocl_u32((cl_uint)H),
                      ocl_u32((cl_uint)ld_state),
                      ocl_u32(has_prev ? 1u : 0u),
                      ocl_u32((cl_uint)(OCL_LSTM_WG / bt))};
    cl_device_type type = 0;
    clGetDeviceInfo(ocl_ctx_of(be)->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (!ts_lstm_step_tiled((type & CL_DEVICE_TYPE_CPU) != 0)) { /* its args end before UT */
        ocl_lstm_launch_units(be, OCL_K_lstm_step_forward_items, B, H, NARGS(args) - 1, args);
        return;
    }
    /* a work-group: OCL_LSTM_WG / bt hidden units by bt batch rows (cl/lstm_step.cl) */
    size_t ut = OCL_LSTM_WG / bt;
    size_t global[2] = {(H + ut - 1) / ut * OCL_LSTM_WG, (B + bt - 1) / bt},
           local[2] = {OCL_LSTM_WG, 1};
    ocl_launch(be, OCL_K_lstm_step_forward, 2, global, local, NARGS(args), args);
}

void ocl_lstm_step_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                            ts_tensor dc, ts_tensor dpre_next, ts_tensor w_hh, ts_tensor act,
                            ts_tensor c, ts_tensor c_prev, int B, int H, int ld_state, int has_prev,
                            int has_next) {
    if (B <= 0 || H <= 0 || !lstm_step_fits(be, "lstm_step_backward", B, H, ld_state)) return;
    if (!has_prev) c_prev = c;
    if (!has_next) dc = dh, dpre_next = act;
    ocl_arg args[] = {OCL_VIEW(dpre),
                      OCL_VIEW(dc_prev),
                      OCL_VIEW(dh),
                      OCL_VIEW(dc),
                      OCL_VIEW(dpre_next),
                      OCL_VIEW(w_hh),
                      OCL_VIEW(act),
                      OCL_VIEW(c),
                      OCL_VIEW(c_prev),
                      ocl_u32((cl_uint)B),
                      ocl_u32((cl_uint)H),
                      ocl_u32((cl_uint)ld_state),
                      ocl_u32(has_prev ? 1u : 0u),
                      ocl_u32(has_next ? 1u : 0u)};
    ocl_lstm_launch_units(be, OCL_K_lstm_step_backward, B, H, NARGS(args), args);
}
