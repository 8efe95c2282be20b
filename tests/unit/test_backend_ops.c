/*
 * test_backend_ops.c — op parity: every op of every non-CPU backend, forward and backward,
 * against the CPU reference backend, over several shapes including odd ones (1, 3, 17, 255:
 * not multiples of any work-group size).
 *
 * Each case uploads the same random inputs to both backends, runs the op on both, and compares
 * every output by the normalised mean squared error NMSE = sum (a - b)^2 / sum b^2 against a
 * per-op bound. Every tensor sits inside its buffer between guard regions of sentinel values,
 * which must come back untouched on both backends (an out-of-bounds write shows up there), and
 * outputs must be free of NaN and Inf. One line per op / shape / backend:
 *     ok   gemm nt 17x255x3 opencl nmse=1.2e-14
 * The exit status is non-zero if any case fails. A backend that cannot be created here (not
 * built, or no device) prints "skipped: <reason>" and does not fail the test, unless it is
 * named in TS_REQUIRE_BACKENDS (comma-separated), as on a CI machine that has the device.
 *
 * Adding a backend is one line in `backends` below.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "backends/gemm_plan.h"
#include "backends/registry.h"
#include "util/philox.h"

/* Every op of backends/ops.def; op_ran marks those a parity case has run. An op with no case
 * fails the test (coverage), unless ops.def exempts it with a reason. */
static const struct {
    const char *name, *exempt;
} all_ops[] = {
#define TS_OP(name, exempt, check, ...) {#name, exempt},
#include "backends/ops.def"
#undef TS_OP
};
#define N_OPS ((int)(sizeof all_ops / sizeof all_ops[0]))
static int op_ran[N_OPS];

static void note_op(const char *name) {
    for (int i = 0; i < N_OPS; i++)
        if (!strcmp(all_ops[i].name, name)) op_ran[i] = 1;
}

/* NMSE bounds. The default is for fp32 ops whose only difference from the CPU is the
 * rounding of library functions (erf, exp, tanh: a few ulp) or of summation order. */
#define TOL_DEFAULT 1e-7
#define TOL_EXACT   0.0 /* permutations, copies, dropout masks: bit for bit */

#define GUARD    37 /* sentinel elements before and after every view (odd on purpose) */
#define SENTINEL (-7777.25f)

/* ---- paired tensors ------------------------------------------------------------------- */

enum { REF = 0, DUT = 1 }; /* device under test */

typedef struct {
    size_t n;
    ts_buffer *buf[2];
    ts_tensor t[2];
    int is_int;
} ptensor;

static ts_backend *be_pair[2];
static const char *dut_name;
static ptensor *live[64];
static int n_live;
static ts_rng rng;
static int failures, cases;
static char case_error[512];
/* elements before each tensor's image in its buffer: the vulkan far-view pass sets it */
static size_t far_pad;

static void note_error(const char *what) {
    if (!case_error[0]) snprintf(case_error, sizeof case_error, "%s", what);
}

/* A tensor of n elements on both backends, initialised from host (n 4-byte values, NULL for
 * zeros), between guard regions. */
static ptensor *pt_new(size_t n, const void *host) {
    ptensor *p = calloc(1, sizeof *p);
    size_t total = n + 2 * GUARD;
    float *img = malloc(total * sizeof *img);
    if (!p || !img) {
        fprintf(stderr, "out of host memory\n");
        exit(2);
    }
    for (size_t i = 0; i < total; i++)
        img[i] = SENTINEL;
    if (host)
        memcpy(img + GUARD, host, n * 4);
    else
        memset(img + GUARD, 0, n * 4);
    p->n = n;
    for (int s = 0; s < 2; s++) {
        if (ts_buffer_alloc(be_pair[s], (far_pad + total) * 4, &p->buf[s]) != TS_OK ||
            be_pair[s]->iface->upload(be_pair[s], (ts_tensor){p->buf[s], far_pad}, img,
                                      total * 4) != TS_OK) {
            note_error(ts_last_error());
            p->buf[s] = NULL;
        }
        p->t[s] = (ts_tensor){p->buf[s], far_pad + GUARD};
    }
    free(img);
    live[n_live++] = p;
    return p;
}

/* Uniform random floats in [lo, hi). */
static ptensor *pt_rand(size_t n, float lo, float hi) {
    float *h = malloc((n ? n : 1) * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = lo + (hi - lo) * ts_rng_uniform(&rng);
    ptensor *p = pt_new(n, h);
    free(h);
    return p;
}

static ptensor *pt_const(size_t n, float v) {
    float *h = malloc((n ? n : 1) * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = v;
    ptensor *p = pt_new(n, h);
    free(h);
    return p;
}

/* int32 values in [0, range), with every `ignore_every`-th one replaced by ignore (0: none). */
static ptensor *pt_ints(size_t n, int range, int ignore_every, int ignore) {
    int32_t *h = malloc((n ? n : 1) * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] =
            (ignore_every && i % ignore_every == 1) ? ignore : (int32_t)ts_rng_below(&rng, range);
    ptensor *p = pt_new(n, h);
    p->is_int = 1;
    free(h);
    return p;
}

#define T(p) ((p)->t[s])
/* Runs iface->fn(b, ...) on the reference and on the device under test. */
#define ON_BOTH(fn, ...)                                                                           \
    do {                                                                                           \
        for (int s = 0; s < 2; s++) {                                                              \
            ts_backend *be_ = be_pair[s];                                                          \
            if (!case_error[0]) be_->iface->fn(be_, __VA_ARGS__);                                  \
        }                                                                                          \
        note_op(#fn);                                                                              \
    } while (0)

/* Downloads a whole buffer (guards included); NULL on failure. */
static float *fetch(ptensor *p, int s) {
    size_t total = p->n + 2 * GUARD;
    float *h = malloc(total * sizeof *h);
    if (!p->buf[s] || be_pair[s]->iface->download(be_pair[s], h, (ts_tensor){p->buf[s], far_pad},
                                                  total * 4) != TS_OK) {
        note_error(ts_last_error());
        free(h);
        return NULL;
    }
    return h;
}

static int guards_ok(const float *h, size_t n) {
    for (size_t i = 0; i < GUARD; i++)
        if (memcmp(&h[i], &(float){SENTINEL}, 4) ||
            memcmp(&h[GUARD + n + i], &(float){SENTINEL}, 4))
            return 0;
    return 1;
}

/*
 * Ends a case: syncs both backends, compares the outputs (NULL-terminated), checks the guards
 * of every tensor of the case on both sides, prints the line and frees the tensors.
 */
static void finish(const char *op, const char *shape, double tol, ptensor **outs) {
    cases++;
    double worst = 0;
    char why[600] = "";
    for (int s = 0; s < 2; s++)
        if (ts_backend_sync(be_pair[s]) != TS_OK) note_error(ts_last_error());
    if (case_error[0]) snprintf(why, sizeof why, "error: %s", case_error);
    for (int k = 0; outs[k] && !why[0]; k++) {
        ptensor *p = outs[k];
        float *a = fetch(p, DUT), *b = fetch(p, REF);
        if (!a || !b) {
            snprintf(why, sizeof why, "error: %s", case_error);
        } else {
            double num = 0, den = 0;
            for (size_t i = 0; i < p->n && !why[0]; i++) {
                double x = p->is_int ? (double)((int32_t *)a)[GUARD + i] : a[GUARD + i];
                double y = p->is_int ? (double)((int32_t *)b)[GUARD + i] : b[GUARD + i];
                if (!isfinite(x) && isfinite(y))
                    snprintf(why, sizeof why, "output %d element %zu is %g (cpu %g)", k, i, x, y);
                num += (x - y) * (x - y);
                den += y * y;
            }
            double nmse = den > 0 ? num / den : (num > 0 ? INFINITY : 0);
            if (nmse > worst) worst = nmse;
            if (!why[0] && !(nmse <= tol))
                snprintf(why, sizeof why, "output %d nmse %.3g exceeds %.1g", k, nmse, tol);
        }
        free(a);
        free(b);
    }
    for (int k = 0; k < n_live && !why[0]; k++) {
        for (int s = 0; s < 2 && !why[0]; s++) {
            float *h = fetch(live[k], s);
            if (h && !guards_ok(h, live[k]->n))
                snprintf(why, sizeof why, "%s wrote outside tensor %d (guard region changed)",
                         s == DUT ? dut_name : "cpu", k);
            free(h);
        }
    }
    if (why[0]) {
        failures++;
        printf("FAIL %s %s %s nmse=%.2g: %s\n", op, shape, dut_name, worst, why);
    } else {
        printf("ok   %s %s %s nmse=%.2g\n", op, shape, dut_name, worst);
    }
    fflush(stdout);
    for (int k = 0; k < n_live; k++) {
        for (int s = 0; s < 2; s++)
            ts_buffer_free(be_pair[s], live[k]->buf[s]);
        free(live[k]);
    }
    n_live = 0;
    case_error[0] = '\0';
    /* a failed case leaves a sticky error behind: start the next one on fresh backends */
    for (int s = 0; s < 2; s++) {
        if (be_pair[s]->error != TS_OK) {
            const char *name = s == DUT ? dut_name : "cpu";
            ts_backend_destroy(be_pair[s]);
            ts_backend_options o = {0};
            o.threads = 2;
            if (ts_backend_create(name, &o, &be_pair[s]) != TS_OK) {
                printf("FAIL cannot recreate backend %s: %s\n", name, ts_last_error());
                exit(1);
            }
        }
    }
}

#define OUTS(...) ((ptensor *[]){__VA_ARGS__, NULL})

/* ---- the cases ------------------------------------------------------------------------ */

static const size_t flat_sizes[] = {1, 3, 17, 255, 1000};
#define N_FLAT (sizeof flat_sizes / sizeof flat_sizes[0])

static void test_elementwise(void) {
    char shape[64];
    for (size_t k = 0; k < N_FLAT; k++) {
        size_t n = flat_sizes[k];
        snprintf(shape, sizeof shape, "%zu", n);
        ptensor *x = pt_rand(n, -1, 1);
        ON_BOTH(fill, T(x), 0.375f, n);
        finish("fill", shape, TOL_EXACT, OUTS(x));

        ptensor *src = pt_rand(n, -1, 1), *dst = pt_rand(n, -1, 1);
        ON_BOTH(copy, T(dst), T(src), n);
        finish("copy", shape, TOL_EXACT, OUTS(dst));

        /* overlapping views of one buffer: memmove semantics */
        ptensor *ov = pt_rand(2 * n, -1, 1);
        ON_BOTH(copy, ts_view(T(ov), n / 2), T(ov), n);
        finish("copy overlap", shape, TOL_EXACT, OUTS(ov));

        ptensor *a = pt_rand(n, -1, 1), *b = pt_rand(n, -1, 1), *out = pt_rand(n, -1, 1);
        ON_BOTH(add, T(out), T(a), T(b), n);
        finish("add", shape, TOL_EXACT, OUTS(out));

        a = pt_rand(n, -1, 1), b = pt_rand(n, -1, 1);
        ON_BOTH(add, T(a), T(a), T(b), n);
        finish("add inplace", shape, TOL_EXACT, OUTS(a));

        x = pt_rand(n, -1, 1);
        ON_BOTH(scale, T(x), -0.3f, n);
        finish("scale", shape, TOL_EXACT, OUTS(x));

        ptensor *inp = pt_rand(n, -4, 4);
        out = pt_rand(n, -1, 1);
        ON_BOTH(gelu_forward, T(out), T(inp), n);
        finish("gelu_forward", shape, TOL_DEFAULT, OUTS(out));

        inp = pt_rand(n, -4, 4);
        ptensor *dout = pt_rand(n, -1, 1), *dinp = pt_rand(n, -1, 1);
        ON_BOTH(gelu_backward, T(dinp), T(inp), T(dout), n);
        finish("gelu_backward", shape, TOL_DEFAULT, OUTS(dinp));

        /* in place, as the model uses it */
        inp = pt_rand(n, -4, 4), dout = pt_rand(n, -1, 1);
        ON_BOTH(gelu_backward, T(dout), T(inp), T(dout), n);
        finish("gelu_backward inplace", shape, TOL_DEFAULT, OUTS(dout));

        static const float ps[] = {0.0f, 0.1f, 0.5f};
        for (int q = 0; q < 3; q++) {
            ts_dropout_key key = {0x123456789abcdefull + n, 7u + (uint32_t)q, 42u, 0, 0, 0};
            char s2[96];
            snprintf(s2, sizeof s2, "%zu p=%.1f", n, (double)ps[q]);
            inp = pt_rand(n, -1, 1), out = pt_rand(n, -1, 1);
            ON_BOTH(dropout_forward, T(out), T(inp), n, ps[q], key);
            finish("dropout_forward", s2, TOL_EXACT, OUTS(out));
            dout = pt_rand(n, -1, 1);
            ON_BOTH(dropout_backward, T(dout), T(dout), n, ps[q], key);
            finish("dropout_backward inplace", s2, TOL_EXACT, OUTS(dout));
        }

        /* a data-parallel slice: block-aligned and odd offsets, and time-major rows (span,
         * stride) as the LSTM's; test_dropout_slices checks the CPU's against the whole */
        static const struct {
            uint64_t offset;
            uint32_t span, stride;
        } sl[] = {{4 * 1000, 0, 0}, {4 * 1000 + 3, 0, 0}, {17, 6, 15}, {5, 4, 9}};
        for (int q = 0; q < 4; q++) {
            ts_dropout_key key = {0xfeedull + n, 3u, 17u, sl[q].offset, sl[q].span, sl[q].stride};
            char s2[96];
            snprintf(s2, sizeof s2, "%zu offset=%llu span=%u stride=%u", n,
                     (unsigned long long)sl[q].offset, sl[q].span, sl[q].stride);
            inp = pt_rand(n, -1, 1), out = pt_rand(n, -1, 1);
            ON_BOTH(dropout_forward, T(out), T(inp), n, 0.5f, key);
            finish("dropout_forward slice", s2, TOL_EXACT, OUTS(out));
            dout = pt_rand(n, -1, 1);
            ON_BOTH(dropout_backward, T(dout), T(dout), n, 0.5f, key);
            finish("dropout_backward slice", s2, TOL_EXACT, OUTS(dout));
        }
    }
}

/* Elements spanned by a batch of (rows, cols) matrices with leading dimension ld. */
static size_t extent(int rows, int cols, int ld, long stride, int batch) {
    return (size_t)(batch - 1) * (size_t)stride + (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* gemm: a sum of K products, rounded in an order that differs between OpenBLAS and CLBlast;
 * with K up to 255 terms of mixed sign the relative error per element stays ~1e-6, so the
 * default bound holds with a wide margin. */
/* Set by test_gemm_variants: elements before A, B and C in gemm_case (3 puts views on 16 bytes,
 * past GUARD), and the built-in variant each product must run (-1: any). */
static size_t gemm_shift;
static int gemm_want_variant = -1;

/* The forced built-in variant must be the one the backend ran (not a silent fallback). */
static void check_ran_variant(void) {
    ts_gemm_plan *plan = ts_gemm_plan_of(be_pair[DUT]);
    if (gemm_want_variant < 0 || !plan || plan->ran_variant == gemm_want_variant) return;
    if (!case_error[0])
        snprintf(case_error, sizeof case_error, "ran built-in variant %d, not the forced %d",
                 plan->ran_variant, gemm_want_variant);
}

static void gemm_case(int ta, int tb, int M, int N, int K, int pad, int batch, float alpha,
                      float beta, int nan_c) {
    int a_rows = ta ? K : M, a_cols = ta ? M : K;
    int b_rows = tb ? N : K, b_cols = tb ? K : N;
    int lda = (a_cols > 0 ? a_cols : 1) + pad, ldb = (b_cols > 0 ? b_cols : 1) + pad, ldc = N + pad;
    long sa = (long)a_rows * lda + pad, sb = (long)b_rows * ldb + 2 * pad, sc = (long)M * ldc + pad;
    size_t na = K > 0 ? extent(a_rows, a_cols, lda, sa, batch) : 1;
    size_t nb = K > 0 ? extent(b_rows, b_cols, ldb, sb, batch) : 1;
    size_t nc = extent(M, N, ldc, sc, batch);
    size_t o = gemm_shift;
    ptensor *A = pt_rand(o + na, -1, 1), *B = pt_rand(o + nb, -1, 1);
    ptensor *Cm = nan_c ? pt_const(o + nc, NAN) : pt_rand(o + nc, -1, 1);
    ON_BOTH(gemm, ta, tb, M, N, K, alpha, ts_view(T(A), o), lda, sa, ts_view(T(B), o), ldb, sb,
            beta, ts_view(T(Cm), o), ldc, sc, batch);
    check_ran_variant();
    char shape[128];
    snprintf(shape, sizeof shape, "%c%c %dx%dx%d%s%s b=%d a=%g beta=%g", ta ? 't' : 'n',
             tb ? 't' : 'n', M, N, K, pad ? " pad" : "", nan_c ? " nanC" : "", batch, (double)alpha,
             (double)beta);
    /* padding between rows and batch entries is untouched by a correct gemm; with nan_c it
     * stays NaN on both sides, so compare only the M x N blocks */
    if (nan_c) {
        /* copy the blocks out to a compact tensor on both sides for comparison */
        ptensor *compact = pt_new((size_t)batch * M * N, NULL);
        for (int bb = 0; bb < batch; bb++)
            for (int i = 0; i < M; i++)
                ON_BOTH(copy, ts_view(T(compact), ((size_t)bb * M + i) * N),
                        ts_view(T(Cm), o + (size_t)bb * sc + (size_t)i * ldc), (size_t)N);
        finish("gemm", shape, TOL_DEFAULT, OUTS(compact));
    } else {
        finish("gemm", shape, TOL_DEFAULT, OUTS(Cm));
    }
}

static void test_gemm(void) {
    static const int shapes[][3] = {
        {1, 1, 1}, {17, 255, 3}, {3, 17, 255}, {64, 48, 32}, {255, 1, 17}};
    for (int t = 0; t < 4; t++)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
            gemm_case(t >> 1, t & 1, shapes[k][0], shapes[k][1], shapes[k][2], 0, 1, 1.0f, 0.0f, 0);
    /* accumulate, alpha, padded leading dimensions, batches (attention), beta 0 over NaN */
    gemm_case(0, 1, 17, 33, 9, 3, 1, 0.5f, 1.0f, 0);
    gemm_case(1, 0, 33, 17, 9, 2, 1, 1.0f, 0.25f, 0);
    gemm_case(0, 1, 17, 17, 8, 0, 6, 0.35f, 0.0f, 0);
    gemm_case(0, 0, 17, 8, 17, 1, 6, 1.0f, 0.0f, 0);
    gemm_case(1, 0, 17, 8, 17, 0, 3, 1.0f, 1.0f, 0);
    gemm_case(0, 0, 5, 7, 3, 0, 1, 1.0f, 0.0f, 1);
    gemm_case(0, 1, 5, 7, 3, 1, 3, 1.0f, 0.0f, 1);
    gemm_case(0, 0, 5, 7, 0, 0, 2, 1.0f, 0.5f, 0); /* K == 0: C = beta * C */
    /* every size, stride and leading dimension a multiple of 4 (vulkan's vec4 kernel on CPU
     * devices): partial edge blocks, batches, alpha and beta, all four transposes */
    for (int t = 0; t < 4; t++)
        gemm_case(t >> 1, t & 1, 68, 36, 12, 4, 3, 0.5f, 1.0f, 0);
}

/* K past 65535, where lavapipe stops a shader loop (vulkan_gemm.c runs such a K in blocks):
 * all four transposes, accumulating, batched, vec4-aligned and not. Once per backend, not under
 * the small-buffer and small-span variants, whose limits these tensors exceed. */
static void test_gemm_deep_k(void) {
    for (int t = 0; t < 4; t++)
        gemm_case(t >> 1, t & 1, 3, 2, 70001, 1, 2, 1.0f, 0.5f, 0);
    gemm_case(0, 1, 4, 4, 65540, 0, 1, 1.0f, 0.0f, 1);
}

/* Column sums: partial sums in another order than the CPU's double accumulation; relative
 * error ~1e-7 per element, far inside the default bound. */
static void test_bias(void) {
    static const int shapes[][2] = {{1, 1}, {3, 17}, {255, 3}, {130, 65}, {17, 255}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int rows = shapes[k][0], cols = shapes[k][1];
        snprintf(shape, sizeof shape, "%dx%d", rows, cols);
        ptensor *out = pt_rand((size_t)rows * cols, -1, 1), *bias = pt_rand((size_t)cols, -1, 1);
        ON_BOTH(bias_add, T(out), T(bias), rows, cols);
        finish("bias_add", shape, TOL_EXACT, OUTS(out));
        ptensor *dbias = pt_rand((size_t)cols, -1, 1), *dout = pt_rand((size_t)rows * cols, -1, 1);
        ON_BOTH(bias_backward, T(dbias), T(dout), rows, cols);
        finish("bias_backward", shape, TOL_DEFAULT, OUTS(dbias));
    }
}

static void test_embedding(void) {
    static const int shapes[][3] = {
        {1, 1, 1}, {17, 3, 5}, {255, 17, 7}, {100, 130, 3}, {70, 300, 5}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int n = shapes[k][0], C = shapes[k][1], V = shapes[k][2];
        for (int acc = 0; acc < 2; acc++) {
            snprintf(shape, sizeof shape, "n=%d C=%d V=%d%s", n, C, V, acc ? " acc" : "");
            ptensor *out = pt_rand((size_t)n * C, -1, 1), *table = pt_rand((size_t)V * C, -1, 1);
            ptensor *ids = pt_ints((size_t)n, V, 0, 0);
            ON_BOTH(embedding_forward, T(out), T(table), T(ids), n, C, V, acc);
            finish("embedding_forward", shape, TOL_EXACT, OUTS(out));
        }
        snprintf(shape, sizeof shape, "n=%d C=%d V=%d", n, C, V);
        /* the same row order of additions as the CPU: bit for bit */
        ptensor *dtable = pt_rand((size_t)V * C, -1, 1), *dout = pt_rand((size_t)n * C, -1, 1);
        ptensor *ids = pt_ints((size_t)n, V, 0, 0);
        ON_BOTH(embedding_backward, T(dtable), T(dout), T(ids), n, C, V);
        finish("embedding_backward", shape, TOL_EXACT, OUTS(dtable));
    }
}

/* LayerNorm: float row statistics (a tree sum) against the CPU's double ones; for inputs of
 * order 1 the normalised output differs by a few ulp. */
static void test_layernorm(void) {
    static const int shapes[][2] = {{1, 1}, {3, 17}, {17, 255}, {5, 300}, {64, 48}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int N = shapes[k][0], C = shapes[k][1];
        size_t nc = (size_t)N * C;
        snprintf(shape, sizeof shape, "%dx%d", N, C);
        ptensor *out = pt_rand(nc, -1, 1), *mean = pt_rand((size_t)N, -1, 1);
        ptensor *rstd = pt_rand((size_t)N, -1, 1), *inp = pt_rand(nc, -2, 3);
        ptensor *w = pt_rand((size_t)C, 0.5f, 1.5f), *bias = pt_rand((size_t)C, -1, 1);
        ON_BOTH(layernorm_forward, T(out), T(mean), T(rstd), T(inp), T(w), T(bias), N, C, 1e-5f);
        finish("layernorm_forward", shape, TOL_DEFAULT, OUTS(out, mean, rstd));

        for (int inplace = 0; inplace < 2; inplace++) {
            inp = pt_rand(nc, -2, 3);
            w = pt_rand((size_t)C, 0.5f, 1.5f);
            mean = pt_rand((size_t)N, -0.2f, 0.2f);
            rstd = pt_rand((size_t)N, 0.5f, 2.0f);
            ptensor *dout = pt_rand(nc, -1, 1);
            ptensor *dinp = inplace ? dout : pt_rand(nc, -1, 1);
            ptensor *dw = pt_rand((size_t)C, -1, 1), *db = pt_rand((size_t)C, -1, 1);
            ON_BOTH(layernorm_backward, T(dinp), T(dw), T(db), T(dout), T(inp), T(w), T(mean),
                    T(rstd), N, C);
            finish(inplace ? "layernorm_backward inplace" : "layernorm_backward", shape,
                   TOL_DEFAULT, OUTS(dinp, dw, db));
        }
    }
}

static void test_attention(void) {
    static const int shapes[][4] = {{1, 1, 1, 1}, {2, 3, 2, 5}, {3, 17, 3, 4}, {1, 255, 1, 3}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int B = shapes[k][0], T_ = shapes[k][1], NH = shapes[k][2], HS = shapes[k][3];
        size_t n = (size_t)B * T_ * NH * HS;
        snprintf(shape, sizeof shape, "B=%d T=%d NH=%d HS=%d", B, T_, NH, HS);
        ptensor *q = pt_rand(n, -1, 1), *kk = pt_rand(n, -1, 1), *v = pt_rand(n, -1, 1);
        ptensor *qkv = pt_rand(3 * n, -1, 1);
        ON_BOTH(qkv_split_forward, T(q), T(kk), T(v), T(qkv), B, T_, NH, HS);
        finish("qkv_split_forward", shape, TOL_EXACT, OUTS(q, kk, v));
        q = pt_rand(n, -1, 1), kk = pt_rand(n, -1, 1), v = pt_rand(n, -1, 1);
        qkv = pt_rand(3 * n, -1, 1);
        ON_BOTH(qkv_split_backward, T(qkv), T(q), T(kk), T(v), B, T_, NH, HS);
        finish("qkv_split_backward", shape, TOL_EXACT, OUTS(qkv));
        ptensor *out = pt_rand(n, -1, 1), *inp = pt_rand(n, -1, 1);
        ON_BOTH(heads_merge_forward, T(out), T(inp), B, T_, NH, HS);
        finish("heads_merge_forward", shape, TOL_EXACT, OUTS(out));
        out = pt_rand(n, -1, 1), inp = pt_rand(n, -1, 1);
        ON_BOTH(heads_merge_backward, T(inp), T(out), B, T_, NH, HS);
        finish("heads_merge_backward", shape, TOL_EXACT, OUTS(inp));
    }
    static const int sm[][2] = {{1, 1}, {3, 17}, {2, 255}, {4, 3}, {1, 130}};
    for (size_t k = 0; k < sizeof sm / sizeof sm[0]; k++) {
        int BH = sm[k][0], T_ = sm[k][1];
        size_t n = (size_t)BH * T_ * T_;
        float scale = 0.35f;
        snprintf(shape, sizeof shape, "BH=%d T=%d", BH, T_);
        ptensor *att = pt_rand(n, -1, 1), *pre = pt_rand(n, -6, 6);
        ON_BOTH(softmax_causal_forward, T(att), T(pre), BH, T_, scale);
        finish("softmax_causal_forward", shape, TOL_DEFAULT, OUTS(att));
        pre = pt_rand(n, -6, 6);
        ON_BOTH(softmax_causal_forward, T(pre), T(pre), BH, T_, scale);
        finish("softmax_causal_forward inplace", shape, TOL_DEFAULT, OUTS(pre));
        /* a real probability matrix as the saved att */
        att = pt_rand(n, -6, 6);
        ON_BOTH(softmax_causal_forward, T(att), T(att), BH, T_, 1.0f);
        ptensor *datt = pt_rand(n, -1, 1), *dpre = pt_rand(n, -1, 1);
        ON_BOTH(softmax_causal_backward, T(dpre), T(datt), T(att), BH, T_, scale);
        finish("softmax_causal_backward", shape, TOL_DEFAULT, OUTS(dpre));
    }
}

/* The fused attention against the CPU: odd T (not a multiple of the 32-row tiles), several
 * head sizes up to TS_ATTENTION_MAX_HS, with and without dropout, and one key placed at an
 * unaligned offset (a data-parallel slice). The backward takes each backend's own lse. */
static void test_attention_fused(void) {
    static const struct {
        int BH, T, HS;
        float p;
        uint64_t offset;
    } cs[] = {{1, 1, 1, 0.0f, 0},   {2, 37, 8, 0.1f, 0}, {3, 70, 32, 0.0f, 0},
              {2, 70, 64, 0.1f, 0}, {1, 33, 5, 0.5f, 6}, {2, 3, 16, 0.1f, 0}};
    char shape[96];
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        int BH = cs[c].BH, T_ = cs[c].T, HS = cs[c].HS;
        size_t n = (size_t)BH * T_ * HS, rows = (size_t)BH * T_;
        float scale = 1.0f / sqrtf((float)HS), p = cs[c].p;
        ts_dropout_key key = {77, 3, 40, cs[c].offset, 0, 0};
        snprintf(shape, sizeof shape, "BH=%d T=%d HS=%d p=%g off=%llu", BH, T_, HS, (double)p,
                 (unsigned long long)cs[c].offset);
        ptensor *q = pt_rand(n, -2, 2), *kk = pt_rand(n, -2, 2), *v = pt_rand(n, -1, 1);
        ptensor *out = pt_rand(n, -1, 1), *lse = pt_rand(rows, -1, 1);
        ON_BOTH(attention_forward, T(out), T(lse), T(q), T(kk), T(v), BH, T_, HS, scale, p, key);
        finish("attention_forward", shape, TOL_DEFAULT, OUTS(out, lse));
        q = pt_rand(n, -2, 2), kk = pt_rand(n, -2, 2), v = pt_rand(n, -1, 1);
        out = pt_rand(n, -1, 1), lse = pt_rand(rows, -1, 1);
        ptensor *dout = pt_rand(n, -1, 1), *dq = pt_rand(n, -1, 1), *dk = pt_rand(n, -1, 1);
        ptensor *dv = pt_rand(n, -1, 1), *delta = pt_rand(rows, -1, 1);
        ON_BOTH(attention_forward, T(out), T(lse), T(q), T(kk), T(v), BH, T_, HS, scale, p, key);
        ON_BOTH(attention_backward, T(dq), T(dk), T(dv), T(delta), T(dout), T(out), T(q), T(kk),
                T(v), T(lse), BH, T_, HS, scale, p, key);
        finish("attention_backward", shape, TOL_DEFAULT, OUTS(dq, dk, dv, delta));
    }
}

static void test_lstm(void) {
    static const int shapes[][3] = {{1, 1, 1}, {3, 17, 17}, {5, 33, 70}, {2, 255, 255}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int B = shapes[k][0], H = shapes[k][1], ld = shapes[k][2];
        size_t gates = (size_t)B * 4 * H, state = (size_t)(B - 1) * ld + H;
        snprintf(shape, sizeof shape, "B=%d H=%d ld=%d", B, H, ld);
        ptensor *h = pt_rand(state, -1, 1), *c = pt_rand(state, -1, 1);
        ptensor *act = pt_rand(gates, -1, 1), *pre = pt_rand(gates, -3, 3);
        ptensor *c_prev = pt_rand(state, -1, 1);
        ON_BOTH(lstm_cell_forward, T(h), T(c), T(act), T(pre), T(c_prev), B, H, ld);
        finish("lstm_cell_forward", shape, TOL_DEFAULT, OUTS(h, c, act));

        for (int inplace = 0; inplace < 2; inplace++) {
            /* saved activations from a real forward step */
            h = pt_rand(state, -1, 1), c = pt_rand(state, -1, 1);
            act = pt_rand(gates, -1, 1), pre = pt_rand(gates, -3, 3);
            c_prev = pt_rand(state, -1, 1);
            ON_BOTH(lstm_cell_forward, T(h), T(c), T(act), T(pre), T(c_prev), B, H, ld);
            ptensor *dpre = pt_rand(gates, -1, 1), *dh = pt_rand(state, -1, 1);
            ptensor *dc = pt_rand(state, -1, 1);
            ptensor *dc_prev = inplace ? dc : pt_rand(state, -1, 1);
            ON_BOTH(lstm_cell_backward, T(dpre), T(dc_prev), T(dh), T(dc), T(act), T(c), T(c_prev),
                    B, H, ld);
            finish(inplace ? "lstm_cell_backward inplace" : "lstm_cell_backward", shape,
                   TOL_DEFAULT, OUTS(dpre, dc_prev));
        }
    }
}

/* The fused step (lstm_step_forward/backward): the recurrent product and the cell in one launch,
 * with and without a previous state / a later step, dc_prev aliasing dc, odd B and H, and
 * states inside a wider sequence (ld > H); B = 17 spans two row tiles of the forward's tiled
 * product. pre must come back untouched. */
static void test_lstm_step(void) {
    static const int shapes[][3] = {{1, 1, 1},    {3, 17, 17}, {5, 33, 70}, {2, 255, 255},
                                    {17, 40, 45}, {6, 36, 36}, {9, 64, 72}};
    char shape[96];
    size_t pad0 = far_pad;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int B = shapes[k][0], H = shapes[k][1], ld = shapes[k][2];
        /* H and ld multiples of 4: views at multiples of 4 too, so the Vulkan CPU-device form
         * takes its vec4 shaders (vulkan_lstm.c); the other shapes keep the scalar ones */
        far_pad = pad0 + (H % 4 || ld % 4 ? 0 : (4 - (pad0 + GUARD) % 4) % 4);
        size_t gates = (size_t)B * 4 * H, state = (size_t)(B - 1) * ld + H;
        float wr = 1.0f / sqrtf((float)H);
        for (int v = 0; v < 4; v++) { /* both forms of the forward kernel (lstm_variant.h) */
            int has_prev = v % 2;
            const char *form = v < 2 ? "tiled" : "items";
            setenv("TUNESCALE_LSTM_STEP", form, 1);
            snprintf(shape, sizeof shape, "B=%d H=%d ld=%d prev=%d %s", B, H, ld, has_prev, form);
            ptensor *h = pt_rand(state, -1, 1), *c = pt_rand(state, -1, 1);
            ptensor *act = pt_rand(gates, -1, 1), *pre = pt_rand(gates, -3, 3);
            ptensor *h_prev = pt_rand(state, -1, 1), *c_prev = pt_rand(state, -1, 1);
            ptensor *w = pt_rand((size_t)4 * H * H, -wr, wr), *bi = pt_rand((size_t)4 * H, -1, 1);
            ptensor *bh = pt_rand((size_t)4 * H, -1, 1);
            ON_BOTH(lstm_step_forward, T(h), T(c), T(act), T(pre), T(h_prev), T(c_prev), T(w),
                    T(bi), T(bh), B, H, ld, has_prev);
            finish("lstm_step_forward", shape, TOL_DEFAULT, OUTS(h, c, act, pre));
        }
        for (int v = 0; v < 10; v++) { /* (prev, next): 11, 01, 10, 00, 11 with dc_prev == dc */
            int has_prev = v % 5 == 1 || v % 5 == 3 ? 0 : 1;
            int has_next = v % 5 == 2 || v % 5 == 3 ? 0 : 1, inplace = v % 5 == 4;
            const char *form = v < 5 ? "tiled" : "items"; /* both forms of the backward too */
            setenv("TUNESCALE_LSTM_STEP", form, 1);
            snprintf(shape, sizeof shape, "B=%d H=%d ld=%d prev=%d next=%d%s %s", B, H, ld,
                     has_prev, has_next, inplace ? " inplace" : "", form);
            ptensor *h = pt_rand(state, -1, 1), *c = pt_rand(state, -1, 1);
            ptensor *act = pt_rand(gates, -1, 1), *pre = pt_rand(gates, -3, 3);
            ptensor *h_prev = pt_rand(state, -1, 1), *c_prev = pt_rand(state, -1, 1);
            ptensor *w = pt_rand((size_t)4 * H * H, -wr, wr), *bi = pt_rand((size_t)4 * H, -1, 1);
            ptensor *bh = pt_rand((size_t)4 * H, -1, 1);
            ON_BOTH(lstm_step_forward, T(h), T(c), T(act), T(pre), T(h_prev), T(c_prev), T(w),
                    T(bi), T(bh), B, H, ld, 1); /* saved activations from a real step */
            ptensor *dpre = pt_rand(gates, -1, 1), *dnext = pt_rand(gates, -1, 1);
            ptensor *dh = pt_rand(state, -1, 1), *dc = pt_rand(state, -1, 1);
            ptensor *dc_prev = inplace ? dc : pt_rand(state, -1, 1);
            ON_BOTH(lstm_step_backward, T(dpre), T(dc_prev), T(dh), T(dc), T(dnext), T(w), T(act),
                    T(c), T(c_prev), B, H, ld, has_prev, has_next);
            finish("lstm_step_backward", shape, TOL_DEFAULT, OUTS(dpre, dc_prev, dh));
        }
        unsetenv("TUNESCALE_LSTM_STEP");
    }
    far_pad = pad0;
}

/* The tensors of one sequence op case: states in [-1, 1], pre in [-3, 3], W_hh in
 * +-1/sqrt(H); dpre, dc, dh only after lstm_seq_backward. */
typedef struct {
    ptensor *h, *c, *act, *pre, *h0, *c0, *w, *bi, *bh, *dpre, *dc, *dh;
} lstm_seq;

/* Random inputs, then lstm_sequence_forward on both backends. */
static lstm_seq lstm_seq_forward(int Tn, int B, int H, int init) {
    size_t state = (size_t)B * H, seq = (size_t)Tn * state, gates = 4 * seq;
    float wr = 1.0f / sqrtf((float)H);
    lstm_seq a = {0};
    a.h = pt_rand(seq, -1, 1), a.c = pt_rand(seq, -1, 1);
    a.act = pt_rand(gates, -1, 1), a.pre = pt_rand(gates, -3, 3);
    a.h0 = pt_rand(state, -1, 1), a.c0 = pt_rand(state, -1, 1);
    a.w = pt_rand((size_t)4 * H * H, -wr, wr), a.bi = pt_rand((size_t)4 * H, -1, 1);
    a.bh = pt_rand((size_t)4 * H, -1, 1);
    ON_BOTH(lstm_sequence_forward, T(a.h), T(a.c), T(a.act), T(a.pre), T(a.h0), T(a.c0), T(a.w),
            T(a.bi), T(a.bh), Tn, B, H, init);
    return a;
}

/* lstm_sequence_backward on both backends over the saved activations of a's forward; the
 * gradients' tensors are returned in a. */
static lstm_seq lstm_seq_backward(lstm_seq a, int Tn, int B, int H, int init) {
    size_t state = (size_t)B * H, seq = (size_t)Tn * state;
    a.dpre = pt_rand(4 * seq, -1, 1), a.dh = pt_rand(seq, -1, 1), a.dc = pt_rand(state, -1, 1);
    ON_BOTH(lstm_sequence_backward, T(a.dpre), T(a.dc), T(a.dh), T(a.w), T(a.act), T(a.c), T(a.c0),
            Tn, B, H, init);
    return a;
}

/* The sequence ops (lstm_sequence_forward/backward): all T steps of a layer, with and without
 * an initial state, on each path (backends/lstm_variant.h): the fused steps, and the persistent
 * kernel forced (on OpenCL: with the device's group count, one group, and W_hh read from global
 * memory). Forced persistent is an error where the device refuses it, so a refusal
 * fails here. The backward runs on the saved activations of a real forward. */
static void test_lstm_sequence(void) {
    static const int shapes[][4] = {{1, 1, 1, 0}, {5, 3, 17, 1}, {4, 2, 33, 0}, {6, 17, 40, 1}};
    static const char *paths[][3] = {/* TUNESCALE_LSTM_PATH, _GROUPS, _W */
                                     {"fused-step", NULL, NULL},
                                     {"persistent", NULL, NULL},
                                     {"persistent", "1", NULL},
                                     {"persistent", NULL, "global"}};
    int persistent = !strcmp(dut_name, "opencl"); /* Vulkan refuses it here (see below) */
    char shape[128];
    for (size_t v = 0; v < sizeof paths / sizeof paths[0]; v++) {
        if (v > 0 && !persistent) break;
        setenv("TUNESCALE_LSTM_PATH", paths[v][0], 1);
        if (paths[v][1]) setenv("TUNESCALE_LSTM_GROUPS", paths[v][1], 1);
        if (paths[v][2]) setenv("TUNESCALE_LSTM_W", paths[v][2], 1);
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            int Tn = shapes[k][0], B = shapes[k][1], H = shapes[k][2], init = shapes[k][3];
            snprintf(shape, sizeof shape, "T=%d B=%d H=%d init=%d %s%s%s%s%s", Tn, B, H, init,
                     paths[v][0], paths[v][1] ? " groups=" : "", paths[v][1] ? paths[v][1] : "",
                     paths[v][2] ? " w=" : "", paths[v][2] ? paths[v][2] : "");
            lstm_seq a = lstm_seq_forward(Tn, B, H, init);
            finish("lstm_sequence_forward", shape, TOL_DEFAULT, OUTS(a.h, a.c, a.act, a.pre));
            a = lstm_seq_backward(lstm_seq_forward(Tn, B, H, init), Tn, B, H, init);
            finish("lstm_sequence_backward", shape, TOL_DEFAULT, OUTS(a.dpre, a.dc, a.dh));
        }
        unsetenv("TUNESCALE_LSTM_PATH");
        unsetenv("TUNESCALE_LSTM_GROUPS");
        unsetenv("TUNESCALE_LSTM_W");
    }
}

/* The split-K path (backends/lstm_split.h) forced, forward and backward, against the cpu:
 * odd B and H (B = 9: two blocks of batch rows in the partial kernel), with and without an
 * initial state, and TUNESCALE_LSTM_SPLIT_K (columns per split) small enough that several
 * splits run, the last one ragged (H = 33 by 8: 5 forward splits, 15 backward; H = 521 by 256:
 * 3 forward, 16 backward). The path recorded and the
 * launches (a partial and a cell per step, no partial without a previous state) must be the
 * split's, so a silent fallback to the fused steps fails. */
static void split_case_check(const char *what, unsigned long took, unsigned long want) {
    const char *path = be_pair[DUT]->lstm_path;
    if (case_error[0]) return;
    if (!path || strcmp(path, "split"))
        snprintf(case_error, sizeof case_error, "%s ran path %s, not split", what,
                 path ? path : "(none)");
    else if (took != want)
        snprintf(case_error, sizeof case_error, "%s took %lu launches, expected %lu", what, took,
                 want);
}

static void test_lstm_split(void) {
    static const int shapes[][5] = {/* T, B, H, has_init, TUNESCALE_LSTM_SPLIT_K (0: unset) */
                                    {1, 1, 1, 0, 0},
                                    {5, 3, 17, 1, 0},
                                    {4, 9, 33, 0, 8},
                                    {3, 3, 521, 1, 0}};
    if (strcmp(dut_name, "opencl") && strcmp(dut_name, "vulkan")) return;
    setenv("TUNESCALE_LSTM_PATH", "split", 1);
    char shape[128];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int Tn = shapes[k][0], B = shapes[k][1], H = shapes[k][2], init = shapes[k][3];
        /* W_hh is bound whole, as on the fused steps: past test_far_views' 1 MiB span it is an
         * error by design (lavapipe's real span is 128 MiB, H = 2896) */
        const char *span = getenv("TUNESCALE_VK_MAX_RANGE");
        if (span && (size_t)16 * H * H > (size_t)atoll(span)) continue;
        if (shapes[k][4]) {
            char ks[16];
            snprintf(ks, sizeof ks, "%d", shapes[k][4]);
            setenv("TUNESCALE_LSTM_SPLIT_K", ks, 1);
        }
        snprintf(shape, sizeof shape, "T=%d B=%d H=%d init=%d split k=%d", Tn, B, H, init,
                 shapes[k][4] ? shapes[k][4] : 256);
        unsigned long before = be_pair[DUT]->dispatches;
        lstm_seq a = lstm_seq_forward(Tn, B, H, init);
        split_case_check("forward", be_pair[DUT]->dispatches - before,
                         2 * (unsigned long)Tn - (init ? 0 : 1));
        finish("lstm_sequence_forward", shape, TOL_DEFAULT, OUTS(a.h, a.c, a.act, a.pre));
        a = lstm_seq_forward(Tn, B, H, init);
        before = be_pair[DUT]->dispatches;
        a = lstm_seq_backward(a, Tn, B, H, init);
        split_case_check("backward", be_pair[DUT]->dispatches - before, 2 * (unsigned long)Tn - 1);
        finish("lstm_sequence_backward", shape, TOL_DEFAULT, OUTS(a.dpre, a.dc, a.dh));
        unsetenv("TUNESCALE_LSTM_SPLIT_K");
    }
    unsetenv("TUNESCALE_LSTM_PATH");
}

/* Forced persistent where it must be refused: the op records an error naming the reason
 * (`want`), and never hangs or returns numbers. env: NULL-terminated name, value pairs. */
static void expect_refusal(const char *label, const char *want, const char *const *env) {
    cases++;
    for (int i = 0; env[i]; i += 2)
        setenv(env[i], env[i + 1], 1);
    ts_backend *be = be_pair[DUT];
    int Tn = 4, B = 2, H = 8;
    size_t seq = (size_t)Tn * B * H;
    ts_buffer *buf = NULL;
    ts_status st = ts_buffer_alloc(be, (10 * seq + 16 * (size_t)H * H) * 4, &buf);
    if (st == TS_OK) {
        ts_tensor none = {NULL, 0};
        ts_tensor h = {buf, 0}, c = {buf, seq}, act = {buf, 2 * seq}, pre = {buf, 6 * seq};
        ts_tensor w = {buf, 10 * seq};
        be->iface->lstm_sequence_forward(be, h, c, act, pre, none, none, w, w, w, Tn, B, H, 0);
        st = ts_backend_sync(be);
    }
    if (st != TS_OK && strstr(ts_last_error(), "TUNESCALE_LSTM_PATH=persistent: refused") &&
        strstr(ts_last_error(), want)) {
        printf("ok   persistent refused (%s) %s: %s\n", label, dut_name, ts_last_error());
    } else {
        failures++;
        printf("FAIL persistent refused (%s) %s: %s\n", label, dut_name,
               st == TS_OK ? "no error" : ts_last_error());
    }
    ts_buffer_free(be, buf);
    for (int i = 0; env[i]; i += 2)
        unsetenv(env[i]);
    ts_backend_destroy(be_pair[DUT]); /* the error is sticky */
    ts_backend_options od = {0};
    if (ts_backend_create(dut_name, &od, &be_pair[DUT]) != TS_OK) {
        printf("FAIL cannot recreate backend %s: %s\n", dut_name, ts_last_error());
        exit(1);
    }
}

/* Where the persistent kernel is unsafe, forcing it is an error, never a hang: more groups
 * than compute units are refused up front; with that check skipped (a test hook) PoCL runs
 * some groups only after others finish, the barrier times out and the self-test refuses;
 * lavapipe is refused outright (its shader loops stop after 65535 iterations). */
static void test_lstm_persistent_refusals(void) {
    if (!strcmp(dut_name, "opencl")) {
        expect_refusal("64 groups", "cannot all be resident",
                       (const char *const[]){"TUNESCALE_LSTM_PATH", "persistent",
                                             "TUNESCALE_LSTM_GROUPS", "64", NULL});
        expect_refusal("64 groups, residency unchecked", "timed out",
                       (const char *const[]){"TUNESCALE_LSTM_PATH", "persistent",
                                             "TUNESCALE_LSTM_GROUPS", "64", "TUNESCALE_LSTM_UNSAFE",
                                             "1", NULL});
    } else if (!strcmp(dut_name, "vulkan")) {
        expect_refusal("lavapipe", "65535",
                       (const char *const[]){"TUNESCALE_LSTM_PATH", "persistent", NULL});
    }
}

static void test_loss(void) {
    static const int shapes[][2] = {{1, 1}, {3, 17}, {17, 255}, {130, 65}, {2, 1000}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int N = shapes[k][0], V = shapes[k][1];
        size_t nv = (size_t)N * V;
        snprintf(shape, sizeof shape, "N=%d V=%d", N, V);
        ptensor *losses = pt_rand((size_t)N, -1, 1), *probs = pt_rand(nv, -1, 1);
        ptensor *logits = pt_rand(nv, -8, 8), *tg = pt_ints((size_t)N, V, 3, -1);
        ON_BOTH(crossentropy_forward, T(losses), T(probs), T(logits), T(tg), N, V, -1);
        finish("crossentropy_forward", shape, TOL_DEFAULT, OUTS(losses, probs));

        losses = pt_rand((size_t)N, -1, 1), logits = pt_rand(nv, -8, 8);
        tg = pt_ints((size_t)N, V, 3, -1);
        ON_BOTH(crossentropy_forward, T(losses), T(logits), T(logits), T(tg), N, V, -1);
        finish("crossentropy_forward inplace", shape, TOL_DEFAULT, OUTS(losses, logits));

        /* probabilities from a real forward, then the backward in place */
        losses = pt_rand((size_t)N, -1, 1), logits = pt_rand(nv, -8, 8);
        tg = pt_ints((size_t)N, V, 3, -1);
        ON_BOTH(crossentropy_forward, T(losses), T(logits), T(logits), T(tg), N, V, -1);
        ptensor *dl = pt_rand(nv, -1, 1);
        ON_BOTH(crossentropy_backward, T(dl), T(logits), T(tg), N, V, -1, 1.0f / N);
        finish("crossentropy_backward", shape, TOL_DEFAULT, OUTS(dl));
        losses = pt_rand((size_t)N, -1, 1), logits = pt_rand(nv, -8, 8);
        tg = pt_ints((size_t)N, V, 3, -1);
        ON_BOTH(crossentropy_forward, T(losses), T(logits), T(logits), T(tg), N, V, -1);
        ON_BOTH(crossentropy_backward, T(logits), T(logits), T(tg), N, V, -1, 0.5f);
        finish("crossentropy_backward inplace", shape, TOL_DEFAULT, OUTS(logits));
    }
}

/* The fused ops against the CPU, which runs the unfused sequence each one replaces: every
 * dropout probability path (p == 0 keeps all unscaled), a data-parallel slice key, the column
 * sums over more than one chunk of rows, and the aliasing each op allows. */
static void test_fused(void) {
    static const int shapes[][2] = {{1, 1}, {3, 17}, {17, 255}, {130, 65}, {5, 300}};
    char shape[96];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int N = shapes[k][0], C = shapes[k][1];
        size_t nc = (size_t)N * C;
        for (int q = 0; q < 3; q++) {
            float p = q == 0 ? 0.0f : 0.25f;
            ts_dropout_key key = {0xabcdef12345ull + k, 11u + (uint32_t)q, 30u, 0, 0, 0};
            if (q == 2) { /* a rank's slice: rows of C at stride 3C from element 2C */
                key.offset = 2 * (uint64_t)C;
                key.span = (uint32_t)C;
                key.stride = 3 * (uint32_t)C;
            }
            snprintf(shape, sizeof shape, "%dx%d p=%g%s", N, C, (double)p, q == 2 ? " slice" : "");
            ptensor *sum = pt_rand(nc, -1, 1), *out = pt_rand(nc, -1, 1);
            ptensor *mean = pt_rand((size_t)N, -1, 1), *rstd = pt_rand((size_t)N, -1, 1);
            ptensor *x = pt_rand(nc, -2, 2), *r = pt_rand(nc, -2, 2);
            ptensor *rb = pt_rand((size_t)C, -1, 1), *w = pt_rand((size_t)C, 0.5f, 1.5f);
            ptensor *b = pt_rand((size_t)C, -1, 1);
            ON_BOTH(residual_layernorm_forward, T(sum), T(out), T(mean), T(rstd), T(x), T(r), T(rb),
                    T(w), T(b), N, C, 1e-5f, p, key);
            finish("residual_layernorm_forward", shape, TOL_DEFAULT, OUTS(sum, out, mean, rstd));

            /* p == 0: ddrop is dinp itself, as the Transformer's LN1 passes it */
            ptensor *inp = pt_rand(nc, -2, 3), *dout = pt_rand(nc, -1, 1);
            mean = pt_rand((size_t)N, -0.2f, 0.2f), rstd = pt_rand((size_t)N, 0.5f, 2.0f);
            w = pt_rand((size_t)C, 0.5f, 1.5f);
            ptensor *dinp = pt_rand(nc, -1, 1), *ddrop = q ? pt_rand(nc, -1, 1) : dinp;
            ptensor *dw = pt_rand((size_t)C, -1, 1), *db = pt_rand((size_t)C, -1, 1);
            ON_BOTH(layernorm_backward_dropout, T(dinp), T(ddrop), T(dw), T(db), T(dout), T(inp),
                    T(w), T(mean), T(rstd), N, C, p, key);
            ptensor *ln_outs[] = {dinp, dw, db, q ? ddrop : NULL, NULL};
            finish("layernorm_backward_dropout", shape, TOL_DEFAULT, ln_outs);

            for (int add_bias = 0; add_bias < 2; add_bias++) {
                char s2[120];
                snprintf(s2, sizeof s2, "%s%s", shape, add_bias ? " bias" : "");
                ptensor *g = pt_rand(nc, -1, 1), *h = pt_rand(nc, -3, 3);
                ptensor *bias = pt_rand((size_t)C, -1, 1);
                ON_BOTH(bias_gelu_dropout_forward, T(g), T(h), T(bias), N, C, add_bias, p, key);
                finish("bias_gelu_dropout_forward", s2, TOL_DEFAULT, OUTS(g, h));
            }

            ptensor *dh = pt_rand(nc, -1, 1), *dbias = pt_rand((size_t)C, -1, 1);
            ptensor *dg = pt_rand(nc, -1, 1), *h = pt_rand(nc, -3, 3);
            ON_BOTH(gelu_dropout_backward_bias, T(dh), T(dbias), T(dg), T(h), N, C, p, key);
            finish("gelu_dropout_backward_bias", shape, TOL_DEFAULT, OUTS(dh, dbias));
        }
        /* softmax cross-entropy: (N, V) = this shape, every third target ignored */
        for (int inplace = 0; inplace < 2; inplace++) {
            snprintf(shape, sizeof shape, "N=%d V=%d%s", N, C, inplace ? " inplace" : "");
            ptensor *losses = pt_rand((size_t)N, -1, 1), *logits = pt_rand(nc, -8, 8);
            ptensor *dl = inplace ? logits : pt_rand(nc, -1, 1);
            ptensor *tg = pt_ints((size_t)N, C, 3, -1);
            ON_BOTH(crossentropy_fused, T(losses), T(dl), T(logits), T(tg), N, C, -1, 1.0f / N);
            finish("crossentropy_fused", shape, TOL_DEFAULT, OUTS(losses, dl));
        }
    }
}

/* The fused qkv split with its bias, forward and backward, against the CPU's bias_add +
 * qkv_split_forward and qkv_split_backward + bias_backward (rows B*T past one chunk of 64). */
static void test_fused_qkv(void) {
    static const int shapes[][4] = {{1, 1, 1, 1}, {2, 5, 3, 4}, {3, 37, 2, 8}, {1, 130, 4, 3}};
    char shape[64];
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int B = shapes[k][0], T_ = shapes[k][1], NH = shapes[k][2], HS = shapes[k][3];
        size_t n = (size_t)B * T_ * NH * HS, cols = (size_t)3 * NH * HS;
        snprintf(shape, sizeof shape, "B=%d T=%d NH=%d HS=%d", B, T_, NH, HS);
        ptensor *q = pt_rand(n, -1, 1), *kk = pt_rand(n, -1, 1), *v = pt_rand(n, -1, 1);
        ptensor *qkv = pt_rand(3 * n, -1, 1), *bias = pt_rand(cols, -1, 1);
        ON_BOTH(bias_qkv_split_forward, T(q), T(kk), T(v), T(qkv), T(bias), B, T_, NH, HS);
        finish("bias_qkv_split_forward", shape, TOL_EXACT, OUTS(q, kk, v, qkv));
        ptensor *dqkv = pt_rand(3 * n, -1, 1), *dbias = pt_rand(cols, -1, 1);
        ptensor *dq = pt_rand(n, -1, 1), *dk = pt_rand(n, -1, 1), *dv = pt_rand(n, -1, 1);
        ON_BOTH(qkv_split_backward_bias, T(dqkv), T(dbias), T(dq), T(dk), T(dv), B, T_, NH, HS);
        finish("qkv_split_backward_bias", shape, TOL_DEFAULT, OUTS(dqkv, dbias));
    }
}

/* Reductions: a different (fixed) summation order in float with compensation against the
 * CPU's double sums: relative error ~1e-7, NMSE ~1e-14. */
static void test_reduce_optim(void) {
    static const size_t sizes[] = {1, 3, 17, 255, 100003};
    char shape[64];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        snprintf(shape, sizeof shape, "%zu", n);
        ptensor *x = pt_rand(n, -1, 1), *out = pt_rand(1, -1, 1);
        ON_BOTH(sum, T(out), T(x), n);
        finish("sum", shape, TOL_DEFAULT, OUTS(out));
        x = pt_rand(n, -1, 1), out = pt_rand(1, -1, 1);
        ON_BOTH(sum_squares, T(out), T(x), n);
        finish("sum_squares", shape, TOL_DEFAULT, OUTS(out));
        for (int t = 1; t <= 7; t += 6) {
            char s2[80];
            snprintf(s2, sizeof s2, "%zu t=%d", n, t);
            ptensor *p = pt_rand(n, -1, 1), *g = pt_rand(n, -1, 1);
            ptensor *m = pt_rand(n, -0.1f, 0.1f), *v = pt_rand(n, 0, 0.01f);
            ptensor *gate = pt_new(2, (float[]){0.7f, 0.0f});
            ON_BOTH(adamw, T(p), T(g), T(m), T(v), T(gate), n, 1e-3, 0.9, 0.95, 1e-8, 0.1, t);
            finish("adamw", s2, TOL_DEFAULT, OUTS(p, m, v, g));
        }
    }
}

/* The step's device gate and the AdamW that reads it: clipping active (the norm above the
 * clip), inactive, and a non-finite loss or gradient, where AdamW must leave parameters and
 * moments untouched and still zero the gradient. The norm is compared only where finite. */
static void test_grad_gate(void) {
    static const struct {
        const char *name;
        float loss_sum, sumsq;
        double clip;
    } cases_[] = {{"clipping", 2.5f, 37.0f, 1.0},
                  {"no clipping", 2.5f, 0.25f, 1.0},
                  {"nan loss", NAN, 4.0f, 1.0},
                  {"inf gradient", 1.0f, INFINITY, 1.0},
                  {"nan gradient", 1.0f, NAN, 1.0}};
    for (size_t k = 0; k < sizeof cases_ / sizeof cases_[0]; k++) {
        int finite = isfinite(cases_[k].loss_sum) && isfinite(cases_[k].sumsq);
        ptensor *sums = pt_new(2, (float[]){cases_[k].loss_sum, cases_[k].sumsq});
        ptensor *gate = pt_rand(2, -1, 1), *norm = pt_rand(1, -1, 1);
        ON_BOTH(grad_gate, T(gate), T(norm), T(sums), cases_[k].clip);
        if (finite)
            finish("grad_gate", cases_[k].name, 1e-12, OUTS(gate, norm));
        else
            finish("grad_gate", cases_[k].name, TOL_EXACT, OUTS(gate));
        /* the same gate driving AdamW over a gradient with a NaN when the step is skipped */
        size_t n = 1000;
        ptensor *p = pt_rand(n, -1, 1), *g = pt_rand(n, -1, 1);
        ptensor *m = pt_rand(n, -0.1f, 0.1f), *v = pt_rand(n, 0, 0.01f);
        ptensor *sums2 = pt_new(2, (float[]){cases_[k].loss_sum, cases_[k].sumsq});
        ptensor *gate2 = pt_rand(2, -1, 1), *norm2 = pt_rand(1, -1, 1);
        if (!finite) {
            float bad = NAN;
            for (int s = 0; s < 2; s++)
                be_pair[s]->iface->upload(be_pair[s], ts_view(g->t[s], 17), &bad, 4);
        }
        ON_BOTH(grad_gate, T(gate2), T(norm2), T(sums2), cases_[k].clip);
        ON_BOTH(adamw, T(p), T(g), T(m), T(v), T(gate2), n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 3);
        char shape[80];
        snprintf(shape, sizeof shape, "gated by %s", cases_[k].name);
        finish("adamw", shape, finite ? TOL_DEFAULT : TOL_EXACT, OUTS(p, m, v, g));
    }
}

/* ---- main ------------------------------------------------------------------------------- */

static int required(const char *name) {
    const char *req = getenv("TS_REQUIRE_BACKENDS");
    if (!req) return 0;
    size_t n = strlen(name);
    for (const char *p = req; (p = strstr(p, name)) != NULL; p += n)
        if ((p == req || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return 1;
    return 0;
}

/* The CPU reference on a slice (offset, span, stride) keeps exactly the elements the whole
 * tensor keeps at the slice's global positions: what makes a data-parallel rank's masks the
 * single-process run's. */
static void test_dropout_slices(ts_backend *cpu) {
    enum { ROWS = 7, GLOBAL_ROW = 45, ALL = ROWS * GLOBAL_ROW };
    static const struct {
        uint64_t offset;
        uint32_t span, stride, n;
    } sl[] = {{0, 0, 0, ALL},
              {1, 0, 0, 200},
              {6, 0, 0, 150},
              {8, 0, 0, 5},
              {13, 11, GLOBAL_ROW, 11 * ROWS},
              {30, 15, GLOBAL_ROW, 15 * 6 + 4}};
    ts_buffer *whole = NULL, *part = NULL;
    float ones[ALL], w[ALL], got[ALL];
    for (int i = 0; i < ALL; i++)
        ones[i] = 1.0f;
    int bad = 0;
    if (ts_buffer_alloc(cpu, sizeof ones, &whole) != TS_OK ||
        ts_buffer_alloc(cpu, sizeof ones, &part) != TS_OK)
        bad = 1;
    ts_dropout_key k0 = {99, 5, 23, 0, 0, 0};
    ts_tensor tw = {whole, 0}, tp = {part, 0};
    if (!bad) {
        cpu->iface->upload(cpu, tw, ones, sizeof ones);
        cpu->iface->dropout_forward(cpu, tw, tw, ALL, 0.3f, k0);
        bad = cpu->iface->download(cpu, w, tw, sizeof w) != TS_OK;
    }
    for (size_t q = 0; !bad && q < sizeof sl / sizeof sl[0]; q++) {
        ts_dropout_key k = k0;
        k.offset = sl[q].offset, k.span = sl[q].span, k.stride = sl[q].stride;
        cpu->iface->upload(cpu, tp, ones, sizeof ones);
        cpu->iface->dropout_forward(cpu, tp, tp, sl[q].n, 0.3f, k);
        if (cpu->iface->download(cpu, got, tp, sl[q].n * sizeof *got) != TS_OK) bad = 1;
        for (uint32_t i = 0; !bad && i < sl[q].n; i++) {
            uint64_t g =
                k.span ? k.offset + (uint64_t)(i / k.span) * k.stride + i % k.span : k.offset + i;
            if (got[i] != w[g]) {
                printf("FAIL dropout slice %zu: element %u is %g, the whole's %llu is %g\n", q, i,
                       (double)got[i], (unsigned long long)g, (double)w[g]);
                bad = 1;
            }
        }
    }
    cases++;
    if (bad) {
        failures++;
        printf("FAIL dropout slices (cpu) %s\n", cpu->error != TS_OK ? ts_last_error() : "");
    } else {
        printf("ok   dropout slices match the whole tensor (cpu)\n");
    }
    ts_buffer_free(cpu, whole);
    ts_buffer_free(cpu, part);
}

/* A CPU tensor of n floats, random in [lo, hi) (lo == hi: zeros). */
static ts_tensor cpu_tensor(ts_backend *cpu, size_t n, float lo, float hi, ts_buffer **keep) {
    float *h = calloc(n, sizeof *h);
    for (size_t i = 0; lo != hi && i < n; i++)
        h[i] = lo + (hi - lo) * ts_rng_uniform(&rng);
    ts_tensor t = {NULL, 0};
    if (h && ts_buffer_alloc(cpu, n * 4, keep) == TS_OK) {
        t.buf = *keep;
        cpu->iface->upload(cpu, t, h, n * 4);
    }
    free(h);
    return t;
}

static double cpu_nmse(ts_backend *cpu, ts_tensor a, ts_tensor b, size_t n) {
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double num = 0, den = 0;
    if (x && y && cpu->iface->download(cpu, x, a, n * 4) == TS_OK &&
        cpu->iface->download(cpu, y, b, n * 4) == TS_OK) {
        for (size_t i = 0; i < n; i++) {
            num += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
            den += (double)y[i] * y[i];
        }
    } else {
        num = INFINITY;
    }
    free(x);
    free(y);
    return den > 0 ? num / den : num;
}

/* The fused attention equals the unfused reference on the CPU (gemm, softmax_causal, dropout,
 * gemm, and their backwards, the Transformer's path before the fused op), masks included. */
static void test_fused_matches_unfused(ts_backend *cpu) {
    static const struct {
        int BH, T, HS;
        float p;
    } cs[] = {{2, 37, 8, 0.0f}, {3, 45, 32, 0.1f}, {2, 64, 64, 0.1f}, {1, 7, 3, 0.5f}};
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        int BH = cs[c].BH, T_ = cs[c].T, HS = cs[c].HS;
        float p = cs[c].p, scale = 1.0f / sqrtf((float)HS);
        size_t n = (size_t)BH * T_ * HS, rows = (size_t)BH * T_, maps = rows * T_;
        long sh = (long)T_ * HS, sm = (long)T_ * T_;
        ts_dropout_key key = {5, 9, 17, 0, 0, 0};
        ts_buffer *b[16] = {0};
        int nb = 0;
        ts_tensor q = cpu_tensor(cpu, n, -2, 2, &b[nb++]), k = cpu_tensor(cpu, n, -2, 2, &b[nb++]);
        ts_tensor v = cpu_tensor(cpu, n, -1, 1, &b[nb++]), dy = cpu_tensor(cpu, n, -1, 1, &b[nb++]);
        ts_tensor out = cpu_tensor(cpu, n, 0, 0, &b[nb++]),
                  lse = cpu_tensor(cpu, rows, 0, 0, &b[nb++]);
        ts_tensor dq = cpu_tensor(cpu, n, 0, 0, &b[nb++]), dk = cpu_tensor(cpu, n, 0, 0, &b[nb++]);
        ts_tensor dv = cpu_tensor(cpu, n, 0, 0, &b[nb++]),
                  delta = cpu_tensor(cpu, rows, 0, 0, &b[nb++]);
        ts_tensor att = cpu_tensor(cpu, maps, 0, 0, &b[nb++]),
                  attd = cpu_tensor(cpu, maps, 0, 0, &b[nb++]);
        ts_tensor dmap = cpu_tensor(cpu, maps, 0, 0, &b[nb++]),
                  ref = cpu_tensor(cpu, n, 0, 0, &b[nb++]);
        ts_tensor rq = cpu_tensor(cpu, n, 0, 0, &b[nb++]), rk = cpu_tensor(cpu, n, 0, 0, &b[nb++]);
        const ts_backend_iface *op = cpu->iface;
        op->attention_forward(cpu, out, lse, q, k, v, BH, T_, HS, scale, p, key);
        op->attention_backward(cpu, dq, dk, dv, delta, dy, out, q, k, v, lse, BH, T_, HS, scale, p,
                               key);
        /* the reference, unfused; rq holds dv's reference first */
        op->gemm(cpu, 0, 1, T_, T_, HS, 1.0f, q, HS, sh, k, HS, sh, 0.0f, dmap, T_, sm, BH);
        op->softmax_causal_forward(cpu, att, dmap, BH, T_, scale);
        op->dropout_forward(cpu, attd, att, maps, p, key);
        op->gemm(cpu, 0, 0, T_, HS, T_, 1.0f, attd, T_, sm, v, HS, sh, 0.0f, ref, HS, sh, BH);
        double e_out = cpu_nmse(cpu, out, ref, n);
        op->gemm(cpu, 1, 0, T_, HS, T_, 1.0f, attd, T_, sm, dy, HS, sh, 0.0f, rq, HS, sh, BH);
        double e_dv = cpu_nmse(cpu, dv, rq, n);
        op->gemm(cpu, 0, 1, T_, T_, HS, 1.0f, dy, HS, sh, v, HS, sh, 0.0f, dmap, T_, sm, BH);
        op->dropout_backward(cpu, dmap, dmap, maps, p, key);
        op->softmax_causal_backward(cpu, attd, dmap, att, BH, T_, scale); /* attd: dpre */
        op->gemm(cpu, 0, 0, T_, HS, T_, 1.0f, attd, T_, sm, k, HS, sh, 0.0f, rq, HS, sh, BH);
        op->gemm(cpu, 1, 0, T_, HS, T_, 1.0f, attd, T_, sm, q, HS, sh, 0.0f, rk, HS, sh, BH);
        double e_dq = cpu_nmse(cpu, dq, rq, n), e_dk = cpu_nmse(cpu, dk, rk, n);
        double worst = fmax(fmax(e_out, e_dv), fmax(e_dq, e_dk));
        cases++;
        if (ts_backend_sync(cpu) != TS_OK || !(worst <= TOL_DEFAULT)) {
            failures++;
            printf("FAIL fused attention vs unfused (cpu) BH=%d T=%d HS=%d p=%g: nmse out %.2g "
                   "dq %.2g dk %.2g dv %.2g %s\n",
                   BH, T_, HS, (double)p, e_out, e_dq, e_dk, e_dv,
                   cpu->error != TS_OK ? ts_last_error() : "");
        } else {
            printf("ok   fused attention vs unfused (cpu) BH=%d T=%d HS=%d p=%g nmse=%.2g\n", BH,
                   T_, HS, (double)p, worst);
        }
        for (int i = 0; i < nb; i++)
            ts_buffer_free(cpu, b[i]);
    }
}

/* Launches the device under test needs for linear_bias_forward (rows x in x out): one where
 * its plan runs the product with the tiled kernel in one launch (the epilogue rides in it),
 * else the gemm's (two for split-K: partials and their sum) and the bias op's; the cpu counts
 * one per op. */
static unsigned long linear_bias_launches(int rows, int in, int out) {
    ts_gemm_plan *plan = ts_gemm_plan_of(be_pair[DUT]);
    if (!plan) return 1;
    ts_gemm_choice c = ts_gemm_pick(plan, rows, out, in, 1);
    if (c.kernel != TS_GEMM_TILED) return 2;
    return ts_gemm_splits(&c, in) == 1 ? 1 : 3;
}

/* linear_bias_forward against the cpu's gemm + bias_add / bias_gelu_dropout_forward: h and g,
 * and the number of launches it took (so an epilogue that silently fell back fails). */
static void linear_bias_case(int rows, int in, int out, int gelu, float p, int slice, int aligned) {
    ts_dropout_key key = {0x5eed0123ull + (uint64_t)rows, 7u, 40u, 0, 0, 0};
    if (slice) { /* a rank's rows of a wider tensor, as data parallelism keys them */
        key.offset = 3 * (uint64_t)out;
        key.span = (uint32_t)out;
        key.stride = 2 * (uint32_t)out;
    }
    size_t pad = aligned ? 3 : 0; /* GUARD + 3: offsets on 4 floats (the float4 loads) */
    ptensor *inp = pt_rand(pad + (size_t)rows * in, -1, 1);
    ptensor *W = pt_rand(pad + (size_t)out * in, -1, 1);
    ptensor *bias = pt_rand((size_t)out, -1, 1), *h = pt_rand((size_t)rows * out, -1, 1);
    ptensor *g = pt_rand((size_t)rows * out, -1, 1);
    unsigned long before = be_pair[DUT]->dispatches;
    ON_BOTH(linear_bias_forward, T(h), T(g), ts_view(T(inp), pad), ts_view(T(W), pad), T(bias),
            rows, in, out, gelu, p, key);
    unsigned long took = be_pair[DUT]->dispatches - before,
                  want = linear_bias_launches(rows, in, out);
    char shape[128];
    snprintf(shape, sizeof shape, "%dx%dx%d%s p=%g%s%s", rows, in, out, gelu ? " gelu" : "",
             (double)p, slice ? " slice" : "", aligned ? " aligned" : "");
    if (took != want && !case_error[0])
        snprintf(case_error, sizeof case_error, "%lu launches, expected %lu", took, want);
    finish("linear_bias_forward", shape, TOL_DEFAULT, OUTS(h, g));
}

/* The shapes: odd sizes, one past a 64 x 64 tile with aligned views, and a deep K that a
 * forced split-K takes out of the epilogue (gemm, then the bias op). */
static void test_linear_bias(void) {
    static const int shapes[][3] = {
        {1, 1, 1}, {3, 17, 5}, {17, 33, 65}, {130, 64, 72}, {5, 300, 7}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int rows = shapes[k][0], in = shapes[k][1], out = shapes[k][2];
        linear_bias_case(rows, in, out, 0, 0.0f, 0, k == 3);
        linear_bias_case(rows, in, out, 1, 0.0f, 0, 0);
        linear_bias_case(rows, in, out, 1, 0.25f, 0, k == 3);
        linear_bias_case(rows, in, out, 1, 0.25f, 1, 0);
    }
}

/*
 * Every configuration the GEMM tuner can choose (gemm_plan.h: each tile of ts_gemm_tiles with
 * each split-K factor) forced on the backend under test: the whole GEMM set without a split,
 * and with each split the deep-K products it is for (transposes, beta over NaN, accumulate,
 * padding, batches, odd sizes).
 */
static void test_gemm_tiles(void) {
    ts_gemm_plan *plan = ts_gemm_plan_of(be_pair[DUT]);
    if (!plan) return;
    for (int t = 0; t < TS_GEMM_TILES; t++)
        for (int s = 0; s < TS_GEMM_SPLITS; s++) {
            const ts_gemm_tile *g = &ts_gemm_tiles[t];
            int split = ts_gemm_split_choices[s];
            printf("# %s: tiled gemm, tile %d (%dx%d items, %dx%d block, k %d), split %d\n",
                   dut_name, t, g->wgn, g->wgm, g->tn, g->tm, g->tk, split);
            plan->forced = 1;
            plan->force = (ts_gemm_choice){TS_GEMM_TILED, t, split, 0};
            test_linear_bias(); /* the epilogue (gemm_epilogue.h) under every choice */
            if (split == 1) {
                test_gemm();
            } else {
                for (int tt = 0; tt < 4; tt++)
                    gemm_case(tt >> 1, tt & 1, 5, 7, 301, 0, 1, 1.0f, 0.0f, 1);
                gemm_case(0, 1, 17, 33, 260, 3, 1, 0.5f, 1.0f, 0);
                gemm_case(1, 0, 9, 68, 388, 4, 3, 1.0f, 0.25f, 0);
                gemm_case(0, 0, 64, 64, 1024, 0, 1, 1.0f, 0.0f, 0);
            }
        }
    plan->forced = 0;
}

/*
 * Every built-in variant the tuner can choose on the backend under test (Vulkan on CPU devices:
 * gemm_direct4's register blocks; CLBlast's sets have test_clblast_sets) forced in turn: the
 * whole GEMM set (odd sizes take the scalar shader), then aligned products, where the forced
 * variant itself must run: all transposes, partial edge blocks of every block shape, beta over
 * old C, alpha, padding, batches.
 */
static void test_gemm_variants(void) {
    ts_gemm_plan *plan = ts_gemm_plan_of(be_pair[DUT]);
    if (!plan || !plan->variants || plan->variants_exclusive) return;
    for (int v = 0; v < TS_GEMM_VARIANTS_MAX; v++) {
        if (v > 0 && !(plan->variants >> (v - 1) & 1)) continue;
        printf("# %s: built-in gemm variant %d\n", dut_name, v);
        plan->forced = 1;
        plan->force = (ts_gemm_choice){TS_GEMM_BUILTIN, 0, 1, v};
        test_gemm();
        gemm_shift = 3;
        gemm_want_variant = v;
        for (int t = 0; t < 4; t++) {
            gemm_case(t >> 1, t & 1, 68, 36, 12, 4, 3, 0.5f, 1.0f, 0);
            gemm_case(t >> 1, t & 1, 20, 140, 36, 0, 1, 1.0f, 0.0f, 1);
            gemm_case(t >> 1, t & 1, 36, 260, 8, 8, 2, 1.0f, 0.5f, 0);
            gemm_case(t >> 1, t & 1, 4, 4, 4, 0, 1, 1.0f, 0.0f, 0);
        }
        gemm_shift = 0;
        gemm_want_variant = -1;
    }
    plan->forced = 0;
}

static void run_cases(void) {
    test_elementwise();
    test_gemm();
    test_bias();
    test_embedding();
    test_layernorm();
    test_attention();
    test_attention_fused();
    test_lstm();
    test_lstm_step();
    test_lstm_sequence();
    test_lstm_persistent_refusals();
    test_lstm_split();
    test_loss();
    test_fused();
    test_fused_qkv();
    test_linear_bias();
    test_reduce_optim();
    test_grad_gate();
}

static void recreate_dut(void) {
    ts_backend_destroy(be_pair[DUT]);
    ts_backend_options od = {0};
    if (ts_backend_create(dut_name, &od, &be_pair[DUT]) != TS_OK) {
        printf("FAIL cannot recreate backend %s: %s\n", dut_name, ts_last_error());
        exit(1);
    }
}

/*
 * Vulkan: a storage-buffer binding may span only maxStorageBufferRange bytes (128 MiB on
 * lavapipe, 4 GiB on NVIDIA), and a grid dimension only so many work-groups. Binding a big
 * buffer whole made every view past the span wrong (transformer-20M's 5 GiB of activations on
 * an H200). Here the backend is made to act on a 1 MiB span and 71-group grids, and every case
 * runs again on tensors placed past 1 MiB into their buffers; then one view past lavapipe's
 * real 128 MiB, and a single view over the span, which must be an error, never a wrong result.
 */
static void test_far_views(void) {
    setenv("TUNESCALE_VK_MAX_RANGE", "1048576", 1);
    setenv("TUNESCALE_VK_MAX_GROUPS", "71", 1);
    recreate_dut();
    far_pad = (1u << 18) + 5;
    printf("# %s: again with views past 1 MiB into their buffers, 1 MiB spans, 71-group grids\n",
           dut_name);
    run_cases();

    far_pad = (1u << 25) + 5; /* 128 MiB and 20 bytes */
    ptensor *a = pt_rand(1000, -1, 1), *b = pt_rand(1000, -1, 1), *out = pt_rand(1000, -1, 1);
    ON_BOTH(add, T(out), T(a), T(b), 1000);
    finish("add past 128 MiB", "1000", TOL_EXACT, OUTS(out));
    far_pad = 0;

    /* one view of 2^18 + 1 floats: over the 1 MiB span */
    size_t n = (1u << 18) + 1;
    ts_backend *be = be_pair[DUT];
    ts_buffer *buf = NULL;
    cases++;
    ts_status st = ts_buffer_alloc(be, n * 4, &buf);
    if (st == TS_OK) {
        be->iface->scale(be, (ts_tensor){buf, 0}, 2.0f, n);
        st = ts_backend_sync(be);
    }
    if (st != TS_OK && strstr(ts_last_error(), "maxStorageBufferRange")) {
        printf("ok   scale over the span %s: error: %s\n", dut_name, ts_last_error());
    } else {
        failures++;
        printf("FAIL scale over the span %s: %s\n", dut_name,
               st == TS_OK ? "no error" : ts_last_error());
    }
    ts_buffer_free(be, buf);
    unsetenv("TUNESCALE_VK_MAX_RANGE");
    unsetenv("TUNESCALE_VK_MAX_GROUPS");
    recreate_dut();
}

/*
 * The per-buffer cap lowered to 64 KiB (TUNESCALE_MAX_BUFFER_BYTES): every GEMM case fits it,
 * but OpenCL now issues each batched product in groups whose padded CLBlast temporaries fit
 * one buffer (here one entry per call), which must not change a result.
 */
static void test_capped_buffers(void) {
    setenv("TUNESCALE_MAX_BUFFER_BYTES", "65536", 1);
    recreate_dut();
    printf("# %s: gemm again with 64 KiB buffers (batched products issued in groups)\n", dut_name);
    test_gemm();
    unsetenv("TUNESCALE_MAX_BUFFER_BYTES");
    recreate_dut();
}

int main(void) {
    ts_backend_options o = {0};
    o.threads = 2;
    /* Vulkan: run under the Khronos validation layer when it is installed; the backend then
     * records every validation message as an error, so any message fails a case. */
    setenv("TUNESCALE_VK_VALIDATION", "1", 0);
    if (ts_backend_create("cpu", &o, &be_pair[REF]) != TS_OK) {
        printf("FAIL cannot create the cpu backend: %s\n", ts_last_error());
        return 1;
    }
    test_dropout_slices(be_pair[REF]);
    ts_rng_init(&rng, 20240602, 99);
    test_fused_matches_unfused(be_pair[REF]);
    /* Each backend of the registry against the cpu; with none here, a second cpu (1 thread)
     * stands in, so the cases and the coverage check still run. */
    int duts = 0;
    for (int k = 0; k <= ts_backend_registry_count; k++) {
        int stand_in = k == ts_backend_registry_count;
        if (stand_in && duts) break;
        dut_name = stand_in ? "cpu" : ts_backend_registry[k].name;
        if (!stand_in && !strcmp(dut_name, "cpu")) continue; /* the reference */
        ts_backend_options od = {0};
        od.threads = 1;
        if (ts_backend_create(dut_name, &od, &be_pair[DUT]) != TS_OK) {
            printf("skipped: %s: %s\n", dut_name, ts_last_error());
            if (required(dut_name)) failures++;
            continue;
        }
        ts_device_info info;
        be_pair[DUT]->iface->device_info(be_pair[DUT], &info);
        printf("# %s: %s (%s)\n", dut_name, info.name, info.driver);
        clock_t t0 = clock();
        ts_rng_init(&rng, 20240601, (uint32_t)duts++);
        run_cases();
        test_gemm_deep_k();
        if (!strcmp(dut_name, "vulkan")) test_far_views();
        test_capped_buffers();
        test_gemm_tiles();
        test_gemm_variants();
        printf("# %s: %d cases, %.1f s cpu time\n", dut_name, cases,
               (double)(clock() - t0) / CLOCKS_PER_SEC);
        ts_backend_destroy(be_pair[DUT]);
    }
    for (int i = 0; i < N_OPS; i++) {
        if (op_ran[i]) continue;
        if (all_ops[i].exempt) {
            printf("ok   coverage: %s has no parity case: %s\n", all_ops[i].name,
                   all_ops[i].exempt);
        } else {
            failures++;
            printf("FAIL coverage: op %s of backends/ops.def has no parity case\n",
                   all_ops[i].name);
        }
    }
    ts_backend_destroy(be_pair[REF]);
    printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
