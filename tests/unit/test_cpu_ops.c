/*
 * test_cpu_ops.c — unit tests for the CPU reference backend (backends/cpu/).
 *
 * Every op is compared with a naive double-precision reference written here (plain nested
 * loops over the formulas in backend.h) on small random inputs with odd shapes, plus a larger
 * shape that crosses the backend's threshold for running on the OpenMP team. Every backward
 * op is compared with its analytic double reference, and that reference is in turn checked
 * against central finite differences of the double forward reference on tiny shapes. Also:
 * buffers and transfers, memory accounting through the frontend, the sticky error, the
 * dropout mask as a pure Philox function, and bit-for-bit determinism (runs and thread counts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/cpu/cpu_internal.h"
#include "backends/registry.h"
#include "util/philox.h"

#define SQRT1_2      0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

/* ---- fixtures: one backend with a team of 2, buffers and host arrays freed per test ------ */

static ts_backend *be;
static const ts_backend_iface *F;
static ts_rng rng;

static ts_buffer *live_bufs[128];
static int n_live_bufs;
static void *live_host[256];
static int n_live_host;

static int setup(void **state) {
    (void)state;
    ts_backend_options o = {0};
    o.threads = 2;
    if (ts_backend_create("cpu", &o, &be) != TS_OK) return -1;
    F = be->iface;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ts_backend_destroy(be);
    return 0;
}

/* Per test: a fresh input stream, and everything allocated by the helpers is released. */
static int test_setup(void **state) {
    (void)state;
    ts_rng_init(&rng, 1234, 0);
    return 0;
}

static int test_teardown(void **state) {
    (void)state;
    for (int i = 0; i < n_live_bufs; i++)
        ts_buffer_free(be, live_bufs[i]);
    n_live_bufs = 0;
    for (int i = 0; i < n_live_host; i++)
        free(live_host[i]);
    n_live_host = 0;
    return 0;
}

static void *hnew(size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    assert_non_null(p);
    assert_true(n_live_host < 256);
    live_host[n_live_host++] = p;
    return p;
}
static float *fnew(size_t n) {
    return hnew(n * sizeof(float));
}
static double *dnew(size_t n) {
    return hnew(n * sizeof(double));
}
static int32_t *inew(size_t n) {
    return hnew(n * sizeof(int32_t));
}

static ts_tensor dev(size_t n) {
    ts_tensor t = {NULL, 0};
    assert_int_equal(ts_buffer_alloc(be, n * 4, &t.buf), TS_OK);
    assert_true(n_live_bufs < 128);
    live_bufs[n_live_bufs++] = t.buf;
    return t;
}

static void put(ts_tensor t, const void *src, size_t n) {
    assert_int_equal(F->upload(be, t, src, n * 4), TS_OK);
}
static ts_tensor dev_from(const void *src, size_t n) {
    ts_tensor t = dev(n);
    put(t, src, n);
    return t;
}
static void get(void *dst, ts_tensor t, size_t n) {
    assert_int_equal(ts_backend_sync(be), TS_OK);
    assert_int_equal(F->download(be, dst, t, n * 4), TS_OK);
}

static float *frand(size_t n, float lo, float hi) {
    float *x = fnew(n);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * ts_rng_uniform(&rng);
    return x;
}
static double *to_d(const float *x, size_t n) {
    double *d = dnew(n);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* Fails unless |got - want| <= tol * max(|want|, floor) everywhere (floor keeps values near 0
 * from demanding a relative accuracy float cannot give). */
static void check_close(const char *what, const float *got, const double *want, size_t n,
                        double tol, double floor) {
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(fabs(want[i]), floor);
        if (!(e <= tol))
            fail_msg("%s: element %zu is %.9g, want %.9g (rel err %.3g > %.3g)", what, i,
                     (double)got[i], want[i], e, tol);
    }
}
static void check_close_d(const char *what, const double *got, const double *want, size_t n,
                          double tol, double floor) {
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / fmax(fabs(want[i]), floor);
        if (!(e <= tol))
            fail_msg("%s: element %zu is %.12g, want %.12g (rel err %.3g > %.3g)", what, i, got[i],
                     want[i], e, tol);
    }
}

/* Central finite differences of L(in) = sum_j out_j(in) * g_j for a double reference f. */
typedef void (*ref_fn)(const double *in, double *out, const void *ctx);
static void fd_grad(ref_fn f, const void *ctx, const double *in0, size_t nin, const double *g,
                    size_t nout, double *grad) {
    double *in = dnew(nin), *out = dnew(nout);
    memcpy(in, in0, nin * sizeof *in);
    for (size_t i = 0; i < nin; i++) {
        double h = 1e-6 * fmax(1.0, fabs(in0[i]));
        double l[2];
        for (int s = 0; s < 2; s++) {
            in[i] = in0[i] + (s ? -h : h);
            f(in, out, ctx);
            l[s] = 0;
            for (size_t j = 0; j < nout; j++)
                l[s] += out[j] * g[j];
        }
        in[i] = in0[i];
        grad[i] = (l[0] - l[1]) / (2 * h);
    }
}

/* ---- buffers, transfers, accounting, device info ----------------------------------------- */

static void test_buffers(void **state) {
    (void)state;
    ts_buffer *b;
    assert_int_equal(ts_buffer_alloc(be, 13, &b), TS_OK);
    assert_int_equal(F->buffer_size(be, b), 13);
    assert_int_equal((uintptr_t)b->data % 64, 0);
    unsigned char raw[13];
    ts_tensor t = {b, 0};
    assert_int_equal(F->download(be, raw, t, 13), TS_OK);
    for (int i = 0; i < 13; i++)
        assert_int_equal(raw[i], 0); /* zeroed */

    float x[3] = {1.5f, -2.0f, 3.25f}, y[3] = {0};
    ts_tensor t1 = {b, 1};
    assert_int_equal(F->upload(be, t1, x, 8), TS_OK);
    assert_int_equal(F->download(be, y, t1, 8), TS_OK);
    assert_true(y[0] == 1.5f && y[1] == -2.0f);
    /* 4 + 8 bytes fit in 13; 4 + 12 do not; neither does an offset past the end */
    assert_int_equal(F->upload(be, t1, x, 12), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "past the end"));
    ts_tensor far = {b, 5};
    assert_int_equal(F->download(be, y, far, 0), TS_ERR);
    assert_int_equal(be->error, TS_OK); /* a refused transfer is not a stream error */
    ts_buffer_free(be, b);

    ts_buffer *z;
    assert_int_equal(ts_buffer_alloc(be, 0, &z), TS_OK);
    assert_int_equal(F->buffer_size(be, z), 0);
    ts_buffer_free(be, z);
}

static void test_mem_limit(void **state) {
    (void)state;
    ts_backend_options o = {0};
    o.threads = 1;
    o.mem_limit = 1 << 20;
    ts_backend *b;
    assert_int_equal(ts_backend_create("cpu", &o, &b), TS_OK);
    ts_buffer *a = NULL, *c = NULL, *d = NULL;
    assert_int_equal(ts_buffer_alloc(b, 512 << 10, &a), TS_OK);
    assert_int_equal(ts_buffer_alloc(b, 768 << 10, &c), TS_ENOMEM);
    assert_null(c);
    assert_non_null(strstr(ts_last_error(), "out of memory"));
    assert_int_equal(b->bytes_in_use, 512 << 10);
    assert_int_equal(ts_buffer_alloc(b, 100 << 10, &d), TS_OK);
    assert_int_equal(b->bytes_in_use, 612 << 10);
    assert_int_equal(b->peak_bytes, 612 << 10);
    ts_buffer_free(b, a);
    assert_int_equal(b->bytes_in_use, 100 << 10);
    assert_int_equal(ts_buffer_alloc(b, 768 << 10, &c), TS_OK); /* fits once a is gone */
    assert_int_equal(b->peak_bytes, 868 << 10);
    ts_buffer_free(b, c);
    ts_buffer_free(b, d);
    assert_int_equal(b->bytes_in_use, 0);
    assert_int_equal(b->peak_bytes, 868 << 10);
    ts_backend_destroy(b);
}

static void test_device_info(void **state) {
    (void)state;
    ts_device_info di;
    F->device_info(be, &di);
    assert_string_equal(di.backend, "cpu");
    assert_true(strlen(di.name) > 0);
    assert_non_null(strstr(di.api_version, "OpenBLAS"));
    assert_int_equal(di.threads, 2);
    assert_true(di.compute_units >= 1);
    assert_true(di.memory_bytes > 0);
    assert_true(di.peak_gflops >= 0);
    assert_string_equal(F->name, "cpu");
    assert_int_equal(F->api_version, TS_BACKEND_API_VERSION);
}

/* ---- elementwise -------------------------------------------------------------------------- */

static void test_elementwise(void **state) {
    (void)state;
    size_t n = 20001; /* past the parallel threshold, and odd */
    float *a = frand(n, -2, 2), *b = frand(n, -2, 2), *got = fnew(n + 2);
    double *want = dnew(n);
    ts_tensor ta = dev_from(a, n), tb = dev_from(b, n), to = dev(n + 2);

    F->fill(be, ts_view(to, 1), 0.75f, n);
    get(got, to, n + 2);
    assert_true(got[0] == 0.0f && got[n + 1] == 0.0f && got[1] == 0.75f && got[n] == 0.75f);

    F->add(be, ts_view(to, 1), ta, tb, n);
    get(got, ts_view(to, 1), n);
    for (size_t i = 0; i < n; i++)
        want[i] = (double)a[i] + b[i];
    check_close("add", got, want, n, 1e-7, 1e-6);

    F->add(be, ta, ta, tb, n); /* out aliases a */
    get(got, ta, n);
    check_close("add in place", got, want, n, 1e-7, 1e-6);

    F->scale(be, ta, -0.5f, n);
    get(got, ta, n);
    for (size_t i = 0; i < n; i++)
        want[i] *= -0.5;
    check_close("scale", got, want, n, 1e-7, 1e-6);

    F->copy(be, to, tb, n);
    get(got, to, n);
    assert_memory_equal(got, b, n * sizeof *b);
    /* overlapping copy within one buffer behaves like memmove */
    F->copy(be, ts_view(to, 1), to, n);
    get(got, to, n + 1);
    assert_true(got[0] == b[0] && got[1] == b[0] && got[n] == b[n - 1]);
}

static void ref_gelu(const double *in, double *out, const void *ctx) {
    size_t n = *(const size_t *)ctx;
    for (size_t i = 0; i < n; i++)
        out[i] = 0.5 * in[i] * (1 + erf(in[i] * SQRT1_2));
}

static void test_gelu(void **state) {
    (void)state;
    size_t n = 17017;
    float *x = frand(n, -6, 6), *dy = frand(n, -1, 1), *got = fnew(n);
    double *xd = to_d(x, n), *want = dnew(n);
    ts_tensor tx = dev_from(x, n), tdy = dev_from(dy, n), ty = dev(n), tdx = dev(n);
    F->gelu_forward(be, ty, tx, n);
    get(got, ty, n);
    ref_gelu(xd, want, &n);
    /* floor 0.1: for x << 0 the float 1 + erf(x) cancels; the absolute error stays ~1e-7 */
    check_close("gelu_forward", got, want, n, 1e-5, 0.1);

    F->gelu_backward(be, tdx, tx, tdy, n);
    get(got, tdx, n);
    for (size_t i = 0; i < n; i++) {
        double v = xd[i];
        want[i] = dy[i] * (0.5 * (1 + erf(v * SQRT1_2)) + v * exp(-0.5 * v * v) * INV_SQRT_2PI);
    }
    check_close("gelu_backward", got, want, n, 1e-5, 0.1);

    /* the analytic reference is the derivative of the forward reference */
    size_t m = 23;
    double *g = to_d(dy, m), *fd = dnew(m);
    fd_grad(ref_gelu, &m, xd, m, g, m, fd);
    check_close_d("gelu fd", want, fd, m, 1e-6, 1e-3);
}

/* ---- dropout ------------------------------------------------------------------------------ */

/* The spec in backend.h, straight from the block function. */
static int philox_keep(ts_dropout_key k, size_t i, float p) {
    uint32_t ctr[4] = {(uint32_t)(i >> 2), 0, k.step, k.tensor_id};
    uint32_t key[2] = {(uint32_t)k.seed, (uint32_t)(k.seed >> 32)};
    uint32_t w[4];
    ts_philox4x32_10(ctr, key, w);
    float u = (float)(w[i & 3] >> 8) * (1.0f / 16777216.0f);
    return u >= p;
}

static void test_dropout(void **state) {
    (void)state;
    size_t n = 100003;
    float *x = frand(n, 0.5f, 1.5f), *got = fnew(n), *back = fnew(n);
    ts_tensor tx = dev_from(x, n), ty = dev(n), tdx = dev(n);
    ts_dropout_key key = {0x123456789abcdefull, 7, 42, 0, 0, 0};

    F->dropout_forward(be, ty, tx, n, 0.0f, key);
    get(got, ty, n);
    assert_memory_equal(got, x, n * sizeof *x); /* p = 0 is a copy */

    F->dropout_forward(be, ty, tx, n, 0.5f, key);
    get(got, ty, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int keep = philox_keep(key, i, 0.5f);
        if (keep) {
            kept++;
            assert_true(got[i] == x[i] * 2.0f);
        } else {
            assert_true(got[i] == 0.0f);
        }
    }
    double frac = (double)kept / n;
    assert_true(frac > 0.49 && frac < 0.51);

    /* backward applies the same mask and scale to the incoming gradient */
    F->dropout_backward(be, tdx, tx, n, 0.5f, key);
    get(back, tdx, n);
    assert_memory_equal(back, got, n * sizeof *got);

    /* the mask is a function of (seed, step, tensor id, i) only: other keys differ */
    ts_dropout_key other[3] = {key, key, key};
    other[0].seed ^= 1ull << 40; /* the high key word matters */
    other[1].step++;
    other[2].tensor_id++;
    for (int k = 0; k < 3; k++) {
        F->dropout_forward(be, ty, tx, 1001, 0.5f, other[k]);
        float *o = fnew(1001);
        get(o, ty, 1001);
        size_t same = 0;
        for (size_t i = 0; i < 1001; i++) {
            assert_int_equal(o[i] != 0.0f, philox_keep(other[k], i, 0.5f));
            same += (o[i] != 0.0f) == (got[i] != 0.0f);
        }
        assert_true(same < 600);
    }

    /* p = 0.1 with a tail that is not a multiple of 4 (or of the backend's lane groups) */
    size_t m = 37;
    F->dropout_forward(be, ty, tx, m, 0.1f, key);
    get(got, ty, m);
    for (size_t i = 0; i < m; i++)
        assert_true(got[i] == (philox_keep(key, i, 0.1f) ? x[i] * (1.0f / 0.9f) : 0.0f));

    /* p = 1 drops everything */
    F->dropout_forward(be, ty, tx, m, 1.0f, key);
    get(got, ty, m);
    for (size_t i = 0; i < m; i++)
        assert_true(got[i] == 0.0f);
}

/* ---- gemm --------------------------------------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C0 for one product; padding columns keep C0. */
static void ref_gemm(int ta, int tb, int M, int N, int K, double alpha, const float *A, int lda,
                     const float *B, int ldb, double beta, const float *C0, int ldc, double *C) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            if (j >= N) {
                C[i * ldc + j] = C0[i * ldc + j];
                continue;
            }
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                     (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = alpha * s + beta * C0[i * ldc + j];
        }
}

static void test_gemm(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1},    {3, 17, 5},    {17, 3, 1},
                             {33, 65, 70}, {200, 67, 40}, {40, 300, 30}};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int batch = 1; batch <= 3; batch += 2)
                    for (int bz = 0; bz < 2; bz++) {
                        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                        int lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3;
                        long sa = (long)(ta ? K : M) * lda + 5, sb = (long)(tb ? N : K) * ldb + 1;
                        long sc = (long)M * ldc + 7;
                        float alpha = 0.7f, beta = bz ? 0.5f : 0.0f;
                        float *A = frand((size_t)sa * batch, -1, 1);
                        float *B = frand((size_t)sb * batch, -1, 1);
                        float *C = frand((size_t)sc * batch, -1, 1), *got = fnew(sc * batch);
                        double *want = dnew((size_t)sc * batch);
                        for (size_t i = 0; i < (size_t)sc * batch; i++)
                            want[i] = C[i]; /* the gaps between batch entries stay */
                        for (int b = 0; b < batch; b++)
                            ref_gemm(ta, tb, M, N, K, alpha, A + b * sa, lda, B + b * sb, ldb, beta,
                                     C + b * sc, ldc, want + b * sc);
                        ts_tensor tA = dev_from(A, sa * batch), tB = dev_from(B, sb * batch);
                        ts_tensor tC = dev_from(C, sc * batch);
                        F->gemm(be, ta, tb, M, N, K, alpha, tA, lda, sa, tB, ldb, sb, beta, tC, ldc,
                                sc, batch);
                        get(got, tC, sc * batch);
                        char what[96];
                        snprintf(what, sizeof what, "gemm ta=%d tb=%d %dx%dx%d batch %d beta %g",
                                 ta, tb, M, N, K, batch, (double)beta);
                        check_close(what, got, want, sc * batch, 1e-5, 1.0);
                        test_teardown(NULL);
                    }
    /* K = 0: C = beta C */
    float c0[6] = {1, 2, 3, 4, 5, 6}, got[6];
    ts_tensor tC = dev_from(c0, 6), tA = dev(1);
    F->gemm(be, 0, 0, 2, 3, 0, 1.0f, tA, 1, 0, tA, 3, 0, 2.0f, tC, 3, 0, 1);
    get(got, tC, 6);
    for (int i = 0; i < 6; i++)
        assert_true(got[i] == 2 * c0[i]);
}

/* The gradients of C = op(A) op(B) are gemms too; check the four pairings the models use
 * against finite differences of L = sum C * G. */
typedef struct {
    int ta, tb, M, N, K;
} gemm_ctx;

static void ref_gemm_fd(const double *in, double *out, const void *ctx) {
    const gemm_ctx *c = ctx;
    const double *A = in, *B = in + c->M * c->K;
    for (int i = 0; i < c->M; i++)
        for (int j = 0; j < c->N; j++) {
            double s = 0;
            for (int k = 0; k < c->K; k++)
                s += (c->ta ? A[k * c->M + i] : A[i * c->K + k]) *
                     (c->tb ? B[j * c->K + k] : B[k * c->N + j]);
            out[i * c->N + j] = s;
        }
}

static void test_gemm_backward(void **state) {
    (void)state;
    int M = 3, N = 5, K = 4;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            gemm_ctx c = {ta, tb, M, N, K};
            float *in = frand((size_t)M * K + K * N, -1, 1), *G = frand((size_t)M * N, -1, 1);
            ts_tensor tA = dev_from(in, M * K), tB = dev_from(in + M * K, K * N);
            ts_tensor tG = dev_from(G, M * N), tdA = dev(M * K), tdB = dev(K * N);
            /* stored A: M x K (K x M if ta); stored B: K x N (N x K if tb) */
            if (!ta) /* dA = G op(B)^T */
                F->gemm(be, 0, !tb, M, K, N, 1.0f, tG, N, 0, tB, tb ? K : N, 0, 0.0f, tdA, K, 0, 1);
            else /* dA^T: (K x M) = op(B) G^T */
                F->gemm(be, tb, 1, K, M, N, 1.0f, tB, tb ? K : N, 0, tG, N, 0, 0.0f, tdA, M, 0, 1);
            if (!tb) /* dB = op(A)^T G */
                F->gemm(be, !ta, 0, K, N, M, 1.0f, tA, ta ? M : K, 0, tG, N, 0, 0.0f, tdB, N, 0, 1);
            else /* dB^T: (N x K) = G^T op(A) */
                F->gemm(be, 1, ta, N, K, M, 1.0f, tG, N, 0, tA, ta ? M : K, 0, 0.0f, tdB, K, 0, 1);
            float *got = fnew((size_t)M * K + K * N);
            get(got, tdA, M * K);
            get(got + M * K, tdB, K * N);
            double *fd = dnew((size_t)M * K + K * N);
            fd_grad(ref_gemm_fd, &c, to_d(in, M * K + K * N), M * K + K * N, to_d(G, M * N), M * N,
                    fd);
            char what[64];
            snprintf(what, sizeof what, "gemm backward ta=%d tb=%d", ta, tb);
            check_close(what, got, fd, M * K + K * N, 1e-5, 1e-2);
        }
}

/* ---- bias and embeddings ------------------------------------------------------------------ */

static void test_bias(void **state) {
    (void)state;
    const int shapes[][2] = {{1, 1}, {17, 3}, {3, 17}, {300, 70}};
    for (size_t s = 0; s < 4; s++) {
        int R = shapes[s][0], C = shapes[s][1];
        float *out = frand((size_t)R * C, -1, 1), *bias = frand(C, -1, 1);
        float *db0 = frand(C, -1, 1), *got = fnew((size_t)R * C);
        double *want = dnew((size_t)R * C);
        ts_tensor to = dev_from(out, R * C), tb = dev_from(bias, C), tdb = dev_from(db0, C);
        F->bias_add(be, to, tb, R, C);
        get(got, to, R * C);
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++)
                want[r * C + c] = (double)out[r * C + c] + bias[c];
        check_close("bias_add", got, want, R * C, 1e-7, 1e-6);

        F->bias_backward(be, tdb, dev_from(out, R * C), R, C);
        get(got, tdb, C);
        for (int c = 0; c < C; c++) {
            want[c] = db0[c]; /* accumulates */
            for (int r = 0; r < R; r++)
                want[c] += out[r * C + c];
        }
        check_close("bias_backward", got, want, C, 1e-6, 1.0);
    }
}

static void test_embedding(void **state) {
    (void)state;
    const int shapes[][3] = {{7, 5, 17}, {1, 1, 3}, {100, 33, 4000}}; /* rows, C, n */
    for (size_t s = 0; s < 3; s++) {
        int V = shapes[s][0], C = shapes[s][1], n = shapes[s][2];
        float *table = frand((size_t)V * C, -1, 1), *out0 = frand((size_t)n * C, -1, 1);
        int32_t *ids = inew(n);
        for (int i = 0; i < n; i++)
            ids[i] = (int32_t)ts_rng_below(&rng, (uint32_t)V); /* repeats guaranteed */
        ts_tensor tt = dev_from(table, V * C), ti = dev_from(ids, n);
        ts_tensor to = dev_from(out0, n * C);
        float *got = fnew((size_t)n * C);
        double *want = dnew((size_t)n * C > (size_t)V * C ? (size_t)n * C : (size_t)V * C);

        F->embedding_forward(be, to, tt, ti, n, C, V, 1); /* accumulate */
        get(got, to, n * C);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
                want[i * C + c] = (double)out0[i * C + c] + table[ids[i] * C + c];
        check_close("embedding_forward accumulate", got, want, n * C, 1e-7, 1e-6);
        F->embedding_forward(be, to, tt, ti, n, C, V, 0); /* assign */
        get(got, to, n * C);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
                want[i * C + c] = table[ids[i] * C + c];
        check_close("embedding_forward", got, want, n * C, 0, 1);

        /* dtable starts non-zero: the backward accumulates, repeated ids add up */
        F->embedding_backward(be, tt, dev_from(out0, n * C), ti, n, C, V);
        get(got, tt, V * C);
        for (int v = 0; v < V * C; v++)
            want[v] = table[v];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < C; c++)
                want[ids[i] * C + c] += out0[i * C + c];
        check_close("embedding_backward", got, want, V * C, 1e-5, 1.0);
    }
}

/* ---- LayerNorm ---------------------------------------------------------------------------- */

typedef struct {
    int N, C;
    double eps;
} ln_ctx;

/* in = [x (N*C) | w (C) | b (C)] -> out (N*C) */
static void ref_ln(const double *in, double *out, const void *ctx) {
    const ln_ctx *l = ctx;
    const double *w = in + l->N * l->C, *b = w + l->C;
    for (int r = 0; r < l->N; r++) {
        const double *x = in + r * l->C;
        double mu = 0, var = 0;
        for (int c = 0; c < l->C; c++)
            mu += x[c];
        mu /= l->C;
        for (int c = 0; c < l->C; c++)
            var += (x[c] - mu) * (x[c] - mu);
        double rs = 1 / sqrt(var / l->C + l->eps);
        for (int c = 0; c < l->C; c++)
            out[r * l->C + c] = (x[c] - mu) * rs * w[c] + b[c];
    }
}

/* Analytic gradient of sum out * dy into grad = [dx | dw | db] (dw, db without a start). */
static void ref_ln_backward(const double *in, const double *dy, double *grad, const ln_ctx *l) {
    int N = l->N, C = l->C;
    const double *w = in + N * C;
    double *dw = grad + N * C, *db = dw + C;
    memset(dw, 0, 2 * C * sizeof *dw);
    for (int r = 0; r < N; r++) {
        const double *x = in + r * C, *g = dy + r * C;
        double mu = 0, var = 0;
        for (int c = 0; c < C; c++)
            mu += x[c];
        mu /= C;
        for (int c = 0; c < C; c++)
            var += (x[c] - mu) * (x[c] - mu);
        double rs = 1 / sqrt(var / C + l->eps), m1 = 0, m2 = 0;
        for (int c = 0; c < C; c++) {
            double nrm = (x[c] - mu) * rs;
            m1 += g[c] * w[c] / C;
            m2 += g[c] * w[c] * nrm / C;
            dw[c] += g[c] * nrm;
            db[c] += g[c];
        }
        for (int c = 0; c < C; c++)
            grad[r * C + c] = rs * (g[c] * w[c] - m1 - (x[c] - mu) * rs * m2);
    }
}

static void test_layernorm(void **state) {
    (void)state;
    const int shapes[][2] = {{1, 3}, {17, 33}, {3, 1}, {300, 67}};
    for (size_t s = 0; s < 4; s++) {
        int N = shapes[s][0], C = shapes[s][1];
        size_t nc = (size_t)N * C;
        ln_ctx l = {N, C, 1e-5};
        float *x = frand(nc, 2, 4); /* a mean far from 0 */
        float *w = frand(C, 0.5f, 1.5f), *b = frand(C, -1, 1), *dy = frand(nc, -1, 1);
        float *dw0 = frand(C, -1, 1), *db0 = frand(C, -1, 1);
        double *in = dnew(nc + 2 * C), *want = dnew(nc + 2 * C), *grad = dnew(nc + 2 * C);
        for (size_t i = 0; i < nc; i++)
            in[i] = x[i];
        for (int c = 0; c < C; c++)
            in[nc + c] = w[c], in[nc + C + c] = b[c];
        ts_tensor tx = dev_from(x, nc), tw = dev_from(w, C), tb = dev_from(b, C);
        ts_tensor ty = dev(nc), tm = dev(N), tr = dev(N), tdy = dev_from(dy, nc), tdx = dev(nc);
        ts_tensor tdw = dev_from(dw0, C), tdb = dev_from(db0, C);
        float *got = fnew(nc), *mean = fnew(N), *rstd = fnew(N);

        F->layernorm_forward(be, ty, tm, tr, tx, tw, tb, N, C, 1e-5f);
        get(got, ty, nc);
        get(mean, tm, N);
        get(rstd, tr, N);
        ref_ln(in, want, &l);
        check_close("layernorm_forward", got, want, nc, 1e-5, 1.0);
        for (int r = 0; r < N; r++) {
            double mu = 0, var = 0;
            for (int c = 0; c < C; c++)
                mu += x[r * C + c];
            mu /= C;
            for (int c = 0; c < C; c++)
                var += (x[r * C + c] - mu) * (x[r * C + c] - mu);
            double rs = 1 / sqrt(var / C + 1e-5);
            assert_true(fabs(mean[r] - mu) <= 1e-6 * fabs(mu));
            assert_true(fabs(rstd[r] - rs) <= 1e-6 * rs);
        }

        F->layernorm_backward(be, tdx, tdw, tdb, tdy, tx, tw, tm, tr, N, C);
        double *dyd = to_d(dy, nc);
        ref_ln_backward(in, dyd, grad, &l);
        get(got, tdx, nc);
        check_close("layernorm_backward dinp", got, grad, nc, 1e-4, 1.0);
        for (int c = 0; c < C; c++)
            grad[nc + c] += dw0[c], grad[nc + C + c] += db0[c];
        get(got, tdw, C);
        check_close("layernorm_backward dweight", got, grad + nc, C, 1e-5, 1.0);
        get(got, tdb, C);
        check_close("layernorm_backward dbias", got, grad + nc + C, C, 1e-5, 1.0);
        test_teardown(NULL);
    }
    /* the analytic reference against finite differences, tiny shape */
    ln_ctx l = {3, 5, 1e-5};
    size_t nin = 3 * 5 + 10;
    double *in = dnew(nin), *dy = dnew(15), *grad = dnew(nin), *fd = dnew(nin);
    for (size_t i = 0; i < nin; i++)
        in[i] = ts_rng_uniform(&rng) * 2 - 1 + (i < 15 ? 1.0 : 0.5);
    for (int i = 0; i < 15; i++)
        dy[i] = ts_rng_uniform(&rng) * 2 - 1;
    ref_ln_backward(in, dy, grad, &l);
    fd_grad(ref_ln, &l, in, nin, dy, 15, fd);
    check_close_d("layernorm fd", grad, fd, nin, 1e-6, 1e-3);
}

/* ---- attention ---------------------------------------------------------------------------- */

static void test_qkv_heads(void **state) {
    (void)state;
    const int shapes[][4] = {{1, 1, 1, 1}, {2, 3, 3, 5}, {3, 17, 2, 4}, {4, 64, 4, 16}};
    for (size_t s = 0; s < 4; s++) {
        int B = shapes[s][0], T = shapes[s][1], NH = shapes[s][2], HS = shapes[s][3];
        int C = NH * HS;
        size_t n = (size_t)B * T * C;
        float *qkv = frand(3 * n, -1, 1);
        float *q = fnew(n), *k = fnew(n), *v = fnew(n), *back = fnew(3 * n), *m = fnew(n);
        ts_tensor tqkv = dev_from(qkv, 3 * n), tq = dev(n), tk = dev(n), tv = dev(n);
        F->qkv_split_forward(be, tq, tk, tv, tqkv, B, T, NH, HS);
        get(q, tq, n);
        get(k, tk, n);
        get(v, tv, n);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    for (int d = 0; d < HS; d++) {
                        size_t hi = (((size_t)b * NH + h) * T + t) * HS + d;
                        size_t pi = ((size_t)b * T + t) * 3 * C + (size_t)h * HS + d;
                        assert_true(q[hi] == qkv[pi]);
                        assert_true(k[hi] == qkv[pi + C]);
                        assert_true(v[hi] == qkv[pi + 2 * C]);
                    }
        /* the backward is the inverse permutation: split then unsplit is the identity */
        ts_tensor tback = dev(3 * n);
        F->qkv_split_backward(be, tback, tq, tk, tv, B, T, NH, HS);
        get(back, tback, 3 * n);
        assert_memory_equal(back, qkv, 3 * n * sizeof *qkv);

        /* merge: out[b, t, h*HS + d] = inp[b, h, t, d]; its backward undoes it */
        ts_tensor tm = dev(n), tq2 = dev(n);
        F->heads_merge_forward(be, tm, tq, B, T, NH, HS);
        get(m, tm, n);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < NH; h++)
                    for (int d = 0; d < HS; d++)
                        assert_true(m[((size_t)b * T + t) * C + h * HS + d] ==
                                    q[(((size_t)b * NH + h) * T + t) * HS + d]);
        /* q's merge is the q chunk of qkv with the k and v chunks removed */
        for (size_t bt = 0; bt < (size_t)B * T; bt++)
            assert_memory_equal(m + bt * C, qkv + bt * 3 * C, C * sizeof *m);
        F->heads_merge_backward(be, tq2, tm, B, T, NH, HS);
        get(back, tq2, n);
        assert_memory_equal(back, q, n * sizeof *q);
        test_teardown(NULL);
    }
}

typedef struct {
    int BH, T;
    double scale;
} sm_ctx;

static void ref_softmax(const double *in, double *out, const void *ctx) {
    const sm_ctx *c = ctx;
    for (int r = 0; r < c->BH * c->T; r++) {
        int t = r % c->T;
        const double *x = in + (size_t)r * c->T;
        double *y = out + (size_t)r * c->T, mx = -INFINITY, sum = 0;
        for (int s = 0; s <= t; s++)
            mx = fmax(mx, c->scale * x[s]);
        for (int s = 0; s <= t; s++)
            sum += exp(c->scale * x[s] - mx);
        for (int s = 0; s < c->T; s++)
            y[s] = s <= t ? exp(c->scale * x[s] - mx) / sum : 0.0;
    }
}

static void ref_softmax_backward(const double *att, const double *datt, double *dpre,
                                 const sm_ctx *c) {
    for (int r = 0; r < c->BH * c->T; r++) {
        int t = r % c->T;
        const double *y = att + (size_t)r * c->T, *dy = datt + (size_t)r * c->T;
        double dot = 0;
        for (int s = 0; s <= t; s++)
            dot += dy[s] * y[s];
        for (int s = 0; s < c->T; s++)
            dpre[(size_t)r * c->T + s] = s <= t ? c->scale * y[s] * (dy[s] - dot) : 0.0;
    }
}

static void test_softmax_causal(void **state) {
    (void)state;
    const int shapes[][2] = {{1, 1}, {3, 17}, {2, 3}, {9, 67}};
    for (size_t s = 0; s < 4; s++) {
        sm_ctx c = {shapes[s][0], shapes[s][1], 0.35};
        size_t n = (size_t)c.BH * c.T * c.T;
        float *pre = frand(n, -4, 4), *datt = frand(n, -1, 1), *got = fnew(n);
        double *want = dnew(n), *dwant = dnew(n);
        ts_tensor tp = dev_from(pre, n), ta = dev(n), tda = dev_from(datt, n);
        ts_tensor tdp = dev_from(pre, n); /* stale values above the diagonal must be zeroed */
        F->softmax_causal_forward(be, ta, tp, c.BH, c.T, 0.35f);
        get(got, ta, n);
        ref_softmax(to_d(pre, n), want, &c);
        check_close("softmax_causal_forward", got, want, n, 1e-5, 1e-3);
        for (size_t r = 0; r < (size_t)c.BH * c.T; r++) {
            double sum = 0;
            for (int k = 0; k < c.T; k++) {
                sum += got[r * c.T + k];
                if (k > (int)(r % c.T)) assert_true(got[r * c.T + k] == 0.0f);
            }
            assert_true(fabs(sum - 1) < 1e-5);
        }
        F->softmax_causal_backward(be, tdp, tda, ta, c.BH, c.T, 0.35f);
        double *attd = to_d(got, n);
        get(got, tdp, n);
        ref_softmax_backward(attd, to_d(datt, n), dwant, &c);
        check_close("softmax_causal_backward", got, dwant, n, 1e-5, 1e-2);
        for (size_t r = 0; r < (size_t)c.BH * c.T; r++)
            for (int k = (int)(r % c.T) + 1; k < c.T; k++)
                assert_true(got[r * c.T + k] == 0.0f);
    }
    /* the analytic reference against finite differences */
    sm_ctx c = {2, 4, 0.35};
    size_t n = 32;
    double *pre = dnew(n), *att = dnew(n), *g = dnew(n), *grad = dnew(n), *fd = dnew(n);
    for (size_t i = 0; i < n; i++)
        pre[i] = ts_rng_uniform(&rng) * 6 - 3, g[i] = ts_rng_uniform(&rng) * 2 - 1;
    ref_softmax(pre, att, &c);
    ref_softmax_backward(att, g, grad, &c);
    fd_grad(ref_softmax, &c, pre, n, g, n, fd);
    check_close_d("softmax fd", grad, fd, n, 1e-6, 1e-3);
}

/* ---- LSTM --------------------------------------------------------------------------------- */

typedef struct {
    int B, H;
} lstm_ctx;

static double sigm(double x) {
    return 1 / (1 + exp(-x));
}

/* in = [pre (B*4H) | c_prev (B*H)] -> out = [h (B*H) | c (B*H)], compact rows */
static void ref_lstm(const double *in, double *out, const void *ctx) {
    const lstm_ctx *l = ctx;
    int B = l->B, H = l->H;
    const double *cp = in + B * 4 * H;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
            const double *p = in + b * 4 * H;
            double i = sigm(p[j]), f = sigm(p[H + j]), g = tanh(p[2 * H + j]);
            double o = sigm(p[3 * H + j]);
            double c = f * cp[b * H + j] + i * g;
            out[b * H + j] = o * tanh(c);
            out[B * H + b * H + j] = c;
        }
}

static void test_lstm_cell(void **state) {
    (void)state;
    const int shapes[][3] = {{3, 5, 7}, {1, 1, 1}, {2, 17, 17}, {16, 1100, 1100}}; /* B H ld */
    for (size_t s = 0; s < 4; s++) {
        int B = shapes[s][0], H = shapes[s][1], ld = shapes[s][2];
        lstm_ctx l = {B, H};
        size_t g4 = (size_t)B * 4 * H, st = (size_t)B * ld, bh = (size_t)B * H;
        float *pre = frand(g4, -2, 2), *cprev = frand(st, -1, 1), *dh = frand(st, -1, 1);
        float *dc = frand(st, -1, 1), *junk = frand(st, 5, 6);
        ts_tensor tpre = dev_from(pre, g4), tcp = dev_from(cprev, st), tact = dev(g4);
        ts_tensor th = dev_from(junk, st), tc = dev_from(junk, st), tdpre = dev(g4);
        ts_tensor tdh = dev_from(dh, st), tdc = dev_from(dc, st), tdcp = dev_from(junk, st);
        F->lstm_cell_forward(be, th, tc, tact, tpre, tcp, B, H, ld);

        /* compact double copies of the strided rows */
        double *in = dnew(g4 + bh), *out = dnew(2 * bh), *g = dnew(2 * bh);
        for (size_t i = 0; i < g4; i++)
            in[i] = pre[i];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < H; j++) {
                in[g4 + b * H + j] = cprev[b * ld + j];
                g[b * H + j] = dh[b * ld + j];
                g[bh + b * H + j] = dc[b * ld + j];
            }
        ref_lstm(in, out, &l);
        float *h = fnew(st), *c = fnew(st), *act = fnew(g4), *gotc = fnew(bh), *goth = fnew(bh);
        get(h, th, st);
        get(c, tc, st);
        get(act, tact, g4);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < ld; j++) {
                if (j >= H) { /* the gaps between strided rows are left alone */
                    assert_true(h[b * ld + j] == junk[b * ld + j]);
                    assert_true(c[b * ld + j] == junk[b * ld + j]);
                    continue;
                }
                goth[b * H + j] = h[b * ld + j];
                gotc[b * H + j] = c[b * ld + j];
            }
        check_close("lstm h", goth, out, bh, 1e-5, 1e-2);
        check_close("lstm c", gotc, out + bh, bh, 1e-5, 1e-2);
        double *wact = dnew(g4);
        for (size_t i = 0; i < g4; i++)
            wact[i] = (i % (4 * H)) / H == 2 ? tanh(pre[i]) : sigm(pre[i]);
        check_close("lstm act", act, wact, g4, 1e-6, 1e-2);

        F->lstm_cell_backward(be, tdpre, tdcp, tdh, tdc, tact, tc, tcp, B, H, ld);
        float *dpre = fnew(g4), *dcp = fnew(st), *got = fnew(g4 + bh);
        get(dpre, tdpre, g4);
        get(dcp, tdcp, st);
        memcpy(got, dpre, g4 * sizeof *got);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < ld; j++) {
                if (j >= H)
                    assert_true(dcp[b * ld + j] == junk[b * ld + j]);
                else
                    got[g4 + b * H + j] = dcp[b * ld + j];
            }
        if (g4 + bh <= 200) { /* finite differences through all four gates and c_prev */
            double *fd = dnew(g4 + bh);
            fd_grad(ref_lstm, &l, in, g4 + bh, g, 2 * bh, fd);
            check_close("lstm backward", got, fd, g4 + bh, 1e-5, 1e-2);
        }

        /* dc_prev may overwrite dc in place: same numbers */
        F->lstm_cell_backward(be, tdpre, tdc, tdh, tdc, tact, tc, tcp, B, H, ld);
        float *inplace = fnew(st);
        get(inplace, tdc, st);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < H; j++)
                assert_true(inplace[b * ld + j] == dcp[b * ld + j]);
        test_teardown(NULL);
    }
}

/* ---- cross-entropy ------------------------------------------------------------------------ */

typedef struct {
    int N, V;
    const int32_t *tg;
    double scale;
} ce_ctx;

/* sum over kept rows of scale * loss (out has one element) */
static void ref_ce_total(const double *in, double *out, const void *ctx) {
    const ce_ctx *c = ctx;
    double total = 0;
    for (int r = 0; r < c->N; r++) {
        if (c->tg[r] < 0) continue;
        const double *x = in + (size_t)r * c->V;
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < c->V; j++)
            mx = fmax(mx, x[j]);
        for (int j = 0; j < c->V; j++)
            s += exp(x[j] - mx);
        total += c->scale * (log(s) + mx - x[c->tg[r]]);
    }
    out[0] = total;
}

static void test_crossentropy(void **state) {
    (void)state;
    const int shapes[][2] = {{17, 33}, {1, 1}, {3, 2}, {600, 37}};
    for (size_t s = 0; s < 4; s++) {
        int N = shapes[s][0], V = shapes[s][1];
        size_t nv = (size_t)N * V;
        float *logits = frand(nv, -6, 6);
        int32_t *tg = inew(N);
        for (int r = 0; r < N; r++)
            tg[r] = (r % 7 == 3) ? -100 : (int32_t)ts_rng_below(&rng, (uint32_t)V);
        ts_tensor tx = dev_from(logits, nv), tt = dev_from(tg, N), tl = dev(N), tp = dev(nv);
        ts_tensor td = dev_from(logits, nv);
        F->crossentropy_forward(be, tl, tp, tx, tt, N, V, -100);
        float *loss = fnew(N), *probs = fnew(nv), *dl = fnew(nv);
        get(loss, tl, N);
        get(probs, tp, nv);
        double *wl = dnew(N), *wp = dnew(nv), *wd = dnew(nv);
        double scale = 1.0 / 13;
        for (int r = 0; r < N; r++) {
            const float *x = logits + (size_t)r * V;
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < V; j++)
                mx = fmax(mx, x[j]);
            for (int j = 0; j < V; j++)
                sum += exp(x[j] - mx);
            for (int j = 0; j < V; j++) {
                wp[(size_t)r * V + j] = exp(x[j] - mx) / sum;
                wd[(size_t)r * V + j] =
                    tg[r] < 0 ? 0.0 : scale * (wp[(size_t)r * V + j] - (j == tg[r]));
            }
            wl[r] = tg[r] < 0 ? 0.0 : log(sum) + mx - x[tg[r]];
        }
        check_close("crossentropy loss", loss, wl, N, 1e-5, 1e-3);
        for (int r = 0; r < N; r++)
            if (tg[r] < 0) assert_true(loss[r] == 0.0f);
        check_close("crossentropy probs", probs, wp, nv, 1e-5, 1e-4);

        F->crossentropy_backward(be, td, tp, tt, N, V, -100, (float)scale);
        get(dl, td, nv);
        check_close("crossentropy_backward", dl, wd, nv, 1e-5, 1e-3);
        for (int r = 0; r < N; r++)
            for (int j = 0; j < V && tg[r] < 0; j++)
                assert_true(dl[(size_t)r * V + j] == 0.0f);

        if (nv <= 600) { /* the analytic gradient is the derivative of scale * sum loss */
            ce_ctx c = {N, V, tg, scale};
            double one = 1, *fd = dnew(nv);
            fd_grad(ref_ce_total, &c, to_d(logits, nv), nv, &one, 1, fd);
            check_close_d("crossentropy fd", wd, fd, nv, 1e-6, 1e-3);
        }
        test_teardown(NULL);
    }
}

/* ---- reductions and AdamW ----------------------------------------------------------------- */

static void test_sums(void **state) {
    (void)state;
    size_t n = 100003;
    float *x = frand(n, -1, 3);
    ts_tensor tx = dev_from(x, n), to = dev(1);
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i], q += (double)x[i] * x[i];
    float got[3];
    F->sum(be, to, tx, n);
    get(got, to, 1);
    assert_true(fabs(got[0] - s) <= 1e-7 * fabs(s));
    F->sum_squares(be, to, tx, n);
    get(got + 1, to, 1);
    assert_true(fabs(got[1] - q) <= 1e-7 * q);
    F->sum(be, to, tx, 0);
    get(got + 2, to, 1);
    assert_true(got[2] == 0.0f);

    /* the same bits from teams of 1 and 3 */
    for (int threads = 1; threads <= 3; threads += 2) {
        ts_backend_options o = {0};
        o.threads = threads;
        ts_backend *b;
        assert_int_equal(ts_backend_create("cpu", &o, &b), TS_OK);
        ts_buffer *bx, *bo;
        assert_int_equal(ts_buffer_alloc(b, n * 4, &bx), TS_OK);
        assert_int_equal(ts_buffer_alloc(b, 4, &bo), TS_OK);
        ts_tensor ux = {bx, 0}, uo = {bo, 0};
        assert_int_equal(b->iface->upload(b, ux, x, n * 4), TS_OK);
        float other[2];
        b->iface->sum(b, uo, ux, n);
        assert_int_equal(b->iface->download(b, other, uo, 4), TS_OK);
        b->iface->sum_squares(b, uo, ux, n);
        assert_int_equal(b->iface->download(b, other + 1, uo, 4), TS_OK);
        assert_memory_equal(other, got, sizeof other);
        ts_buffer_free(b, bx);
        ts_buffer_free(b, bo);
        ts_backend_destroy(b);
    }
}

static void test_adamw(void **state) {
    (void)state;
    size_t n = 37;
    /* The op takes float hyperparameters, so the reference uses those exact values: 1 - 0.999f
     * is 1.3e-5 away from 1 - 0.999 in relative terms, more than the tolerance. */
    const double lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f, gs = 0.5f;
    float *p = frand(n, -1, 1);
    double *wp = to_d(p, n), *wm = dnew(n), *wv = dnew(n);
    ts_tensor tp = dev_from(p, n), tm = dev(n), tv = dev(n), tg = dev(n);
    ts_tensor gate = dev_from((float[]){(float)gs, 0.0f}, 2);
    for (int t = 1; t <= 3; t++) {
        float *g = frand(n, -2, 2);
        put(tg, g, n);
        F->adamw(be, tp, tg, tm, tv, gate, n, lr, b1, b2, eps, wd, t);
        for (size_t i = 0; i < n; i++) { /* torch.optim.AdamW, by hand, in double */
            double gi = gs * g[i];
            wp[i] *= 1 - lr * wd;
            wm[i] = b1 * wm[i] + (1 - b1) * gi;
            wv[i] = b2 * wv[i] + (1 - b2) * gi * gi;
            double mhat = wm[i] / (1 - pow(b1, t)), vhat = wv[i] / (1 - pow(b2, t));
            wp[i] -= lr * mhat / (sqrt(vhat) + eps);
        }
    }
    float *got = fnew(n);
    get(got, tp, n);
    check_close("adamw param", got, wp, n, 1e-5, 1e-2);
    get(got, tm, n);
    check_close("adamw m", got, wm, n, 1e-5, 1e-3);
    get(got, tv, n);
    check_close("adamw v", got, wv, n, 1e-5, 1e-4);
    get(got, tg, n); /* the next step's zero-grad is folded in */
    for (size_t i = 0; i < n; i++)
        assert_true(got[i] == 0.0f);
}

/* The gate: the norm, the clip coefficient (in double, as the host formed it) and the skip
 * flag; a skipped AdamW leaves parameters and moments alone but still zeroes the gradient. */
static void test_grad_gate(void **state) {
    (void)state;
    ts_tensor sums = dev_from((float[]){3.5f, 16.0f}, 2), gate = dev(2), norm = dev(1);
    float got[2];
    F->grad_gate(be, gate, norm, sums, 1.0);
    get(got, norm, 1);
    assert_true(got[0] == 4.0f);
    get(got, gate, 2);
    assert_true(got[0] == (float)(1.0 / (4.0 + 1e-6)) && got[1] == 0.0f);
    F->grad_gate(be, gate, norm, sums, 10.0); /* below the clip: no scaling */
    get(got, gate, 2);
    assert_true(got[0] == 1.0f && got[1] == 0.0f);
    put(sums, (float[]){NAN, 1.0f}, 2); /* a non-finite loss */
    F->grad_gate(be, gate, norm, sums, 1.0);
    get(got, gate, 2);
    assert_true(got[1] == 1.0f);
    put(sums, (float[]){1.0f, INFINITY}, 2); /* a non-finite gradient */
    F->grad_gate(be, gate, norm, sums, 1.0);
    get(got, gate, 2);
    assert_true(got[1] == 1.0f);
    float p[3] = {1, 2, 3}, g[3] = {NAN, 1, 2};
    ts_tensor tp = dev_from(p, 3), tg = dev_from(g, 3), tm = dev(3), tv = dev(3);
    F->adamw(be, tp, tg, tm, tv, gate, 3, 1e-2, 0.9, 0.999, 1e-8, 0.1, 1);
    float out[3];
    get(out, tp, 3);
    assert_memory_equal(out, p, sizeof p);
    get(out, tm, 3);
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 0);
    get(out, tg, 3);
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 0);
}

/* ---- errors and determinism --------------------------------------------------------------- */

static void test_sticky_error(void **state) {
    (void)state;
    ts_backend_options o = {0};
    o.threads = 1;
    ts_backend *b;
    assert_int_equal(ts_backend_create("cpu", &o, &b), TS_OK);
    ts_buffer *tbl, *ids, *out;
    assert_int_equal(ts_buffer_alloc(b, 4 * 3 * 2, &tbl), TS_OK); /* 3 rows of C = 2 */
    assert_int_equal(ts_buffer_alloc(b, 4 * 2, &ids), TS_OK);
    assert_int_equal(ts_buffer_alloc(b, 4 * 4, &out), TS_OK);
    int32_t bad[2] = {1, 3};
    ts_tensor ti = {ids, 0}, tt = {tbl, 0}, to = {out, 0};
    assert_int_equal(b->iface->upload(b, ti, bad, 8), TS_OK);
    b->iface->embedding_forward(b, to, tt, ti, 2, 2, 3, 0);
    assert_int_equal(ts_backend_sync(b), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "id 3"));
    /* later ops are skipped and later calls report the first error again */
    b->iface->fill(b, to, 1.0f, 4);
    assert_true(out->data[0] == 0.0f);
    b->iface->fill(b, ts_view(to, 3), 1.0f, 2); /* out of bounds, but the first error stays */
    float tmp[4];
    ts_clear_error();
    assert_int_equal(b->iface->download(b, tmp, to, 16), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "id 3"));
    ts_buffer_free(b, tbl);
    ts_buffer_free(b, ids);
    ts_buffer_free(b, out);
    ts_backend_destroy(b);

    /* a view past its buffer, a bad target (forward and backward), a bad gemm: each is a clear
     * error */
    struct {
        int which;
        const char *msg;
    } cases[] = {{0, "fill: tensor 'x' reads elements [3, 5)"},
                 {1, "target 7 at row 0"},
                 {2, "leading dimension"},
                 {3, "layernorm_forward: negative N (-1)"},
                 {4, "lstm_cell_forward: tensor 'h' reads elements [0, 5)"},
                 {5, "gemm: tensor 'C' has no buffer"},
                 {6, "crossentropy_backward: target 7 at row 0"}};
    for (int k = 0; k < 7; k++) {
        assert_int_equal(ts_backend_create("cpu", &o, &b), TS_OK);
        ts_buffer *buf;
        assert_int_equal(ts_buffer_alloc(b, 16, &buf), TS_OK);
        ts_tensor t = {buf, 0};
        if (cases[k].which == 0) b->iface->fill(b, ts_view(t, 3), 1.0f, 2);
        if (cases[k].which == 1 || cases[k].which == 6) {
            int32_t tg = 7;
            assert_int_equal(b->iface->upload(b, ts_view(t, 3), &tg, 4), TS_OK);
            if (cases[k].which == 1)
                b->iface->crossentropy_forward(b, t, t, t, ts_view(t, 3), 1, 2, -100);
            else
                b->iface->crossentropy_backward(b, t, t, ts_view(t, 3), 1, 2, -100, 1.0f);
        }
        if (cases[k].which == 2)
            b->iface->gemm(b, 0, 0, 2, 2, 2, 1, t, 1, 0, t, 2, 0, 0, t, 2, 0, 1);
        if (cases[k].which == 3) b->iface->layernorm_forward(b, t, t, t, t, t, t, -1, 2, 1e-5f);
        if (cases[k].which == 4) /* (B, H) = (2, 1) with row stride 4: 5 elements of 4 */
            b->iface->lstm_cell_forward(b, t, t, t, t, t, 2, 1, 4);
        if (cases[k].which == 5)
            b->iface->gemm(b, 0, 0, 1, 1, 1, 1, t, 1, 0, t, 1, 0, 0, (ts_tensor){0}, 1, 0, 1);
        assert_int_equal(ts_backend_sync(b), TS_ERR);
        if (!strstr(ts_last_error(), cases[k].msg))
            fail_msg("error '%s' lacks '%s'", ts_last_error(), cases[k].msg);
        ts_buffer_free(b, buf);
        ts_backend_destroy(b);
    }
}

/* The registry names each backend once: it is found by name, listed in the usage text, and
 * ts_backend_create either opens it, says it was not built, or says why its device is missing;
 * an unknown name is a usage error that lists the known ones. */
static void test_registry(void **state) {
    (void)state;
    assert_true(ts_backend_registry_count >= 3);
    assert_string_equal(ts_backend_registry[0].name, "cpu");
    assert_string_equal(ts_backend_names(), "cpu, opencl or vulkan");
    for (int i = 0; i < ts_backend_registry_count; i++) {
        const ts_backend_entry *e = &ts_backend_registry[i];
        assert_ptr_equal(ts_backend_find(e->name), e);
        assert_true(e->built ? e->create != NULL : e->create == NULL && e->not_built != NULL);
        cJSON *info = e->info_json();
        assert_non_null(info);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "built")) == !!e->built);
        cJSON_Delete(info);
        ts_backend *b = NULL;
        ts_backend_options o = {0};
        o.threads = 1;
        ts_status st = ts_backend_create(e->name, &o, &b);
        if (!e->built) {
            assert_int_equal(st, TS_EUSAGE);
            assert_non_null(strstr(ts_last_error(), "was not built"));
        }
        if (st == TS_OK) {
            assert_string_equal(b->iface->name, e->name);
            ts_backend_destroy(b);
        }
    }
    assert_null(ts_backend_find("cuda"));
    ts_backend *b = NULL;
    assert_int_equal(ts_backend_create("cuda", NULL, &b), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "unknown backend 'cuda' (cpu, opencl or vulkan)"));
}

/* A training-like sequence of ops on inputs big enough for the parallel paths; returns all
 * results concatenated. */
static float *run_sequence(size_t *count) {
    int N = 256, C = 96, V = 65, NH = 4, T = 64, B = N / T, HS = C / NH;
    ts_rng_init(&rng, 99, 1);
    float *x = frand((size_t)N * C, -1, 1), *w = frand((size_t)C * C * 3, -0.2f, 0.2f);
    float *wv = frand((size_t)V * C, -0.2f, 0.2f);
    int32_t *tg = inew(N);
    for (int i = 0; i < N; i++)
        tg[i] = (int32_t)ts_rng_below(&rng, (uint32_t)V);
    ts_tensor tx = dev_from(x, N * C), tw = dev_from(w, C * C * 3), twv = dev_from(wv, V * C);
    ts_tensor ln_w = dev(C), ln_b = dev(C), mean = dev(N), rstd = dev(N), h = dev(N * C);
    ts_tensor qkv = dev(3 * N * C), q = dev(N * C), k = dev(N * C), v = dev(N * C);
    ts_tensor att = dev(B * NH * T * T), y = dev(N * C), logits = dev(N * V);
    ts_tensor probs = dev(N * V), losses = dev(N), tt = dev_from(tg, N), tot = dev(2);
    ts_tensor dl = dev(N * V), dy = dev(N * C), dwv = dev(V * C), dx = dev(N * C);
    ts_tensor dlnw = dev(C), dlnb = dev(C), dtab = dev(V * C), m = dev(V * C), vv = dev(V * C);
    F->fill(be, ln_w, 1.0f, C);
    F->layernorm_forward(be, h, mean, rstd, tx, ln_w, ln_b, N, C, 1e-5f);
    F->gemm(be, 0, 1, N, 3 * C, C, 1.0f, h, C, 0, tw, C, 0, 0.0f, qkv, 3 * C, 0, 1);
    F->qkv_split_forward(be, q, k, v, qkv, B, T, NH, HS);
    F->gemm(be, 0, 1, T, T, HS, 1.0f, q, HS, T * HS, k, HS, T * HS, 0.0f, att, T, T * T, B * NH);
    F->softmax_causal_forward(be, att, att, B * NH, T, 1.0f / sqrtf((float)HS));
    ts_dropout_key key = {5, 1, 3, 0, 0, 0};
    F->dropout_forward(be, att, att, (size_t)B * NH * T * T, 0.1f, key);
    F->gemm(be, 0, 0, T, HS, T, 1.0f, att, T, T * T, v, HS, T * HS, 0.0f, q, HS, T * HS, B * NH);
    F->heads_merge_forward(be, y, q, B, T, NH, HS);
    F->gelu_forward(be, y, y, (size_t)N * C);
    F->gemm(be, 0, 1, N, V, C, 1.0f, y, C, 0, twv, C, 0, 0.0f, logits, V, 0, 1);
    F->crossentropy_forward(be, losses, probs, logits, tt, N, V, -100);
    F->sum(be, tot, losses, N);
    F->crossentropy_backward(be, dl, probs, tt, N, V, -100, 1.0f / N);
    F->gemm(be, 1, 0, V, C, N, 1.0f, dl, V, 0, y, C, 0, 1.0f, dwv, C, 0, 1);
    F->gemm(be, 0, 0, N, C, V, 1.0f, dl, V, 0, twv, C, 0, 0.0f, dy, C, 0, 1);
    F->layernorm_backward(be, dx, dlnw, dlnb, dy, tx, ln_w, mean, rstd, N, C);
    F->embedding_backward(be, dtab, dx, tt, N, C, V);
    F->sum_squares(be, ts_view(tot, 1), dwv, (size_t)V * C);
    ts_tensor gate = dev(2), norm = dev(1);
    F->grad_gate(be, gate, norm, tot, 0.7);
    F->adamw(be, twv, dwv, m, vv, gate, (size_t)V * C, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1);

    ts_tensor outs[] = {logits, dwv, dx, dlnw, dlnb, dtab, twv, tot, att, gate, norm};
    size_t sizes[] = {N * V, V * C, N * C, C, C, V * C, V * C, 2, B * NH * T * T, 2, 1};
    size_t total = 0;
    for (int i = 0; i < 11; i++)
        total += sizes[i];
    float *all = fnew(total), *p = all;
    for (int i = 0; i < 11; i++) {
        get(p, outs[i], sizes[i]);
        p += sizes[i];
    }
    for (size_t i = 0; i < total; i++)
        assert_true(isfinite(all[i]));
    *count = total;
    return all;
}

/* One product on a fresh backend with a team of `threads`. */
static void gemm_with_team(int threads, int ta, int tb, int M, int N, int K, int batch,
                           const float *a, const float *b, float *c) {
    ts_backend_options o = {0};
    o.threads = threads;
    ts_backend *be2;
    assert_int_equal(ts_backend_create("cpu", &o, &be2), TS_OK);
    ts_buffer *ba, *bb, *bc;
    size_t na = (size_t)batch * M * K, nb = (size_t)batch * K * N, nc = (size_t)batch * M * N;
    assert_int_equal(ts_buffer_alloc(be2, na * 4, &ba), TS_OK);
    assert_int_equal(ts_buffer_alloc(be2, nb * 4, &bb), TS_OK);
    assert_int_equal(ts_buffer_alloc(be2, nc * 4, &bc), TS_OK);
    ts_tensor ua = {ba, 0}, ub = {bb, 0}, uc = {bc, 0};
    assert_int_equal(be2->iface->upload(be2, ua, a, na * 4), TS_OK);
    assert_int_equal(be2->iface->upload(be2, ub, b, nb * 4), TS_OK);
    be2->iface->gemm(be2, ta, tb, M, N, K, 1.0f, ua, ta ? M : K, (long)M * K, ub, tb ? K : N,
                     (long)K * N, 0.0f, uc, N, (long)M * N, batch);
    assert_int_equal(be2->iface->download(be2, c, uc, nc * 4), TS_OK);
    ts_buffer_free(be2, ba);
    ts_buffer_free(be2, bb);
    ts_buffer_free(be2, bc);
    ts_backend_destroy(be2);
}

/* The same bits from every team size: a sweep's MPI ranks run with fewer threads than a
 * single process, and their results must be the single process's. (The LSTM's per-step
 * products, batch x 4H x H, are the shapes that once differed.) */
static void test_gemm_threads(void **state) {
    (void)state;
    /* trans A, trans B, M, N, K, batch (the last two: attention's T x T x HS per head) */
    static const int shapes[][6] = {
        {0, 0, 16, 256, 64, 1},  {0, 1, 16, 512, 128, 1}, {0, 1, 64, 1024, 256, 1},
        {1, 0, 300, 40, 70, 1},  {0, 0, 1000, 17, 33, 1}, {1, 1, 48, 2000, 24, 1},
        {0, 1, 128, 128, 24, 3}, {0, 0, 128, 24, 128, 5},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ta = shapes[s][0], tb = shapes[s][1], M = shapes[s][2], N = shapes[s][3];
        int K = shapes[s][4], batch = shapes[s][5];
        float *a = frand((size_t)batch * M * K, -1, 1), *b = frand((size_t)batch * K * N, -1, 1);
        float *ref = fnew((size_t)batch * M * N), *c = fnew((size_t)batch * M * N);
        gemm_with_team(1, ta, tb, M, N, K, batch, a, b, ref);
        for (int threads = 2; threads <= 5; threads++) {
            gemm_with_team(threads, ta, tb, M, N, K, batch, a, b, c);
            if (memcmp(ref, c, (size_t)batch * M * N * 4))
                fail_msg("gemm %dx%dx%d x%d (trans %d%d): %d threads differ from 1", M, N, K, batch,
                         ta, tb, threads);
        }
    }
}

static void test_determinism(void **state) {
    (void)state;
    size_t n1, n2;
    float *a = run_sequence(&n1);
    float *b = run_sequence(&n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1 * sizeof *a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_buffers, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_mem_limit, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_device_info, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_elementwise, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_gelu, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_dropout, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_gemm, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_gemm_backward, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_bias, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_embedding, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_layernorm, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_qkv_heads, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_softmax_causal, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_lstm_cell, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_crossentropy, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_sums, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_adamw, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_grad_gate, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_sticky_error, test_setup, test_teardown),
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup_teardown(test_gemm_threads, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_determinism, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
