/*
 * test_infer.c — incremental decoding against the full forward, and sampling with the cache
 * against sampling without it, on every backend that is available.
 *
 *   (b) Transformer: logits from the key/value cache, fed one token at a time (and after a
 *       prefill chunk), match ts_model_forward's logits at every position to 1e-5 of the
 *       largest logit (CPU) or 1e-4 (other backends: their kernels round differently).
 *   (c) LSTM: logits from the carried (h, c) state match the full forward the same way.
 *   (a) With the same seed, sampling with the cache draws exactly the tokens that recomputing
 *       the window draws, including across window moves (half and slide policies), for both
 *       families; and the same seed twice gives the same sample, another seed another one.
 *
 * A backend that cannot be created is skipped unless TS_REQUIRE_BACKENDS names it.
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

#include "backends/registry.h"
#include "gen/sample.h"
#include "model/infer.h"
#include "util/philox.h"

static int required(const char *name) {
    const char *req = getenv("TS_REQUIRE_BACKENDS");
    if (!req) return 0;
    size_t n = strlen(name);
    for (const char *p = req; (p = strstr(p, name)) != NULL; p += n)
        if ((p == req || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return 1;
    return 0;
}

static ts_model_config tf_config(void) {
    ts_model_config c = {"transformer-test", TS_TRANSFORMER, 30, 32, 2, 4, 64, 48, 0.1f};
    return c;
}

static ts_model_config lstm_config(void) {
    ts_model_config c = {"lstm-test", TS_LSTM, 30, 24, 2, 0, 0, 0, 0.1f};
    return c;
}

/* A model with weights scaled up from the notebook's init, so attention is far from uniform
 * and a wrong key or position would show in the logits. */
static ts_model *make_model(ts_backend *be, const ts_model_config *c) {
    ts_model *m = NULL;
    assert_int_equal(ts_model_create(c, be, &m), TS_OK);
    assert_int_equal(ts_model_init_params(m, 7), TS_OK);
    float *w = malloc(m->n_params * sizeof *w);
    assert_non_null(w);
    assert_int_equal(ts_model_get_params(m, w), TS_OK);
    for (size_t i = 0; i < m->n_params; i++)
        w[i] *= 6.0f;
    assert_int_equal(ts_model_set_params(m, w), TS_OK);
    free(w);
    return m;
}

static void random_ids(int32_t *ids, int n, int V, uint32_t stream) {
    ts_rng r;
    ts_rng_init(&r, 11, stream);
    for (int i = 0; i < n; i++)
        ids[i] = (int32_t)ts_rng_below(&r, (uint32_t)V);
}

static double max_abs_diff(const float *a, const float *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

/* Feeds ids[0..T) as a prefill of `chunk` tokens then one at a time, and compares each
 * position's logits with the full forward's on ref_be (the same backend, or the CPU). */
static void check_against_forward(ts_backend *be, ts_backend *ref_be, const ts_model_config *c,
                                  int T, int chunk, double tol) {
    ts_model *m = make_model(be, c), *mr = make_model(ref_be, c);
    int V = c->vocab_size;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    float *ref = malloc((size_t)T * V * sizeof *ref), *got = malloc((size_t)V * sizeof *got);
    assert_true(ids && ref && got);
    random_ids(ids, T, V, 1);
    assert_int_equal(ts_model_reserve(mr, 1, T), TS_OK);
    assert_int_equal(ts_model_forward(mr, ids, NULL, 1, T, 0, 0, 0), TS_OK);
    assert_int_equal(ts_model_logits(mr, ref), TS_OK);
    ts_model_free(mr);
    ts_infer *s = NULL;
    assert_int_equal(ts_infer_create(m, &s), TS_OK);
    double worst = 0, big = 0;
    for (int i = 0; i < T * V; i++)
        big = fmax(big, fabs(ref[i]));
    double scale = fmax(big, 1.0);         /* errors are relative to the largest logit (or to 1) */
    for (int pass = 0; pass < 2; pass++) { /* twice: the reset must forget everything */
        ts_infer_reset(s);
        assert_int_equal(ts_infer_feed(s, ids, chunk, got), TS_OK);
        worst = fmax(worst, max_abs_diff(got, ref + (size_t)(chunk - 1) * V, V));
        for (int t = chunk; t < T; t++) {
            assert_int_equal(ts_infer_feed(s, ids + t, 1, got), TS_OK);
            double d = max_abs_diff(got, ref + (size_t)t * V, V);
            if (d > tol * scale) printf("  position %d: max |diff| %.3g\n", t, d);
            worst = fmax(worst, d);
        }
        assert_int_equal(ts_infer_len(s), T);
    }
    printf("# %s on %s, prefill %d then steps to %d, against the full forward on %s: "
           "max |logit diff| %.3g (logits up to %.3g)\n",
           c->name, be->iface->name, chunk, T, ref_be->iface->name, worst, big);
    assert_true(worst <= tol * scale);
    assert_true(big > 0.1); /* the comparison is not between near-zero numbers */
    ts_infer_free(s);
    ts_model_free(m);
    free(ids);
    free(ref);
    free(got);
}

static int sample(ts_infer *s, const ts_sample_options *o, uint32_t index, int32_t *out, int cap,
                  const char **stop) {
    int32_t sos = 2;
    ts_sample r;
    assert_int_equal(ts_sample_run(s, &sos, 1, index, 5, o, &r), TS_OK);
    assert_true(r.n_tokens <= cap);
    memcpy(out, r.tokens, (size_t)r.n_tokens * sizeof *out);
    int n = r.n_tokens;
    if (stop) *stop = r.stop;
    ts_sample_free(&r);
    return n;
}

/* (a): the cache changes nothing but the speed. */
static void check_cache_sampling(ts_backend *be, const ts_model_config *c) {
    ts_model *m = make_model(be, c);
    ts_infer *s = NULL;
    assert_int_equal(ts_infer_create(m, &s), TS_OK);
    /* device backends on a CPU (PoCL, lavapipe) pay per dispatch: shorter samples there */
    int cpu = !strcmp(be->iface->name, "cpu");
    enum { CAP = 121 };
    int LEN = cpu ? 120 : 48;
    int32_t a[CAP] = {0}, b[CAP] = {0};
    for (int policy = 0; policy < 2; policy++) {
        ts_sample_options o;
        ts_sample_options_default(&o);
        o.max_len = LEN;
        o.temperature = 1.0f;
        o.top_k = 20;
        o.blank_lines = 0; /* run to max_len so the window moves several times */
        o.stop_at_eos = 0;
        o.context = cpu ? 40 : 16;
        o.window = policy ? TS_WINDOW_SLIDE : TS_WINDOW_HALF;
        o.seed = 1234;
        for (uint32_t index = cpu ? 0 : 1; index < 2; index++) {
            o.use_cache = 0;
            int na = sample(s, &o, index, a, CAP, NULL);
            o.use_cache = 1;
            int nb = sample(s, &o, index, b, CAP, NULL);
            assert_int_equal(na, LEN + 1);
            assert_int_equal(nb, na);
            int same = 0;
            while (same < na && a[same] == b[same])
                same++;
            if (same != na) printf("  first difference at token %d of %d\n", same, na);
            assert_int_equal(same, na);
        }
        /* same seed and index: the same sample; another seed: another sample */
        int nc = sample(s, &o, 1, a, CAP, NULL);
        assert_int_equal(nc, LEN + 1);
        assert_memory_equal(a, b, (size_t)nc * sizeof *a);
        o.seed = 99;
        sample(s, &o, 1, a, CAP, NULL);
        assert_memory_not_equal(a, b, (size_t)nc * sizeof *a);
    }
    printf("# %s on %s: cached and recomputed samples identical (half and slide windows)\n",
           c->name, be->iface->name);
    ts_infer_free(s);
    ts_model_free(m);
}

static void test_backends(void **state) {
    (void)state;
    int ran = 0;
    ts_backend *cpu = NULL;
    ts_backend_options co = {0};
    co.threads = 2;
    assert_int_equal(ts_backend_create("cpu", &co, &cpu), TS_OK);
    for (int k = 0; k < ts_backend_registry_count; k++) {
        const char *name = ts_backend_registry[k].name;
        ts_backend_options bo = {0};
        bo.threads = 2;
        ts_backend *be = NULL;
        if (ts_backend_create(name, &bo, &be) != TS_OK) {
            printf("skipped: %s: %s\n", name, ts_last_error());
            assert_false(required(name));
            continue;
        }
        double tol = k == 0 ? 1e-5 : 1e-4;
        ts_model_config tf = tf_config(), ls = lstm_config();
        check_against_forward(be, be, &tf, 48, 1, tol);
        check_against_forward(be, be, &tf, 48, 17, tol);
        check_against_forward(be, be, &ls, 40, 1, tol);
        check_against_forward(be, be, &ls, 80, 9, tol); /* 80: past one chunk of the LSTM */
        if (k > 0) {                                    /* and against the CPU reference */
            check_against_forward(be, cpu, &tf, 48, 5, 1e-4);
            check_against_forward(be, cpu, &ls, 40, 5, 1e-4);
        }
        check_cache_sampling(be, &tf);
        check_cache_sampling(be, &ls);
        ts_backend_destroy(be);
        ran++;
    }
    ts_backend_destroy(cpu);
    assert_true(ran >= 1);
}

/* Feeding past the Transformer's positions is an error, not a silent wrap. */
static void test_capacity(void **state) {
    (void)state;
    ts_backend *be = NULL;
    ts_backend_options bo = {0};
    assert_int_equal(ts_backend_create("cpu", &bo, &be), TS_OK);
    ts_model_config c = tf_config();
    ts_model *m = make_model(be, &c);
    ts_infer *s = NULL;
    assert_int_equal(ts_infer_create(m, &s), TS_OK);
    assert_int_equal(ts_infer_capacity(s), 48);
    int32_t ids[49] = {0};
    assert_int_equal(ts_infer_feed(s, ids, 48, NULL), TS_OK);
    assert_int_not_equal(ts_infer_feed(s, ids, 1, NULL), TS_OK);
    ts_infer_reset(s);
    assert_int_not_equal(ts_infer_feed(s, ids, 49, NULL), TS_OK);
    ids[0] = 30; /* outside the vocabulary */
    assert_int_not_equal(ts_infer_feed(s, ids, 1, NULL), TS_OK);
    ts_infer_free(s);
    ts_model_free(m);
    ts_backend_destroy(be);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_backends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
