/* precision.c — names and input rounding of the precision modes (see precision.h). */
#include "backends/precision.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *const names[TS_PREC_COUNT] = {"fp32", "tf32", "bf16", "fp16"};

const char *ts_precision_name(ts_precision p) {
    return (unsigned)p < TS_PREC_COUNT ? names[p] : "fp32";
}

int ts_precision_parse(const char *s, ts_precision *out) {
    for (int i = 0; s && i < TS_PREC_COUNT; i++)
        if (!strcmp(s, names[i])) {
            *out = (ts_precision)i;
            return 1;
        }
    return 0;
}

const char *ts_precision_names(void) {
    return "fp32, tf32, bf16 or fp16";
}

/* Rounds away the low `drop` mantissa bits, to nearest with ties to even; a carry out of the
 * mantissa steps the exponent (and past the largest finite value gives infinity), exactly as
 * an IEEE conversion to the narrower format would. */
static float keep_bits(float x, int drop) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) return x; /* inf and NaN stay */
    uint32_t half = 1u << (drop - 1), lsb = (u >> drop) & 1u;
    u += half - 1u + lsb;
    u &= ~((1u << drop) - 1u);
    memcpy(&x, &u, sizeof x);
    return x;
}

float ts_precision_round(ts_precision p, float x) {
    switch (p) {
    case TS_PREC_TF32:
        return keep_bits(x, 13);
    case TS_PREC_BF16:
        return keep_bits(x, 16);
    case TS_PREC_FP16: {
        float a = fabsf(x);
        if (isnan(x)) return x;
        if (a >= 65520.0f) return copysignf(INFINITY, x); /* rounds past 65504 */
        /* below 2^-14 half is subnormal: a fixed step of 2^-24; scaling by powers of two is
         * exact, and nearbyintf rounds ties to even in the default rounding mode */
        if (a < 0x1p-14f) return nearbyintf(x * 0x1p24f) * 0x1p-24f;
        return keep_bits(x, 13);
    }
    default:
        return x;
    }
}
