/*
 * test_train_step.c — the one training step (src/train/step.c) on the CPU backend: it is,
 * bit for bit, the sequence the notebook's loop runs (forward, backward, clip_grad_norm_ to the
 * clip, AdamW with betas (0.9, 0.999), eps 1e-8, weight decay 0.01) written out here by hand,
 * for a Transformer and an LSTM over several steps; and a step whose loss is not finite leaves
 * the parameters exactly as they were and says it skipped; steps run one ahead of their
 * readback give the same results.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/backend.h"
#include "model/model.h"
#include "train/step.h"
#include "util/philox.h"

enum { B = 3, T = 8, V = 20, STEPS = 4 };

typedef struct {
    ts_backend *be;
    ts_model *m;
} fixture;

static void make_on(fixture *f, const char *name, const char *backend) {
    ts_model_config cfg;
    assert_int_equal(ts_model_config_lookup(name, &cfg), TS_OK);
    cfg.vocab_size = V;
    cfg.dropout = 0.1f; /* masks from the step's seed and number */
    ts_backend_options bo = {0, 1, 0, TS_PREC_FP32};
    assert_int_equal(ts_backend_create(backend, &bo, &f->be), TS_OK);
    assert_int_equal(ts_model_create(&cfg, f->be, &f->m), TS_OK);
    assert_int_equal(ts_model_reserve(f->m, B, T), TS_OK);
    assert_int_equal(ts_model_init_params(f->m, 7), TS_OK);
}

static void make(fixture *f, const char *name) {
    make_on(f, name, "cpu");
}

static void drop(fixture *f) {
    ts_model_free(f->m);
    ts_backend_destroy(f->be);
}

static void batch(ts_rng *rng, int32_t *x, int32_t *y) {
    for (int i = 0; i < B * T; i++) {
        x[i] = 4 + (int32_t)ts_rng_below(rng, V - 4);
        y[i] = i % 7 ? 4 + (int32_t)ts_rng_below(rng, V - 4) : 0; /* some <PAD> targets */
    }
}

static void same_as_written_out(const char *name) {
    fixture a, b;
    make(&a, name);
    make(&b, name);
    ts_optimizer opt;
    ts_optimizer_default(&opt);
    opt.lr = 5e-3;   /* large enough that every step moves the weights visibly */
    opt.clip = 0.05; /* small enough that clipping acts */
    ts_rng rng;
    ts_rng_init(&rng, 3, 0);
    int32_t x[B * T], y[B * T];
    int clipped = 0;
    for (long s = 0; s < STEPS; s++) {
        batch(&rng, x, y);
        double lr = opt.lr * (s + 1) / STEPS;
        /* by hand: the notebook's loop with its constants */
        float loss = 0, norm = 0;
        assert_int_equal(ts_model_zero_grad(a.m), TS_OK);
        assert_int_equal(ts_model_forward(a.m, x, y, B, T, 1, 9, (uint32_t)s), TS_OK);
        assert_int_equal(ts_model_backward(a.m, 9, (uint32_t)s), TS_OK);
        assert_int_equal(ts_model_loss(a.m, &loss, NULL, NULL), TS_OK);
        assert_int_equal(ts_model_grad_norm(a.m, &norm), TS_OK);
        float coef = (float)(0.05 / ((double)norm + 1e-6));
        clipped += coef < 1.0f;
        assert_int_equal(
            ts_model_adamw(a.m, lr, 0.9, 0.999, 1e-8, 0.01, (int)s + 1, coef < 1.0f ? coef : 1.0f),
            TS_OK);
        /* the step */
        ts_step_result r;
        assert_int_equal(ts_train_step(b.m, &opt, lr, s, 9, x, y, B, T, NULL, &r), TS_OK);
        assert_int_equal(r.skipped, 0);
        assert_true(isfinite(r.loss) && r.loss > 0);
        assert_memory_equal(&r.loss, &loss, sizeof loss);
        assert_memory_equal(&r.grad_norm, &norm, sizeof norm);
    }
    assert_true(clipped > 0); /* the clipping branch ran */
    size_t n = a.m->n_params;
    float *pa = malloc(n * 4), *pb = malloc(n * 4);
    assert_int_equal(ts_model_get_params(a.m, pa), TS_OK);
    assert_int_equal(ts_model_get_params(b.m, pb), TS_OK);
    assert_memory_equal(pa, pb, n * 4);
    free(pa);
    free(pb);
    drop(&a);
    drop(&b);
}

static void test_transformer_step(void **state) {
    (void)state;
    same_as_written_out("transformer-tiny");
}

static void test_lstm_step(void **state) {
    (void)state;
    same_as_written_out("lstm-tiny");
}

static void test_defaults(void **state) {
    (void)state;
    ts_optimizer o;
    ts_optimizer_default(&o);
    assert_true(o.lr == 3e-4 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8);
    assert_true(o.weight_decay == 0.01 && o.clip == 1.0);
}

static void test_nonfinite_skips(void **state) {
    (void)state;
    fixture f;
    make(&f, "transformer-tiny");
    size_t n = f.m->n_params;
    float *before = malloc(n * 4), *after = malloc(n * 4);
    assert_int_equal(ts_model_get_params(f.m, before), TS_OK);
    /* a poisoned first tensor: the loss turns NaN */
    for (size_t i = 0; i < f.m->specs[0].numel; i++)
        before[f.m->specs[0].offset + i] = NAN;
    assert_int_equal(ts_model_set_params(f.m, before), TS_OK);
    ts_optimizer opt;
    ts_optimizer_default(&opt);
    ts_rng rng;
    ts_rng_init(&rng, 5, 0);
    int32_t x[B * T], y[B * T];
    batch(&rng, x, y);
    ts_step_result r;
    assert_int_equal(ts_train_step(f.m, &opt, opt.lr, 0, 1, x, y, B, T, NULL, &r), TS_OK);
    assert_int_equal(r.skipped, 1);
    assert_false(isfinite(r.loss));
    assert_int_equal(ts_model_get_params(f.m, after), TS_OK);
    assert_memory_equal(before, after, n * 4); /* bit for bit, NaNs included */
    free(before);
    free(after);
    drop(&f);
}

/* Steps run one ahead of their readback (step s+1 enqueued before step s is read, as the
 * trainer runs them) give the in-order steps' losses, norms and weights bit for bit, on the
 * opencl backend (whose readback really is deferred) where it exists, else on the cpu. */
static void test_ahead_matches_in_order(void **state) {
    (void)state;
    ts_backend *probe = NULL;
    ts_backend_options bo = {0, 1, 0, TS_PREC_FP32};
    const char *backend = ts_backend_create("opencl", &bo, &probe) == TS_OK ? "opencl" : "cpu";
    ts_backend_destroy(probe);
    fixture a, b;
    make_on(&a, "transformer-tiny", backend);
    make_on(&b, "transformer-tiny", backend);
    ts_optimizer opt;
    ts_optimizer_default(&opt);
    opt.lr = 5e-3;
    opt.clip = 0.5;
    int32_t x[STEPS][B * T], y[STEPS][B * T];
    ts_rng rng;
    ts_rng_init(&rng, 3, 0);
    for (int s = 0; s < STEPS; s++)
        batch(&rng, x[s], y[s]);
    ts_step_result in_order[STEPS], ahead[STEPS];
    for (int s = 0; s < STEPS; s++)
        assert_int_equal(
            ts_train_step(a.m, &opt, opt.lr, s, 9, x[s], y[s], B, T, NULL, &in_order[s]), TS_OK);
    ts_step_pending pend[2];
    for (int s = 0; s < STEPS; s++) {
        assert_int_equal(
            ts_train_step_begin(b.m, &opt, opt.lr, s, 9, x[s], y[s], B, T, NULL, &pend[s & 1]),
            TS_OK);
        if (s > 0)
            assert_int_equal(ts_train_step_end(b.m, &pend[(s - 1) & 1], &ahead[s - 1]), TS_OK);
    }
    assert_int_equal(ts_train_step_end(b.m, &pend[(STEPS - 1) & 1], &ahead[STEPS - 1]), TS_OK);
    for (int s = 0; s < STEPS; s++) {
        assert_true(isfinite(ahead[s].loss) && ahead[s].loss > 0);
        assert_memory_equal(&ahead[s], &in_order[s], sizeof ahead[s]);
    }
    size_t n = a.m->n_params;
    float *pa = malloc(n * 4), *pb = malloc(n * 4);
    assert_int_equal(ts_model_get_params(a.m, pa), TS_OK);
    assert_int_equal(ts_model_get_params(b.m, pb), TS_OK);
    assert_memory_equal(pa, pb, n * 4);
    free(pa);
    free(pb);
    drop(&a);
    drop(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_transformer_step),
        cmocka_unit_test(test_lstm_step),
        cmocka_unit_test(test_nonfinite_skips),
        cmocka_unit_test(test_ahead_matches_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
