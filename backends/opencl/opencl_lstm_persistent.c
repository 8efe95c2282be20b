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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/lstm_sequence.h"
#include "backends/lstm_variant.h"
#include "backends/opencl/opencl_internal.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct ocl_lstm_persistent {
    cl_program program;
    cl_kernel fwd, bwd;
    cl_mem sync;       /* 3 ints: arrived, generation, failure flag */
    size_t tested_for; /* the group count the verdict is for; 0: none yet */
    int passed;
    char why[200]; /* the verdict */
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
    if (groups > cus) {
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

/* Zeroes the barrier words (one fill: a device command like a kernel) and launches k. */
static void launch(ts_backend *be, struct ocl_lstm_persistent *p, cl_kernel k, const char *name,
                   const persistent_plan *pl, int nargs, const ocl_arg *args) {
    if (be->error != TS_OK) return;
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
    ocl_arg args[] = {OCL_VIEW(h),
                      OCL_VIEW(c),
                      OCL_VIEW(act),
                      OCL_VIEW(pre),
                      OCL_VIEW(h0),
                      OCL_VIEW(c0),
                      OCL_VIEW(w_hh),
                      OCL_VIEW(b_ih),
                      OCL_VIEW(b_hh),
                      ocl_mem(p->sync),
                      ocl_u32((cl_uint)T),
                      ocl_u32((cl_uint)B),
                      ocl_u32((cl_uint)H),
                      ocl_u32(has_init != 0),
                      ocl_u32((cl_uint)pl->units),
                      ocl_u32((cl_uint)pl->wl_on),
                      ocl_u32(TS_LSTM_SPIN_CAP)};
    launch(be, p, p->fwd, "ts_lstm_persistent_forward", pl, NARGS(args), args);
}

static void persistent_backward(ts_backend *be, struct ocl_lstm_persistent *p,
                                const persistent_plan *pl, ts_tensor dpre, ts_tensor dc,
                                ts_tensor dh, ts_tensor w_hh, ts_tensor act, ts_tensor c,
                                ts_tensor c0, int T, int B, int H, int has_init) {
    if (!has_init) c0 = c;
    ocl_arg args[] = {OCL_VIEW(dpre),
                      OCL_VIEW(dc),
                      OCL_VIEW(dh),
                      OCL_VIEW(w_hh),
                      OCL_VIEW(act),
                      OCL_VIEW(c),
                      OCL_VIEW(c0),
                      ocl_mem(p->sync),
                      ocl_u32((cl_uint)T),
                      ocl_u32((cl_uint)B),
                      ocl_u32((cl_uint)H),
                      ocl_u32(has_init != 0),
                      ocl_u32((cl_uint)pl->units),
                      ocl_u32((cl_uint)pl->wl_on),
                      ocl_u32(TS_LSTM_SPIN_CAP)};
    launch(be, p, p->bwd, "ts_lstm_persistent_backward", pl, NARGS(args), args);
}

/* ---- the self-test --------------------------------------------------------------------- */

enum { ST_T = 5, ST_B = 3, ST_UNITS = 2 };

/* The self-test's tensors: inputs, then the outputs of both paths. */
enum { X_PRE, X_H0, X_C0, X_W, X_BI, X_BH, X_DH, X_H, X_C, X_ACT, X_DPRE, X_DC, X_DHOUT, X_N };

static size_t extent(int i, size_t T, size_t B, size_t H) {
    size_t BH = B * H;
    switch (i) {
    case X_PRE:
    case X_ACT:
    case X_DPRE:
        return 4 * T * BH;
    case X_H0:
    case X_C0:
    case X_DC:
        return BH;
    case X_W:
        return 4 * H * H;
    case X_BI:
    case X_BH:
        return 4 * H;
    default:
        return T * BH; /* X_DH, X_H, X_C, X_DHOUT */
    }
}

/* Largest |a - b| / (1 + |b|) over n; +inf when a value is not finite. */
static double worst(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (!isfinite(a[i]) || !isfinite(b[i])) d = INFINITY;
        if (d > m) m = d;
    }
    return m;
}

/* Runs both paths, forward (from an initial state) and backward, on a problem with pl->groups
 * groups of ST_UNITS units; 1 when the persistent kernel finished with its flag clear and
 * matched. Waits for the device (once per backend and group count). */
static int self_test(ts_backend *be, struct ocl_lstm_persistent *p, const persistent_plan *real,
                     char *why, size_t cap) {
    size_t H = real->groups * ST_UNITS, T = ST_T, B = ST_B;
    persistent_plan pl = *real;
    pl.units = ST_UNITS;
    pl.local_bytes = pl.wl_on ? 4 * ST_UNITS * H * sizeof(float) : sizeof(float);
    size_t total = 0, off[X_N];
    for (int i = 0; i < X_N; i++)
        off[i] = total, total += extent(i, T, B, H);
    float *host = malloc(3 * total * sizeof *host); /* inputs+persistent, steps, scratch */
    ts_buffer *buf[2] = {NULL, NULL};
    if (!host) {
        snprintf(why, cap, "self-test: out of host memory");
        return 0;
    }
    uint32_t s = 12345u;
    for (size_t i = 0; i < off[X_H]; i++) { /* inputs in [-1, 1) */
        s = s * 1664525u + 1013904223u;
        host[i] = (float)(s >> 8) / (float)(1u << 23) - 1.0f;
    }
    int ok = 0;
    cl_int flag[2] = {1, 1};
    ts_tensor x[2][X_N];
    for (int k = 0; k < 2; k++) {
        if (be->iface->buffer_alloc(be, total * sizeof(float), &buf[k]) != TS_OK) break;
        for (int i = 0; i < X_N; i++)
            x[k][i] = (ts_tensor){buf[k], off[i]};
        be->iface->upload(be, x[k][0], host, off[X_H] * sizeof(float));
    }
    if (buf[1] && be->error == TS_OK) {
        int Ti = (int)T, Bi = (int)B, Hi = (int)H;
        for (int k = 0; k < 2; k++) { /* 0: persistent, 1: the step kernels */
            ts_tensor *v = x[k];
            ocl_copy(be, v[X_DHOUT], v[X_DH], T * B * H);
            if (k == 0) {
                persistent_forward(be, p, &pl, v[X_H], v[X_C], v[X_ACT], v[X_PRE], v[X_H0], v[X_C0],
                                   v[X_W], v[X_BI], v[X_BH], Ti, Bi, Hi, 1);
                clEnqueueReadBuffer(ocl_ctx_of(be)->queue, p->sync, CL_TRUE, 2 * sizeof(cl_int),
                                    sizeof(cl_int), &flag[0], 0, NULL, NULL);
                persistent_backward(be, p, &pl, v[X_DPRE], v[X_DC], v[X_DHOUT], v[X_W], v[X_ACT],
                                    v[X_C], v[X_C0], Ti, Bi, Hi, 1);
                clEnqueueReadBuffer(ocl_ctx_of(be)->queue, p->sync, CL_TRUE, 2 * sizeof(cl_int),
                                    sizeof(cl_int), &flag[1], 0, NULL, NULL);
            } else {
                ts_lstm_sequence_forward_steps(be, ocl_lstm_step_forward, v[X_H], v[X_C], v[X_ACT],
                                               v[X_PRE], v[X_H0], v[X_C0], v[X_W], v[X_BI], v[X_BH],
                                               Ti, Bi, Hi, 1);
                ts_lstm_sequence_backward_steps(be, ocl_lstm_step_backward, v[X_DPRE], v[X_DC],
                                                v[X_DHOUT], v[X_W], v[X_ACT], v[X_C], v[X_C0], Ti,
                                                Bi, Hi, 1);
            }
        }
        if (be->iface->download(be, host + total, x[0][0], total * sizeof(float)) == TS_OK &&
            be->iface->download(be, host + 2 * total, x[1][0], total * sizeof(float)) == TS_OK) {
            size_t from = off[X_H];
            double d = worst(host + total + from, host + 2 * total + from, total - from);
            if (flag[0] || flag[1])
                snprintf(why, cap,
                         "self-test: the device-wide barrier timed out (%zu work-groups did not "
                         "all run at once)",
                         pl.groups);
            else if (!(d <= 1e-4))
                snprintf(why, cap, "self-test: results differ from the step kernels by %.3g", d);
            else
                ok = 1;
        }
    }
    if (be->error != TS_OK) snprintf(why, cap, "self-test failed: %.150s", be->error_msg);
    for (int k = 0; k < 2; k++)
        if (buf[k]) be->iface->buffer_free(be, buf[k]);
    free(host);
    return ok;
}

/* ---- the choice ------------------------------------------------------------------------- */

/* 1 with *pl when the persistent kernel runs this problem; 0 with the reason recorded on be
 * (an error too when TUNESCALE_LSTM_PATH=persistent forced it). */
static int use_persistent(ts_backend *be, int B, int H, persistent_plan *pl,
                          struct ocl_lstm_persistent **out) {
    ts_lstm_path_mode mode = ts_lstm_path_mode_of(be);
    char why[200];
    cl_device_type type = 0;
    clGetDeviceInfo(ocl_ctx_of(be)->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (be->error != TS_OK) return 0;
    if (mode == TS_LSTM_PATH_FUSED_STEP) {
        ts_lstm_path_record(be, 0, "off (TUNESCALE_LSTM_PATH=fused-step)");
        return 0;
    }
    if (mode == TS_LSTM_PATH_AUTO && (type & CL_DEVICE_TYPE_CPU)) {
        ts_lstm_path_record(be, 0,
                            "not by default on a CPU device, whose work-groups are OS "
                            "threads (TUNESCALE_LSTM_PATH=persistent forces it)");
        return 0;
    }
    struct ocl_lstm_persistent *p = state_of(be);
    if (!p) return 0;
    int ok = (size_t)B * 4 * H < UINT32_MAX / 2 && (size_t)4 * H * H < UINT32_MAX / 2;
    if (!ok) snprintf(why, sizeof why, "B=%d H=%d is more than the kernel indexes", B, H);
    ok = ok && plan_for(be, p->fwd, H, pl, why, sizeof why);
    persistent_plan bw;
    ok = ok && plan_for(be, p->bwd, H, &bw, why, sizeof why);
    if (ok && bw.wg < pl->wg) pl->wg = bw.wg; /* one shape for both kernels */
    if (ok && p->tested_for != pl->groups) {
        p->tested_for = pl->groups;
        p->passed = self_test(be, p, pl, p->why, sizeof p->why);
        if (!p->passed)
            fprintf(stderr,
                    "tunescale: opencl: persistent LSTM kernel refused (%s); running one "
                    "fused launch per time step\n",
                    p->why);
    }
    if (ok && !p->passed) ok = 0, snprintf(why, sizeof why, "%s", p->why);
    if (be->error != TS_OK) return 0;
    if (!ok && mode == TS_LSTM_PATH_PERSISTENT) {
        ocl_fail(be, 0, "TUNESCALE_LSTM_PATH=persistent: refused on this device: %s", why);
        return 0;
    }
    ts_lstm_path_record(be, ok, "%s", why);
    *out = p;
    return ok;
}

void ocl_lstm_sequence_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act,
                               ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                               ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init) {
    if (T <= 0 || B <= 0 || H <= 0) return;
    persistent_plan pl;
    struct ocl_lstm_persistent *p = NULL;
    if (use_persistent(be, B, H, &pl, &p))
        persistent_forward(be, p, &pl, h, c, act, pre, h0, c0, w_hh, b_ih, b_hh, T, B, H, has_init);
    else
        ts_lstm_sequence_forward_steps(be, ocl_lstm_step_forward, h, c, act, pre, h0, c0, w_hh,
                                       b_ih, b_hh, T, B, H, has_init);
}

void ocl_lstm_sequence_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc, ts_tensor dh,
                                ts_tensor w_hh, ts_tensor act, ts_tensor c, ts_tensor c0, int T,
                                int B, int H, int has_init) {
    if (T <= 0 || B <= 0 || H <= 0) return;
    persistent_plan pl;
    struct ocl_lstm_persistent *p = NULL;
    if (use_persistent(be, B, H, &pl, &p))
        persistent_backward(be, p, &pl, dpre, dc, dh, w_hh, act, c, c0, T, B, H, has_init);
    else
        ts_lstm_sequence_backward_steps(be, ocl_lstm_step_backward, dpre, dc, dh, w_hh, act, c, c0,
                                        T, B, H, has_init);
}
