/* lstm_selftest.c — see lstm_selftest.h. */
#include "backends/lstm_selftest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { ST_T = 5, ST_B = 3, ST_UNITS = 2 };

/* The tensors of the test: inputs first, then outputs (each path has its own set). */
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

/* Largest |a - b| / (1 + |b|) over n; +inf where a value is not finite. */
static double worst(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (!isfinite(a[i]) || !isfinite(b[i])) d = INFINITY;
        if (d > m) m = d;
    }
    return m;
}

/* Runs path k (0 persistent, 1 fused steps) on the tensors v; 1 when a barrier timed out. */
static int run_path(ts_backend *be, const ts_lstm_persistent_kernel *k, int path, ts_tensor *v,
                    int T, int B, int H) {
    k->copy(be, v[X_DHOUT], v[X_DH], (size_t)T * B * H);
    if (path == 1) {
        ts_lstm_sequence_forward_steps(be, k->step_forward, v[X_H], v[X_C], v[X_ACT], v[X_PRE],
                                       v[X_H0], v[X_C0], v[X_W], v[X_BI], v[X_BH], T, B, H, 1);
        ts_lstm_sequence_backward_steps(be, k->step_backward, v[X_DPRE], v[X_DC], v[X_DHOUT],
                                        v[X_W], v[X_ACT], v[X_C], v[X_C0], T, B, H, 1);
        return 0;
    }
    int failed = k->forward(be, k->ctx, ST_UNITS, v[X_H], v[X_C], v[X_ACT], v[X_PRE], v[X_H0],
                            v[X_C0], v[X_W], v[X_BI], v[X_BH], T, B, H, 1);
    failed |= k->backward(be, k->ctx, ST_UNITS, v[X_DPRE], v[X_DC], v[X_DHOUT], v[X_W], v[X_ACT],
                          v[X_C], v[X_C0], T, B, H, 1);
    return failed;
}

int ts_lstm_persistent_self_test(ts_backend *be, const ts_lstm_persistent_kernel *k, int groups,
                                 char *why, size_t cap) {
    size_t H = (size_t)groups * ST_UNITS, total = 0, off[X_N];
    for (int i = 0; i < X_N; i++)
        off[i] = total, total += extent(i, ST_T, ST_B, H);
    float *host = malloc(3 * total * sizeof *host); /* inputs, then each path's results */
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
    ts_tensor x[2][X_N];
    int ok = 0, failed = 0;
    for (int p = 0; p < 2; p++) {
        if (be->iface->buffer_alloc(be, total * sizeof(float), &buf[p]) != TS_OK) break;
        for (int i = 0; i < X_N; i++)
            x[p][i] = (ts_tensor){buf[p], off[i]};
        be->iface->upload(be, x[p][0], host, off[X_H] * sizeof(float));
    }
    if (buf[1] && be->error == TS_OK) {
        for (int p = 0; p < 2; p++)
            failed |= run_path(be, k, p, x[p], ST_T, ST_B, (int)H);
        if (be->iface->download(be, host + total, x[0][0], total * sizeof(float)) == TS_OK &&
            be->iface->download(be, host + 2 * total, x[1][0], total * sizeof(float)) == TS_OK) {
            size_t from = off[X_H];
            double d = worst(host + total + from, host + 2 * total + from, total - from);
            if (failed)
                snprintf(why, cap,
                         "self-test: the device-wide barrier timed out (the %d work-groups did "
                         "not all run at once)",
                         groups);
            else if (!(d <= 1e-4))
                snprintf(why, cap, "self-test: results differ from the step kernels by %.3g", d);
            else
                ok = 1;
        }
    }
    if (be->error != TS_OK) snprintf(why, cap, "self-test failed: %.150s", be->error_msg);
    for (int p = 0; p < 2; p++)
        if (buf[p]) be->iface->buffer_free(be, buf[p]);
    free(host);
    return ok;
}

int ts_lstm_persistent_checked(ts_backend *be, ts_lstm_verdict *v,
                               const ts_lstm_persistent_kernel *k, int groups, const char *api) {
    if (v->tested_for == groups) return v->passed;
    v->tested_for = groups;
    v->passed = ts_lstm_persistent_self_test(be, k, groups, v->why, sizeof v->why);
    if (!v->passed)
        fprintf(stderr,
                "tunescale: %s: persistent LSTM kernel refused (%s); running one fused "
                "launch per time step\n",
                api, v->why);
    return v->passed;
}
