/* stats.c — median and spread of repeated measurements (see stats.h). */
#include "util/stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ts_repeat_stats ts_repeat_summarise(double *v, size_t n) {
    ts_repeat_stats s = {n, NAN, NAN, NAN, NAN};
    if (!n) return s;
    qsort(v, n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.spread = s.median > 0 ? (s.max - s.min) / s.median : NAN;
    return s;
}
