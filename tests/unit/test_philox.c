/*
 * test_philox.c — unit tests for the Philox4x32-10 generator (src/util/philox.c).
 *
 * The block function is checked against the known-answer vectors published with Random123
 * (kat_vectors, "philox4x32 10" lines). The stream helpers are checked for their contracts:
 * the stream is the block function over counters, below(n) stays in range and is roughly
 * uniform, uniform() lies in [0, 1) on a 2^-24 grid, shuffles are permutations, and equal
 * seeds give equal streams while other seeds or stream ids do not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/philox.h"

static void check_block(const uint32_t ctr[4], const uint32_t key[2], const uint32_t want[4]) {
    uint32_t out[4];
    ts_philox4x32_10(ctr, key, out);
    for (int i = 0; i < 4; i++)
        assert_int_equal(out[i], want[i]);
}

/* Random123 kat_vectors: philox4x32 10, counter and key all zero. */
static void test_kat_zero(void **state) {
    (void)state;
    const uint32_t ctr[4] = {0, 0, 0, 0}, key[2] = {0, 0};
    const uint32_t want[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    check_block(ctr, key, want);
}

/* Random123 kat_vectors: philox4x32 10, counter and key all ones. */
static void test_kat_ones(void **state) {
    (void)state;
    const uint32_t ctr[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff};
    const uint32_t key[2] = {0xffffffff, 0xffffffff};
    const uint32_t want[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
    check_block(ctr, key, want);
}

/* Random123 kat_vectors: philox4x32 10, the digits of pi as counter and key. */
static void test_kat_pi(void **state) {
    (void)state;
    const uint32_t ctr[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
    const uint32_t key[2] = {0xa4093822, 0x299f31d0};
    const uint32_t want[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    check_block(ctr, key, want);
}

/* The block function has no hidden state: the same input twice gives the same output, and the
 * input arrays are left alone. */
static void test_block_is_pure(void **state) {
    (void)state;
    const uint32_t ctr[4] = {1, 2, 3, 4}, key[2] = {5, 6};
    uint32_t a[4], b[4];
    ts_philox4x32_10(ctr, key, a);
    ts_philox4x32_10(ctr, key, b);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(ctr[0], 1);
    assert_int_equal(ctr[3], 4);
    assert_int_equal(key[1], 6);
    /* A one-bit change of the counter changes the block. */
    const uint32_t ctr2[4] = {0, 2, 3, 4};
    ts_philox4x32_10(ctr2, key, b);
    assert_memory_not_equal(a, b, sizeof a);
}

/* The stream hands out the words of block(ctr, key) in order, then moves ctr[0] on by one. */
static void test_stream_is_counter_blocks(void **state) {
    (void)state;
    ts_rng r;
    ts_rng_init(&r, 0x0123456789abcdefull, 77);
    assert_int_equal(r.key[0], 0x89abcdefu);
    assert_int_equal(r.key[1], 0x01234567u);
    uint32_t ctr[4];
    memcpy(ctr, r.ctr, sizeof ctr);
    for (int block = 0; block < 3; block++) {
        uint32_t want[4];
        ts_philox4x32_10(ctr, r.key, want);
        for (int i = 0; i < 4; i++)
            assert_int_equal(ts_rng_u32(&r), want[i]);
        ctr[0]++;
    }
}

static void test_same_seed_same_stream(void **state) {
    (void)state;
    ts_rng a, b, c, d;
    ts_rng_init(&a, 42, 1);
    ts_rng_init(&b, 42, 1);
    ts_rng_init(&c, 43, 1); /* other seed */
    ts_rng_init(&d, 42, 2); /* same seed, other stream */
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = ts_rng_u32(&a);
        assert_int_equal(x, ts_rng_u32(&b));
        same_c += x == ts_rng_u32(&c);
        same_d += x == ts_rng_u32(&d);
    }
    /* Independent 32-bit streams agree at a position with probability 2^-32. */
    assert_true(same_c < 3);
    assert_true(same_d < 3);
}

static void test_below_range_and_uniformity(void **state) {
    (void)state;
    ts_rng r;
    ts_rng_init(&r, 2024, 9);
    unsigned counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint32_t x = ts_rng_below(&r, 10);
        assert_true(x < 10);
        counts[x]++;
    }
    /* Expected 10000 per bucket, standard deviation about 95: 9000..11000 is over 10 sigma. */
    for (int b = 0; b < 10; b++) {
        assert_in_range(counts[b], 9000, 11000);
    }
    /* n = 1 has one answer, and a power of two stays in range. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(ts_rng_below(&r, 1), 0);
    for (int i = 0; i < 1000; i++)
        assert_true(ts_rng_below(&r, 1u << 31) < (1u << 31));
    /* n = 3 * 2^30: a plain x % n would give [0, 2^30) half of the time instead of a third, as
     * 2^32 = n + 2^30. Unbiased, 2000 draws put 667 +- 21 there. */
    int low = 0;
    for (int i = 0; i < 2000; i++) {
        uint32_t x = ts_rng_below(&r, 0xC0000000u);
        assert_true(x < 0xC0000000u);
        low += x < 0x40000000u;
    }
    assert_in_range(low, 580, 750);
}

static void test_uniform_unit_interval(void **state) {
    (void)state;
    ts_rng r, twin;
    ts_rng_init(&r, 5, 0);
    ts_rng_init(&twin, 5, 0);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        float u = ts_rng_uniform(&r);
        assert_true(u >= 0.0f);
        assert_true(u < 1.0f);
        /* 24 random bits: u * 2^24 is an integer, and it is the top 24 bits of the word. */
        uint32_t w = ts_rng_u32(&twin);
        assert_true((double)u * 16777216.0 == (double)(w >> 8));
        sum += u;
    }
    double mean = sum / 100000;
    assert_true(mean > 0.49 && mean < 0.51);
}

static void test_shuffle_is_permutation(void **state) {
    (void)state;
    enum { N = 1000 };
    uint32_t *v = malloc(N * sizeof *v), *w = malloc(N * sizeof *w);
    unsigned char *seen = calloc(N, 1);
    assert_non_null(v);
    assert_non_null(w);
    assert_non_null(seen);
    for (uint32_t i = 0; i < N; i++)
        v[i] = w[i] = i;
    ts_rng r, r2;
    ts_rng_init(&r, 11, 3);
    ts_rng_init(&r2, 11, 3);
    ts_rng_shuffle_u32(&r, v, N);
    ts_rng_shuffle_u32(&r2, w, N);
    assert_memory_equal(v, w, N * sizeof *v); /* same seed, same shuffle */
    int fixed = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_true(v[i] < N);
        assert_int_equal(seen[v[i]], 0);
        seen[v[i]] = 1;
        fixed += v[i] == i;
    }
    assert_true(fixed < 10); /* a random permutation fixes about one point */
    /* Trivial sizes leave the array as it is. */
    uint32_t one[1] = {7};
    ts_rng_shuffle_u32(&r, one, 1);
    assert_int_equal(one[0], 7);
    ts_rng_shuffle_u32(&r, one, 0);
    assert_int_equal(one[0], 7);
    free(v);
    free(w);
    free(seen);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_zero),
        cmocka_unit_test(test_kat_ones),
        cmocka_unit_test(test_kat_pi),
        cmocka_unit_test(test_block_is_pure),
        cmocka_unit_test(test_stream_is_counter_blocks),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_below_range_and_uniformity),
        cmocka_unit_test(test_uniform_unit_interval),
        cmocka_unit_test(test_shuffle_is_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
