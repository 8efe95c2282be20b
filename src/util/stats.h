/*
 * stats.h — the summary of repeated timings: median and spread. One timing under unknown load
 * can be off by an order of magnitude on a shared machine; the median of several, with their
 * range, says how far a figure can be trusted.
 */
#ifndef TS_UTIL_STATS_H
#define TS_UTIL_STATS_H

#include <stddef.h>

typedef struct {
    size_t n;
    double median, min, max;
    double spread; /* (max - min) / median: 0.1 = the repeats span 10% of the median */
} ts_repeat_stats;

/* Summarises v[0..n) (reordered in place). n = 0 gives NANs. */
ts_repeat_stats ts_repeat_summarise(double *v, size_t n);

#endif
