/*
 * test_arena.c — the arena that splits a model's storage over capped buffers (src/model/arena.c)
 * and the per-buffer cap of the backend frontend (backends/backend.c).
 *
 * Random tensor sizes are packed under random caps and every plan is checked for what the
 * arena promises: no tensor straddles a buffer or overlaps another, no buffer exceeds the cap,
 * a new buffer starts only when the next tensor would not fit, and the total is the same as
 * without a cap. Then: the replay points into the allocated buffers, a tensor larger than the
 * cap fails cleanly, TUNESCALE_MAX_BUFFER_BYTES lowers the cap, the accounting by category
 * sums to the peak, and the plans of the study's largest models under the 2^31-1-element cap
 * (printed for the record).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "model/arena.h"
#include "model/config.h"
#include "model/model.h"
#include "util/philox.h"

static size_t span_of(size_t n) {
    return (n + 15) & ~(size_t)15;
}

/* Checks one planned arena against the sizes it was given and the views it returned. */
static void check_plan(const ts_arena *a, const size_t *sizes, const size_t *chunk_of,
                       const size_t *offs, size_t n) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += span_of(sizes[i]);
        assert_true(chunk_of[i] < a->n_chunks);
        /* inside its buffer, which stays under the cap */
        assert_true(offs[i] + sizes[i] <= a->chunks[chunk_of[i]].floats);
        assert_true(a->chunks[chunk_of[i]].floats <= a->cap);
        assert_int_equal(offs[i] % 16, 0);
        if (i == 0) continue;
        if (chunk_of[i] == chunk_of[i - 1]) {
            /* packed right after the previous tensor: no overlap, no gap */
            assert_int_equal(offs[i], offs[i - 1] + span_of(sizes[i - 1]));
        } else {
            /* a new buffer only when the tensor would have crossed the cap */
            assert_int_equal(chunk_of[i], chunk_of[i - 1] + 1);
            assert_int_equal(offs[i], 0);
            assert_true(offs[i - 1] + span_of(sizes[i - 1]) + span_of(sizes[i]) > a->cap);
        }
    }
    assert_int_equal(ts_arena_floats(a), total);
}

static void test_random_plans(void **state) {
    (void)state;
    ts_rng rng;
    ts_rng_init(&rng, 7, 0x41524e41u);
    enum { N = 64 };
    for (int trial = 0; trial < 200; trial++) {
        size_t cap_floats = 16 + ts_rng_below(&rng, 4000);
        ts_arena a;
        ts_arena_init(&a, cap_floats * 4);
        size_t sizes[N], chunk_of[N], offs[N];
        for (size_t i = 0; i < N; i++) {
            sizes[i] = ts_rng_below(&rng, (uint32_t)(a.cap + 1)); /* 0 .. cap: all fit */
            ts_tensor t = ts_arena_take(&a, sizes[i]);
            assert_null(t.buf); /* planning: no buffer yet */
            chunk_of[i] = a.cur;
            offs[i] = t.off;
        }
        assert_int_equal(a.too_big, 0);
        check_plan(&a, sizes, chunk_of, offs, N);
        ts_arena_free(&a, NULL);
    }
}

static void test_replay_and_too_big(void **state) {
    (void)state;
    ts_backend *be = NULL;
    ts_backend_options o = {0, 1, 0, TS_PREC_FP32};
    assert_int_equal(ts_backend_create("cpu", &o, &be), TS_OK);
    size_t sizes[] = {100, 300, 20, 500, 7, 512, 1};
    size_t n = sizeof sizes / sizeof sizes[0];
    ts_arena a;
    ts_arena_init(&a, 512 * 4);
    ts_tensor plan[7], real[7];
    for (size_t i = 0; i < n; i++)
        plan[i] = ts_arena_take(&a, sizes[i]);
    size_t chunks = ts_arena_buffers(&a), floats = ts_arena_floats(&a);
    assert_true(chunks >= 3);
    assert_int_equal(ts_arena_alloc(&a, be, TS_MEM_ACTIVATIONS), TS_OK);
    assert_int_equal(be->category_bytes[TS_MEM_ACTIVATIONS], floats * 4);
    for (size_t i = 0; i < n; i++) {
        real[i] = ts_arena_take(&a, sizes[i]);
        assert_non_null(real[i].buf);
        assert_int_equal(real[i].off, plan[i].off);
        assert_true((real[i].off + sizes[i]) * 4 <= be->iface->buffer_size(be, real[i].buf));
    }
    /* the replay made no new buffers, and different chunks are different buffers */
    assert_int_equal(ts_arena_buffers(&a), chunks);
    assert_ptr_not_equal(a.chunks[0].buf, a.chunks[1].buf);
    ts_arena_free(&a, be);
    assert_int_equal(be->bytes_in_use, 0);
    assert_int_equal(be->category_bytes[TS_MEM_ACTIVATIONS], 0);

    /* one tensor past the cap: nothing allocated, out of memory naming the sizes */
    ts_arena_init(&a, 512 * 4);
    ts_arena_take(&a, 100);
    ts_arena_take(&a, 513);
    assert_int_equal(ts_arena_alloc(&a, be, TS_MEM_ACTIVATIONS), TS_ENOMEM);
    assert_non_null(strstr(ts_last_error(), "513 elements"));
    assert_int_equal(be->bytes_in_use, 0);
    ts_arena_free(&a, be);
    ts_backend_destroy(be);
}

static void test_env_cap_and_categories(void **state) {
    (void)state;
    ts_backend *be = NULL;
    ts_backend_options o = {0, 1, 0, TS_PREC_FP32};
    assert_int_equal(ts_backend_create("cpu", &o, &be), TS_OK);
    assert_int_equal(be->max_buffer_bytes, (TS_MAX_BUFFER_ELEMENTS * 4) & ~(size_t)63);
    ts_backend_destroy(be);

    setenv("TUNESCALE_MAX_BUFFER_BYTES", "64KiB", 1);
    assert_int_equal(ts_backend_create("cpu", &o, &be), TS_OK);
    assert_int_equal(be->max_buffer_bytes, 65536);
    ts_buffer *p, *act, *big = NULL;
    assert_int_equal(ts_buffer_alloc_as(be, 65536, TS_MEM_PARAMS, &p), TS_OK);
    assert_int_equal(ts_buffer_alloc_as(be, 65537, TS_MEM_ACTIVATIONS, &big), TS_ENOMEM);
    assert_null(big);
    assert_non_null(strstr(ts_last_error(), "TUNESCALE_MAX_BUFFER_BYTES"));
    assert_int_equal(ts_buffer_alloc_as(be, 4000, TS_MEM_ACTIVATIONS, &act), TS_OK);
    ts_buffer_free(be, p);
    ts_buffer *s;
    assert_int_equal(ts_buffer_alloc_as(be, 1000, TS_MEM_SCRATCH, &s), TS_OK);
    /* the peak held the parameters and the activations; the categories sum to it */
    size_t sum = 0;
    for (int c = 0; c < TS_MEM_CATEGORIES; c++)
        sum += be->category_peak[c];
    assert_int_equal(sum, be->peak_bytes);
    assert_int_equal(be->category_peak[TS_MEM_PARAMS], 65536);
    assert_int_equal(be->category_peak[TS_MEM_ACTIVATIONS], 4000);
    assert_int_equal(be->category_peak[TS_MEM_SCRATCH], 0);
    assert_int_equal(be->category_bytes[TS_MEM_SCRATCH], 1000);
    assert_int_equal(be->category_bytes[TS_MEM_PARAMS], 0);
    ts_buffer_free(be, act);
    ts_buffer_free(be, s);
    assert_int_equal(be->bytes_in_use, 0);
    ts_backend_destroy(be);

    setenv("TUNESCALE_MAX_BUFFER_BYTES", "12", 1);
    assert_int_equal(ts_backend_create("cpu", &o, &be), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "TUNESCALE_MAX_BUFFER_BYTES='12'"));
    unsetenv("TUNESCALE_MAX_BUFFER_BYTES");
}

/* The layouts of the real models: split, the total is unchanged, every buffer under the cap. */
static void test_model_plans(void **state) {
    (void)state;
    const char *names[] = {"transformer-small", "lstm-small"};
    for (int i = 0; i < 2; i++) {
        ts_model_config c;
        assert_int_equal(ts_model_config_lookup(names[i], &c), TS_OK);
        size_t largest = 0, cap = 256 << 10; /* the largest tensor: lstm-small gates */
        size_t whole = ts_model_activation_buffers(&c, 4, 32, 0, NULL);
        size_t split = ts_model_activation_buffers(&c, 4, 32, cap, &largest);
        assert_int_equal(whole, 2); /* activations, their gradients */
        assert_true(split > whole);
        assert_true(largest <= cap);
    }
    /* the study's largest models under the 2^31-1-element cap (issue 17) */
    const char *big[] = {"transformer-100M", "lstm-100M"};
    int batches[] = {32, 64};
    for (int i = 0; i < 2; i++) {
        ts_model_config c;
        assert_int_equal(ts_model_config_lookup(big[i], &c), TS_OK);
        c.vocab_size = 100;
        for (int b = 0; b < 2; b++) {
            size_t largest = 0;
            size_t n = ts_model_activation_buffers(&c, batches[b], 256, 0, &largest);
            size_t bytes = ts_model_activation_bytes(&c, batches[b], 256);
            assert_true(n >= 2);
            assert_true(largest <= TS_MAX_BUFFER_ELEMENTS * 4);
            assert_true(n >= bytes / (TS_MAX_BUFFER_ELEMENTS * 4));
            printf("plan %s B%d T256: %zu activation buffers, largest %zu bytes, total %zu "
                   "bytes\n",
                   big[i], batches[b], n, largest, bytes);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_plans),
        cmocka_unit_test(test_replay_and_too_big),
        cmocka_unit_test(test_env_cap_and_categories),
        cmocka_unit_test(test_model_plans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
