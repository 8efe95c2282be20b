/* philox.c — Philox4x32-10 block function and a small sequential stream on top of it. */
#include "util/philox.h"

/* Multipliers and Weyl key increments from the Philox paper. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void ts_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void ts_rng_init(ts_rng *r, uint64_t seed, uint32_t stream_id) {
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->ctr[0] = 0;
    r->ctr[1] = 0;
    r->ctr[2] = stream_id;
    r->ctr[3] = 0x7453u; /* "tS": keeps host streams apart from device-side counters */
    r->used = 4;
}

uint32_t ts_rng_u32(ts_rng *r) {
    if (r->used == 4) {
        ts_philox4x32_10(r->ctr, r->key, r->buf);
        if (++r->ctr[0] == 0) r->ctr[1]++;
        r->used = 0;
    }
    return r->buf[r->used++];
}

uint32_t ts_rng_below(ts_rng *r, uint32_t n) {
    /* Reject the top sliver of 2^32 that would over-represent small results. */
    uint32_t limit = (uint32_t)(0x100000000ull - (0x100000000ull % n));
    for (;;) {
        uint32_t x = ts_rng_u32(r);
        if (limit == 0 || x < limit) return x % n;
    }
}

float ts_rng_uniform(ts_rng *r) {
    return (float)(ts_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

void ts_rng_shuffle_u32(ts_rng *r, uint32_t *v, uint32_t n) {
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = ts_rng_below(r, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
