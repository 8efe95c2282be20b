/*
 * opencl_gemm_lowp.c — --precision on OpenCL: which reduced modes a device can compute.
 *
 * OpenCL C has no bf16 or tf32 type, and the one route to NVIDIA's tensor cores (inline PTX
 * in OpenCL C) is out of reach of a portable build, so tf32 and bf16 are refused on every
 * OpenCL device. fp16 needs cl_khr_fp16 for half arithmetic; a device without it is refused,
 * and so, for now, is one with it: the fp16-input kernel (cl/gemm_half.cl) is not written yet,
 * because no device at hand (PoCL on this machine has no cl_khr_fp16) could test it. Refusing
 * is the honest outcome: the CLBlast sgemm would compute fp32 while the result said fp16.
 */
#include "backends/opencl/opencl_internal.h"

#include <stdlib.h>
#include <string.h>

/* 1 when the device's extension list names `ext` as a whole word. */
static int device_has(cl_device_id dev, const char *ext) {
    size_t n = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &n) != CL_SUCCESS || !n) return 0;
    char *list = malloc(n + 1);
    if (!list) return 0;
    int found = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, n, list, NULL) == CL_SUCCESS) {
        list[n] = '\0';
        size_t len = strlen(ext);
        for (const char *p = strstr(list, ext); p && !found; p = strstr(p + 1, ext))
            found = (p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0');
    }
    free(list);
    return found;
}

ts_status ocl_precision_init(ts_backend *be, ts_precision p) {
    if (p == TS_PREC_FP32) return TS_OK;
    ocl_ctx *ctx = ocl_ctx_of(be);
    const char *why;
    if (p != TS_PREC_FP16)
        why = "OpenCL has no tf32 or bf16 arithmetic";
    else if (!device_has(ctx->device, "cl_khr_fp16"))
        why = "the device has no cl_khr_fp16";
    else
        why = "tunescale's OpenCL fp16 GEMM kernel is not written yet";
    return ts_set_error("opencl backend: --precision %s is not supported on this device: %s (%s); "
                        "use --precision fp32 or another backend",
                        ts_precision_name(p), ctx->device_name, why);
}
