/*
 * test_attention_precision.c — the fused attention under --precision tf32|bf16|fp16
 * (cpu_flash_attention.c, shaders/attention_flash*.comp): its six matrix products read inputs
 * rounded to the mode's format, with fp32 sums; softmax and log-sum-exp stay fp32.
 *  - one key per query (T = 1): the probability is exactly 1, so out is v rounded and dv is
 *    dout rounded, bit for bit ts_precision_round's (ties, half's subnormals, its overflow to
 *    infinity) on the cpu in every mode and on Vulkan in fp16 — and v itself in fp32, so a
 *    skipped rounding fails;
 *  - the cpu's fused op equals the unfused path (the mode's GEMM emulation, softmax, dropout
 *    and their backwards: what autocast computes) and is far from its fp32 result;
 *  - vulkan fp16 against the cpu's fp16 emulation on odd T, several head sizes, dropout: the
 *    bounds are the rounding's own (see parity), and each is far below the distance to fp32.
 * A Vulkan backend without a device is skipped unless named in TS_REQUIRE_BACKENDS.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/backend.h"

/* One attention problem: inputs, then what a backend computed from them. */
typedef struct {
    int BH, T, HS;
    float p;
    float *q, *k, *v, *dout;
    float *out, *lse, *dq, *dk, *dv;
} problem;

static problem problem_new(int BH, int T, int HS, float p) {
    size_t n = (size_t)BH * T * HS, rows = (size_t)BH * T;
    problem pr = {BH, T, HS, p, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    float **all[] = {&pr.q, &pr.k, &pr.v, &pr.dout, &pr.out, &pr.dq, &pr.dk, &pr.dv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_non_null(*all[i] = calloc(n, sizeof(float)));
    assert_non_null(pr.lse = calloc(rows, sizeof(float)));
    return pr;
}

static void problem_free(problem *pr) {
    float *all[] = {pr->q, pr->k, pr->v, pr->dout, pr->out, pr->lse, pr->dq, pr->dk, pr->dv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

/* Deterministic values in [lo, hi). */
static void fill(float *x, size_t n, float lo, float hi, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) * 0x1p-24f;
    }
}

static const ts_dropout_key key = {91, 4, 12, 0, 0, 0};

static ts_tensor upload(ts_backend *be, ts_buffer **b, const float *x, size_t n) {
    assert_int_equal(ts_buffer_alloc(be, n * sizeof(float), b), TS_OK);
    ts_tensor t = {*b, 0};
    assert_int_equal(be->iface->upload(be, t, x, n * sizeof(float)), TS_OK);
    return t;
}

/* pr's forward and backward on backend `name` in mode prec, into pr's outputs. The backward
 * reads out and lse from `saved` when given (so two backends' backwards see the same inputs),
 * else from this forward. 0 when the backend cannot be created (why holds the message). */
static int run(const char *name, ts_precision prec, problem *pr, const problem *saved, char *why,
               size_t cap) {
    ts_backend_options o = {0, 1, 0, prec};
    ts_backend *be;
    if (ts_backend_create(name, &o, &be) != TS_OK) {
        snprintf(why, cap, "%s", ts_last_error());
        return 0;
    }
    size_t n = (size_t)pr->BH * pr->T * pr->HS, rows = (size_t)pr->BH * pr->T;
    float scale = 1.0f / sqrtf((float)pr->HS);
    ts_buffer *b[12];
    ts_tensor q = upload(be, &b[0], pr->q, n), k = upload(be, &b[1], pr->k, n);
    ts_tensor v = upload(be, &b[2], pr->v, n), dy = upload(be, &b[3], pr->dout, n);
    ts_tensor out = upload(be, &b[4], pr->out, n), lse = upload(be, &b[5], pr->lse, rows);
    ts_tensor dq = upload(be, &b[6], pr->dq, n), dk = upload(be, &b[7], pr->dk, n);
    ts_tensor dv = upload(be, &b[8], pr->dv, n), delta = upload(be, &b[9], pr->lse, rows);
    ts_tensor sout = out, slse = lse;
    if (saved) {
        sout = upload(be, &b[10], saved->out, n);
        slse = upload(be, &b[11], saved->lse, rows);
    }
    const ts_backend_iface *op = be->iface;
    op->attention_forward(be, out, lse, q, k, v, pr->BH, pr->T, pr->HS, scale, pr->p, key);
    op->attention_backward(be, dq, dk, dv, delta, dy, sout, q, k, v, slse, pr->BH, pr->T, pr->HS,
                           scale, pr->p, key);
    assert_int_equal(ts_backend_sync(be), TS_OK);
    assert_int_equal(op->download(be, pr->out, out, n * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, pr->lse, lse, rows * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, pr->dq, dq, n * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, pr->dk, dk, n * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, pr->dv, dv, n * sizeof(float)), TS_OK);
    for (int i = 0; i < (saved ? 12 : 10); i++)
        ts_buffer_free(be, b[i]);
    ts_backend_destroy(be);
    return 1;
}

static int required(const char *name) {
    const char *req = getenv("TS_REQUIRE_BACKENDS");
    return req && strstr(req, name) != NULL;
}

/* Vulkan's fp16 problem runs, or the test is skipped (1: skip) or fails when it is required. */
static int vulkan_missing(problem *pr, const problem *saved) {
    char why[1024];
    if (run("vulkan", TS_PREC_FP16, pr, saved, why, sizeof why)) return 0;
    if (required("vulkan")) fail_msg("vulkan required: %s", why);
    printf("skipped: vulkan fp16: %s\n", why);
    return 1;
}

/* ---- T = 1: the rounding itself, bit for bit ------------------------------------------------ */

/* Values that probe the rounding: fp16 ties both ways, half's subnormals and their ties, the
 * largest half and the overflow to infinity, -0, and a spread of magnitudes 2^-30 .. 2^17. */
static void probe_values(float *x, size_t n) {
    static const float fixed[] = {1.0f + 0x1p-11f,    1.0f + 3 * 0x1p-11f,
                                  -(1.0f + 0x1p-11f), 0x1p-25f,
                                  3 * 0x1p-25f,       -5 * 0x1p-25f,
                                  65519.0f,           65520.0f,
                                  -70000.0f,          -0.0f,
                                  1.0f + 0x1p-8f,     1.0f + 3 * 0x1p-8f,
                                  0x1.fffp-15f,       2.0f - 0x1p-12f};
    size_t nf = sizeof fixed / sizeof fixed[0];
    uint32_t s = 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        float m = 1.0f + (float)(s >> 9) * 0x1p-23f; /* every mantissa bit random */
        int e = (int)(i % 48) - 30;
        x[i] = i < nf ? fixed[i] : ldexpf((s & 1u) ? -m : m, e);
    }
}

/* out == round(v), dv == round(dout) exactly (as floats: 0 * x + -0 is +0); 1 when every
 * element agrees (the first disagreements printed when `say`). */
static int rounds_exactly(const problem *pr, ts_precision prec, int say) {
    size_t n = (size_t)pr->BH * pr->HS, bad = 0;
    for (size_t i = 0; i < n; i++) {
        float want_o = ts_precision_round(prec, pr->v[i]);
        float want_dv = ts_precision_round(prec, pr->dout[i]);
        if (!(want_o == pr->out[i] && want_dv == pr->dv[i])) {
            if (bad++ < 4 && say)
                printf("  %s: v %a -> out %a (want %a); dout %a -> dv %a (want %a)\n",
                       ts_precision_name(prec), (double)pr->v[i], (double)pr->out[i],
                       (double)want_o, (double)pr->dout[i], (double)pr->dv[i], (double)want_dv);
        }
    }
    return bad == 0;
}

static void test_one_key_rounds(void **state) {
    (void)state;
    char why[1024];
    problem pr = problem_new(64, 1, 64, 0.0f);
    size_t n = 64 * 64;
    probe_values(pr.v, n);
    for (size_t i = 0; i < n; i++) /* the probes again, negated and in another order */
        pr.dout[i] = -pr.v[(i * 37) % n];
    fill(pr.q, n, -1, 1, 1);
    fill(pr.k, n, -1, 1, 2);
    /* fp32: out is v itself, so the checks below cannot pass with the rounding skipped */
    assert_true(run("cpu", TS_PREC_FP32, &pr, NULL, why, sizeof why));
    for (size_t i = 0; i < n; i++)
        assert_true(pr.out[i] == pr.v[i] && pr.dv[i] == pr.dout[i]);
    for (int p = TS_PREC_TF32; p < TS_PREC_COUNT; p++)
        assert_false(rounds_exactly(&pr, (ts_precision)p, 0));
    for (int p = TS_PREC_TF32; p < TS_PREC_COUNT; p++) {
        assert_true(run("cpu", (ts_precision)p, &pr, NULL, why, sizeof why));
        assert_true(rounds_exactly(&pr, (ts_precision)p, 1));
    }
    if (!vulkan_missing(&pr, NULL)) {
        assert_true(rounds_exactly(&pr, TS_PREC_FP16, 1));
        printf("vulkan fp16, one key: out = round(v), dv = round(dout) on %zu probes each\n", n);
    }
    problem_free(&pr);
}

/* ---- the cpu: fused equals the unfused path in each mode -------------------------------- */

/* sum |x - y|^2 / sum |y|^2 over n */
static double nmse(const float *x, const float *y, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
        den += (double)y[i] * y[i];
    }
    return den > 0 ? num / den : num;
}

/* The unfused attention on the cpu in mode prec (gemm emulates the mode, softmax and dropout
 * are fp32): out, dq, dk, dv of pr into ref. */
static void unfused(ts_precision prec, const problem *pr, problem *ref) {
    ts_backend_options o = {0, 1, 0, prec};
    ts_backend *be;
    assert_int_equal(ts_backend_create("cpu", &o, &be), TS_OK);
    int BH = pr->BH, T = pr->T, HS = pr->HS;
    size_t n = (size_t)BH * T * HS, maps = (size_t)BH * T * T;
    long sh = (long)T * HS, sm = (long)T * T;
    float scale = 1.0f / sqrtf((float)HS), *zero = calloc(maps, sizeof(float));
    assert_non_null(zero);
    ts_buffer *b[11];
    ts_tensor q = upload(be, &b[0], pr->q, n), k = upload(be, &b[1], pr->k, n);
    ts_tensor v = upload(be, &b[2], pr->v, n), dy = upload(be, &b[3], pr->dout, n);
    ts_tensor out = upload(be, &b[4], zero, n), dq = upload(be, &b[5], zero, n);
    ts_tensor dk = upload(be, &b[6], zero, n), dv = upload(be, &b[7], zero, n);
    ts_tensor att = upload(be, &b[8], zero, maps), attd = upload(be, &b[9], zero, maps);
    ts_tensor dmap = upload(be, &b[10], zero, maps);
    const ts_backend_iface *op = be->iface;
    op->gemm(be, 0, 1, T, T, HS, 1.0f, q, HS, sh, k, HS, sh, 0.0f, dmap, T, sm, BH);
    op->softmax_causal_forward(be, att, dmap, BH, T, scale);
    op->dropout_forward(be, attd, att, maps, pr->p, key);
    op->gemm(be, 0, 0, T, HS, T, 1.0f, attd, T, sm, v, HS, sh, 0.0f, out, HS, sh, BH);
    op->gemm(be, 1, 0, T, HS, T, 1.0f, attd, T, sm, dy, HS, sh, 0.0f, dv, HS, sh, BH);
    op->gemm(be, 0, 1, T, T, HS, 1.0f, dy, HS, sh, v, HS, sh, 0.0f, dmap, T, sm, BH);
    op->dropout_backward(be, dmap, dmap, maps, pr->p, key);
    op->softmax_causal_backward(be, attd, dmap, att, BH, T, scale); /* attd: dS */
    op->gemm(be, 0, 0, T, HS, T, 1.0f, attd, T, sm, k, HS, sh, 0.0f, dq, HS, sh, BH);
    op->gemm(be, 1, 0, T, HS, T, 1.0f, attd, T, sm, q, HS, sh, 0.0f, dk, HS, sh, BH);
    assert_int_equal(ts_backend_sync(be), TS_OK);
    assert_int_equal(op->download(be, ref->out, out, n * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, ref->dq, dq, n * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, ref->dk, dk, n * sizeof(float)), TS_OK);
    assert_int_equal(op->download(be, ref->dv, dv, n * sizeof(float)), TS_OK);
    for (int i = 0; i < 11; i++)
        ts_buffer_free(be, b[i]);
    ts_backend_destroy(be);
    free(zero);
}

/*
 * dq and dk of the flash backward without dropout, in double from pr's inputs and its own out
 * and lse: S = q.k and dP = dout.v over rounded inputs, P = exp(scale S - lse),
 * delta = round(dout).out, dS = scale P (dP - delta) rounded (from its fp32 value) before
 * dq = sum dS k, dk = sum dS q over rounded q, k. The unfused path cannot stand in here: its
 * softmax backward subtracts sum_s P dP, which differs from delta by the rounding of P in out.
 */
static void backward_ref(ts_precision prec, const problem *pr, float *dq, float *dk) {
    int T = pr->T, HS = pr->HS;
    double scale = 1.0f / sqrtf((float)HS);
    size_t n = (size_t)pr->BH * T * HS;
    double *aq = calloc(n, sizeof(double)), *ak = calloc(n, sizeof(double));
    assert_non_null(aq && ak);
#define R(x) ((double)ts_precision_round(prec, (x)))
    for (int bh = 0; bh < pr->BH; bh++)
        for (int t = 0; t < T; t++) {
            size_t rt = ((size_t)bh * T + t) * HS;
            double D = 0;
            for (int d = 0; d < HS; d++)
                D += R(pr->dout[rt + d]) * pr->out[rt + d];
            for (int s = 0; s <= t; s++) {
                size_t rs = ((size_t)bh * T + s) * HS;
                double S = 0, dP = 0;
                for (int d = 0; d < HS; d++) {
                    S += R(pr->q[rt + d]) * R(pr->k[rs + d]);
                    dP += R(pr->dout[rt + d]) * R(pr->v[rs + d]);
                }
                double P = exp(scale * S - pr->lse[(size_t)bh * T + t]);
                double dS = R((float)(scale * P * (dP - D)));
                for (int d = 0; d < HS; d++) {
                    aq[rt + d] += dS * R(pr->k[rs + d]);
                    ak[rs + d] += dS * R(pr->q[rt + d]);
                }
            }
        }
#undef R
    for (size_t i = 0; i < n; i++)
        dq[i] = (float)aq[i], dk[i] = (float)ak[i];
    free(aq), free(ak);
}

/* The largest nmse over out and dv, and over dq and dk when `all`. */
static double worst_nmse(const problem *x, const problem *y, int all) {
    size_t n = (size_t)x->BH * x->T * x->HS;
    double e = fmax(nmse(x->out, y->out, n), nmse(x->dv, y->dv, n));
    return all ? fmax(e, fmax(nmse(x->dq, y->dq, n), nmse(x->dk, y->dk, n))) : e;
}

static void test_cpu_fused_is_unfused(void **state) {
    (void)state;
    char why[1024];
    static const struct {
        int BH, T, HS;
        float p;
    } cs[] = {{2, 37, 8, 0.0f}, {2, 45, 32, 0.1f}};
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        problem pr = problem_new(cs[c].BH, cs[c].T, cs[c].HS, cs[c].p);
        problem ref = problem_new(cs[c].BH, cs[c].T, cs[c].HS, cs[c].p);
        problem f32 = problem_new(cs[c].BH, cs[c].T, cs[c].HS, cs[c].p);
        size_t n = (size_t)pr.BH * pr.T * pr.HS;
        fill(pr.q, n, -2, 2, 3), fill(pr.k, n, -2, 2, 4);
        fill(pr.v, n, -1, 1, 5), fill(pr.dout, n, -1, 1, 6);
        memcpy(f32.q, pr.q, n * 4), memcpy(f32.k, pr.k, n * 4);
        memcpy(f32.v, pr.v, n * 4), memcpy(f32.dout, pr.dout, n * 4);
        assert_true(run("cpu", TS_PREC_FP32, &f32, NULL, why, sizeof why));
        for (int p = TS_PREC_TF32; p < TS_PREC_COUNT; p++) {
            assert_true(run("cpu", (ts_precision)p, &pr, NULL, why, sizeof why));
            /* out and dv from the unfused path; dq and dk (without dropout) from backward_ref */
            unfused((ts_precision)p, &pr, &ref);
            int all = pr.p == 0.0f;
            if (all) backward_ref((ts_precision)p, &pr, ref.dq, ref.dk);
            double e = worst_nmse(&pr, &ref, all), e32 = worst_nmse(&pr, &f32, 1);
            printf("cpu %s BH=%d T=%d HS=%d p=%g: fused vs reference nmse %.2g (%s), vs fp32 "
                   "%.2g\n",
                   ts_precision_name((ts_precision)p), pr.BH, pr.T, pr.HS, (double)pr.p, e,
                   all ? "out dq dk dv" : "out dv", e32);
            /* Both sides round the same values; they differ by summation order (fp32 or
             * double) and the rare half-ulp where that order moves a probability or dS across
             * a rounding boundary: far below the rounding's own effect, a 2^-11 (tf32, fp16) or
             * 2^-8 (bf16) relative step on every input, whose nmse is >= 1e-8. */
            assert_true(e < 1e-9);
            assert_true(e32 > 1e-8);
        }
        problem_free(&pr), problem_free(&ref), problem_free(&f32);
    }
}

/* ---- vulkan fp16 against the cpu's emulation --------------------------------------------- */

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)x[i]));
    return m;
}

static double max_diff(const float *x, const float *y, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)x[i] - y[i]));
    return m;
}

static void test_vulkan_parity(void **state) {
    (void)state;
    char why[1024];
    static const struct {
        int BH, T, HS;
        float p;
    } cs[] = {{2, 37, 8, 0.1f}, {3, 70, 32, 0.0f}, {2, 70, 64, 0.1f}};
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        int BH = cs[c].BH, T = cs[c].T, HS = cs[c].HS;
        float p = cs[c].p;
        size_t n = (size_t)BH * T * HS, rows = (size_t)BH * T;
        problem cpu = problem_new(BH, T, HS, p), vk = problem_new(BH, T, HS, p);
        problem f32 = problem_new(BH, T, HS, p);
        fill(cpu.q, n, -2, 2, 7), fill(cpu.k, n, -2, 2, 8);
        fill(cpu.v, n, -1, 1, 9), fill(cpu.dout, n, -1, 1, 10);
        float *in[][3] = {{cpu.q, vk.q, f32.q},
                          {cpu.k, vk.k, f32.k},
                          {cpu.v, vk.v, f32.v},
                          {cpu.dout, vk.dout, f32.dout}};
        for (int i = 0; i < 4; i++)
            memcpy(in[i][1], in[i][0], n * 4), memcpy(in[i][2], in[i][0], n * 4);
        assert_true(run("cpu", TS_PREC_FP16, &cpu, NULL, why, sizeof why));
        assert_true(run("cpu", TS_PREC_FP32, &f32, NULL, why, sizeof why));
        /* the backward reads the cpu's out and lse on both, so it compares like with like */
        if (vulkan_missing(&vk, &cpu)) {
            problem_free(&cpu), problem_free(&vk), problem_free(&f32);
            return;
        }
        /*
         * Forward. Both sides compute S from the same rounded q and k (fp32 sums in another
         * order), so lse agrees to fp32 rounding (|lse| < 8 here: 3e-5 is ~60 ulps, room for a
         * GPU's approximate exp and log; lavapipe measures 5e-7).
         * out: the cpu rounds each normalised probability, the shader each unnormalised one
         * (relative to its running max): each is within half an fp16 ulp, 2^-11 relative, of
         * the exact value, so per row |out_vk - out_cpu| <= 2^-10 * sum_s w_s |v_s|
         * <= 2^-10 * dscale * max|v|, plus fp32 sums (1e-5).
         */
        double dscale = 1.0 / (1.0 - p), vmax = max_abs(cpu.v, n);
        double d_lse = max_diff(vk.lse, cpu.lse, rows), d_out = max_diff(vk.out, cpu.out, n);
        double tol_out = 0x1p-10 * dscale * vmax + 1e-5;
        /* fp32's lse moves by the rounding of q and k: about 2^-11 of |S| */
        double d_lse32 = max_diff(vk.lse, f32.lse, rows);
        /*
         * Backward, from the same out and lse: both round the same values (q, k, v, dout,
         * P*mask, dS); only fp32 summation order differs, and where it moves P*mask or dS
         * across a rounding boundary that one term differs by half an fp16 ulp. Measured
         * as nmse: such flips are rare (~2^-10 of the terms; measured <= 3e-10), so it stays
         * below 3e-9, while fp32's backward differs on every term by up to 2^-11 (measured
         * >= 1.2e-7, bound 3e-8).
         */
        double e_b =
            fmax(fmax(nmse(vk.dq, cpu.dq, n), nmse(vk.dk, cpu.dk, n)), nmse(vk.dv, cpu.dv, n));
        double e_b32 =
            fmin(fmin(nmse(vk.dq, f32.dq, n), nmse(vk.dk, f32.dk, n)), nmse(vk.dv, f32.dv, n));
        printf("vulkan fp16 BH=%d T=%d HS=%d p=%g: |lse - cpu fp16| %.2g (fp32 %.2g), |out - cpu "
               "fp16| %.2g <= %.2g; backward nmse vs cpu fp16 %.2g, vs fp32 %.2g\n",
               BH, T, HS, (double)p, d_lse, d_lse32, d_out, tol_out, e_b, e_b32);
        assert_true(d_lse < 3e-5);
        assert_true(d_lse32 > 1e-4);
        assert_true(d_out <= tol_out);
        assert_true(e_b < 3e-9);
        assert_true(e_b32 > 3e-8);
        problem_free(&cpu), problem_free(&vk), problem_free(&f32);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_key_rounds),
        cmocka_unit_test(test_cpu_fused_is_unfused),
        cmocka_unit_test(test_vulkan_parity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
