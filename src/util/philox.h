/*
 * philox.h — Philox4x32-10, the counter-based generator behind all of tunescale's randomness.
 *
 * Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11). A counter-based
 * generator maps (key, counter) to random bits with no hidden state, so every backend can
 * compute the same number for (seed, step, tensor id, element index) independently.
 */
#ifndef TS_UTIL_PHILOX_H
#define TS_UTIL_PHILOX_H

#include <stdint.h>

/* One block: 4 random 32-bit words for (counter, key). */
void ts_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* A sequential stream over counters (ctr0 counts up) for host-side uses: shuffles, subsampling. */
typedef struct {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t buf[4];
    int used; /* words of buf already handed out */
} ts_rng;

/* key = 64-bit seed; stream_id separates independent uses of the same seed. */
void ts_rng_init(ts_rng *r, uint64_t seed, uint32_t stream_id);
uint32_t ts_rng_u32(ts_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t ts_rng_below(ts_rng *r, uint32_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float ts_rng_uniform(ts_rng *r);
/* Fisher-Yates shuffle of n indices. */
void ts_rng_shuffle_u32(ts_rng *r, uint32_t *v, uint32_t n);

#endif
