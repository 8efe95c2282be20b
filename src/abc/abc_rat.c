/* abc_rat.c — exact note durations as reduced fractions of a whole note.
 *
 * Inputs come from untrusted text, so every result is kept small: a denominator that grows past
 * 2^31 (absurd tuplet nests) is rounded to a multiple of 1/(1920*7*9*11*13), well below a tick. */
#include "abc/abc_internal.h"

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

#define RAT_LIMIT ((int64_t)1 << 31)
#define RAT_FINE  ((int64_t)1920 * 7 * 9 * 11 * 13)

abc_rat abc_rat_make(int64_t n, int64_t d) {
    if (d == 0) return (abc_rat){0, 1};
    if (d < 0) n = -n, d = -d;
    int64_t g = gcd64(n, d);
    n /= g, d /= g;
    if (d > RAT_LIMIT || n > RAT_LIMIT * 64 || n < -RAT_LIMIT * 64) {
        /* round to the fine grid; long double keeps the big products exact enough */
        long double v = (long double)n / (long double)d;
        if (v > 1e6L) v = 1e6L;
        if (v < -1e6L) v = -1e6L;
        n = (int64_t)(v * RAT_FINE + (v < 0 ? -0.5L : 0.5L));
        d = RAT_FINE;
        g = gcd64(n, d);
        n /= g, d /= g;
    }
    return (abc_rat){n, d};
}

abc_rat abc_rat_add(abc_rat a, abc_rat b) {
    int64_t g = gcd64(a.d, b.d);
    return abc_rat_make(a.n * (b.d / g) + b.n * (a.d / g), a.d / g * b.d);
}

abc_rat abc_rat_sub(abc_rat a, abc_rat b) {
    return abc_rat_add(a, (abc_rat){-b.n, b.d});
}

abc_rat abc_rat_mul(abc_rat a, abc_rat b) {
    int64_t g1 = gcd64(a.n, b.d), g2 = gcd64(b.n, a.d);
    return abc_rat_make((a.n / g1) * (b.n / g2), (a.d / g2) * (b.d / g1));
}

int abc_rat_cmp(abc_rat a, abc_rat b) {
    abc_rat d = abc_rat_sub(a, b);
    return (d.n > 0) - (d.n < 0);
}

int64_t abc_rat_ticks(abc_rat a) {
    /* floor(n*1920/d + 1/2) without overflow: n is bounded by abc_rat_make */
    long double v = (long double)a.n * 1920.0L / (long double)a.d;
    return (int64_t)(v < 0 ? v - 0.5L : v + 0.5L);
}
