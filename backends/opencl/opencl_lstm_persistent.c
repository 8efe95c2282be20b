/*
 * opencl_lstm_persistent.c — the sequence ops (ops.def: lstm_sequence_forward/backward) on
 * OpenCL: one persistent launch per layer and direction (cl/lstm_persistent.cl) where it is
 * safe, else the fused step launches of opencl_lstm.c, one per time step.
 *
 * Safe means (backends/lstm_variant.h): every work-group can be resident at once — no more
 * groups than CL_DEVICE_MAX_COMPUTE_UNITS, the work-group within CL_KERNEL_WORK_GROUP_SIZE, the
 * local memory within CL_DEVICE_LOCAL_MEM_SIZE (W_hh stays in global memory when its slice does
 * not fit) — and a one-time self-test on a small problem with the same number of groups
 * finished with its failure flag clear and matched the step kernels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/lstm_selftest.h"
#include "backends/lstm_variant.h"
#include "backends/opencl/opencl_internal.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct ocl_lstm_persistent {
    cl_program program;
    cl_kernel fwd, bwd;
    cl_mem sync;             /* 3 ints: arrived, generation, failure flag */
    ts_lstm_verdict verdict; /* of the self-test */
};

void ocl_lstm_persistent_release(ocl_ctx *ctx) {
    struct ocl_lstm_persistent *p = ctx->lstm_persistent;
    if (!p) return;
    if (p->fwd) clReleaseKernel(p->fwd);
    if (p->bwd) clReleaseKernel(p->bwd);
    if (p->program) clReleaseProgram(p->program);
    if (p->sync) clReleaseMemObject(p->sync);
    free(p);
    ctx->lstm_persistent = NULL;
}

/* The program, kernels and barrier words, made on first use; NULL (error recorded) on failure. */
static struct ocl_lstm_persistent *state_of(ts_backend *be) {
    ocl_ctx *ctx = ocl_ctx_of(be);
    if (ctx->lstm_persistent) return ctx->lstm_persistent;
    struct ocl_lstm_persistent *p = calloc(1, sizeof *p);
    if (!p) {
        ocl_fail(be, 0, "out of host memory (persistent LSTM kernel)");
        return NULL;
    }
    ctx->lstm_persistent = p;
    cl_int err = CL_SUCCESS;
    if (!(p->program = ocl_build_variant(be, "lstm_persistent", ""))) return NULL;
    p->fwd = clCreateKernel(p->program, "ts_lstm_persistent_forward", &err);
    if (err == CL_SUCCESS) p->bwd = clCreateKernel(p->program, "ts_lstm_persistent_backward", &err);
    if (err == CL_SUCCESS)
        p->sync = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, 4 * sizeof(cl_int), NULL, &err);
    if (err != CL_SUCCESS) {
        ocl_fail_call(be, "clCreateKernel/clCreateBuffer", "lstm_persistent", err);
        return NULL;
    }
    return p;
}

/* The launch shape of one problem. */
typedef struct {
    size_t groups, wg, units; /* units: hidden units per group */
    size_t local_bytes;       /* the dynamic local buffer (W_hh slice, or 4 bytes) */
    int wl_on;                /* W_hh slice in local memory */
} persistent_plan;

/* Plans H hidden units over the device's compute units; 0 with `why` when the groups could not
 * all be resident. TUNESCALE_LSTM_GROUPS=n asks for n groups (tests: few groups, or too many). */
static int plan_for(ts_backend *be, cl_kernel k, int H, persistent_plan *pl, char *why,
                    size_t cap) {
    cl_device_id dev = ocl_ctx_of(be)->device;
    cl_uint cus = 0;
    cl_ulong local_mem = 0, kernel_local = 0;
    size_t kernel_wg = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL) != CL_SUCCESS ||
        clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_mem, &local_mem, NULL) !=
            CL_SUCCESS ||
        clGetKernelWorkGroupInfo(k, dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_wg, &kernel_wg,
                                 NULL) != CL_SUCCESS ||
        clGetKernelWorkGroupInfo(k, dev, CL_KERNEL_LOCAL_MEM_SIZE, sizeof kernel_local,
                                 &kernel_local, NULL) != CL_SUCCESS) {
        snprintf(why, cap, "the device did not report its compute units and local memory");
        return 0;
    }
    size_t groups = cus < (cl_uint)H ? cus : (size_t)H;
    const char *env = getenv("TUNESCALE_LSTM_GROUPS");
    if (env && atoi(env) > 0) groups = (size_t)atoi(env);
    if (groups > cus && !ts_lstm_skip_residency()) {
        snprintf(why, cap, "%zu work-groups cannot all be resident on %u compute units", groups,
                 cus);
        return 0;
    }
    pl->units = ((size_t)H + groups - 1) / groups;
    pl->groups = ((size_t)H + pl->units - 1) / pl->units;
    pl->wg = kernel_wg < 256 ? kernel_wg : 256;
    size_t slice = 4 * pl->units * (size_t)H * sizeof(float);
    const char *w_env = getenv("TUNESCALE_LSTM_W"); /* =global: test the path for large H */
    pl->wl_on = kernel_local + slice + 256 <= local_mem && !(w_env && !strcmp(w_env, "global"));
    pl->local_bytes = pl->wl_on ? slice : sizeof(float);
    if (pl->wg == 0) {
        snprintf(why, cap, "the kernel allows no work-group on this device");
        return 0;
    }
    snprintf(why, cap, "%zu work-groups of %zu items on %u compute units, W_hh %s", pl->groups,
             pl->wg, cus, pl->wl_on ? "in local memory" : "read from global memory");
    return 1;
}

/* Zeroes the barrier words (one fill: a device command like a kernel) and launches k with the
 * views, then the scalars both kernels take after them. */
static void launch(ts_backend *be, struct ocl_lstm_persistent *p, cl_kernel k, const char *name,
                   const persistent_plan *pl, int T, int B, int H, int has_init, int nviews,
                   const ocl_arg *views) {
    if (be->error != TS_OK) return;
    ocl_arg args[32];
    ocl_arg tail[] = {ocl_mem(p->sync),
                      ocl_u32((cl_uint)T),
                      ocl_u32((cl_uint)B),
                      ocl_u32((cl_uint)H),
                      ocl_u32(has_init != 0),
                      ocl_u32((cl_uint)pl->units),
                      ocl_u32((cl_uint)pl->wl_on),
                      ocl_u32(TS_LSTM_SPIN_CAP)};
    int nargs = nviews + NARGS(tail);
    memcpy(args, views, (size_t)nviews * sizeof *args);
    memcpy(args + nviews, tail, sizeof tail);
    cl_int err = ocl_fill_bytes(ocl_ctx_of(be), p->sync, 0, 4 * sizeof(cl_int), 0.0f);
    be->dispatches++;
    if (err == CL_SUCCESS) err = clSetKernelArg(k, (cl_uint)nargs, pl->local_bytes, NULL);
    if (err != CL_SUCCESS) {
        ocl_fail_call(be, "clEnqueueFillBuffer/clSetKernelArg", name, err);
        return;
    }
    size_t global = pl->groups * pl->wg, local = pl->wg;
    ocl_enqueue_kernel(be, k, name, 1, &global, &local, nargs, args);
}

static void persistent_forward(ts_backend *be, struct ocl_lstm_persistent *p,
                               const persistent_plan *pl, ts_tensor h, ts_tensor c, ts_tensor act,
                               ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                               ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init) {
    if (!has_init) h0 = h, c0 = c; /* unread: any real buffer */
    ocl_arg views[] = {OCL_VIEW(h),  OCL_VIEW(c),    OCL_VIEW(act),  OCL_VIEW(pre), OCL_VIEW(h0),
                       OCL_VIEW(c0), OCL_VIEW(w_hh), OCL_VIEW(b_ih), OCL_VIEW(b_hh)};
    launch(be, p, p->fwd, "ts_lstm_persistent_forward", pl, T, B, H, has_init, NARGS(views), views);
}

static void persistent_backward(ts_backend *be, struct ocl_lstm_persistent *p,
                                const persistent_plan *pl, ts_tensor dpre, ts_tensor dc,
                                ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c,
                                ts_tensor c0, int T, int B, int H, int has_init) {
    if (!has_init) c0 = c;
    ocl_arg views[] = {OCL_VIEW(dpre), OCL_VIEW(dc), OCL_VIEW(dh), OCL_VIEW(w_hh),
                       OCL_VIEW(act),  OCL_VIEW(c),  OCL_VIEW(c0)};
    launch(be, p, p->bwd, "ts_lstm_persistent_backward", pl, T, B, H, has_init, NARGS(views),
           views);
}

/* ---- the self-test's view of the kernel (backends/lstm_selftest.h) ----------------------- */

/* The plan for `units` units per group. */
static persistent_plan test_plan(const persistent_plan *real, int units, int H) {
    persistent_plan pl = *real;
    pl.units = (size_t)units;
    pl.local_bytes = pl.wl_on ? 4 * (size_t)units * H * sizeof(float) : sizeof(float);
    return pl;
}

static int read_flag(ts_backend *be, struct ocl_lstm_persistent *p) {
    cl_int flag = 1;
    if (be->error != TS_OK) return 1;
    cl_int err = clEnqueueReadBuffer(ocl_ctx_of(be)->queue, p->sync, CL_TRUE, 2 * sizeof(cl_int),
                                     sizeof(cl_int), &flag, 0, NULL, NULL);
    if (err != CL_SUCCESS) ocl_fail_call(be, "clEnqueueReadBuffer", "lstm_persistent", err);
    return flag != 0;
}

TS_LSTM_SELF_TEST_HOOKS(struct ocl_lstm_persistent)

/* ---- the choice ------------------------------------------------------------------------- */

/* 1 with *pl when the persistent kernel runs this problem; 0 with the reason recorded on be
 * (an error too when TUNESCALE_LSTM_PATH=persistent forced it). */
static int use_persistent(ts_backend *be, int T, int B, int H, persistent_plan *pl,
                          struct ocl_lstm_persistent **out) {
    (void)T; /* the kernel indexes a whole sequence with 64-bit offsets */
    cl_device_type type = 0;
    clGetDeviceInfo(ocl_ctx_of(be)->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (!ts_lstm_persistent_wanted(be, (type & CL_DEVICE_TYPE_CPU) ? TS_LSTM_NOT_ON_CPU : NULL))
        return 0;
    struct ocl_lstm_persistent *p = state_of(be);
    if (!p) return 0;
    char why[200];
    int ok = (size_t)B * 4 * H < UINT32_MAX / 2 && (size_t)4 * H * H < UINT32_MAX / 2;
    if (!ok) snprintf(why, sizeof why, "B=%d H=%d is more than the kernel indexes", B, H);
    ok = ok && plan_for(be, p->fwd, H, pl, why, sizeof why);
    persistent_plan bw;
    ok = ok && plan_for(be, p->bwd, H, &bw, why, sizeof why);
    if (ok && bw.wg < pl->wg) pl->wg = bw.wg; /* one shape for both kernels */
    if (ok) {
        test_ctx t = {p, *pl};
        ts_lstm_persistent_kernel k = {
            &t,      test_forward, test_backward, ocl_lstm_step_forward, ocl_lstm_step_backward,
            ocl_copy};
        if (!ts_lstm_persistent_checked(be, &p->verdict, &k, (int)pl->groups, "opencl"))
            ok = 0, snprintf(why, sizeof why, "%s", p->verdict.why);
    }
    *out = p;
    return ts_lstm_persistent_decide(be, ok, why);
}

TS_LSTM_SEQUENCE_OPS(ocl, struct ocl_lstm_persistent)
