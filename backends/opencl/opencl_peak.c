/*
 * opencl_peak.c — the host side of `bench peak`'s kernels (cl/peak.cl). Work-groups of
 * OCL_WG items; nothing here waits (the frontend times them between syncs).
 */
#include "backends/opencl/opencl_internal.h"

void ocl_peak_fma(ts_backend *be, ts_tensor out, size_t items, int iters) {
    if (items == 0) return;
    if (items > UINT32_MAX / 2 || iters < 0) {
        ocl_fail(be, 0, "peak_fma: %zu items x %d rounds is out of range", items, iters);
        return;
    }
    ocl_arg args[] = {OCL_VIEW(out), ocl_u32((cl_uint)items), ocl_u32((cl_uint)iters)};
    size_t global = items, local = OCL_WG;
    ocl_launch(be, OCL_K_peak_fma, 1, &global, &local, 4, args);
}

void ocl_peak_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n) {
    if (n == 0) return;
    if (n % 4 || n / 4 > UINT32_MAX / 2) {
        ocl_fail(be, 0, "peak_copy: n = %zu must be a multiple of 4 below 2^33", n);
        return;
    }
    ocl_arg args[] = {OCL_VIEW(dst), OCL_VIEW(src), ocl_u32((cl_uint)(n / 4))};
    size_t global = n / 4, local = OCL_WG;
    ocl_launch(be, OCL_K_peak_copy, 1, &global, &local, 5, args);
}
