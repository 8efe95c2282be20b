/*
 * progress.h — one-line progress bar on stderr: done/total, rate, ETA.
 *
 * Draws only when stderr is a terminal (or TUNESCALE_PROGRESS=1), at most ten times a second,
 * so logs and pipes stay clean. ts_progress_done() leaves a final line either way when
 * `always_summarise` is set.
 */
#ifndef TS_UTIL_PROGRESS_H
#define TS_UTIL_PROGRESS_H

#include <stdint.h>

typedef enum { TS_UNIT_COUNT, TS_UNIT_BYTES } ts_unit;

typedef struct {
    char label[64];
    ts_unit unit;
    double total; /* 0 when unknown */
    double start; /* monotonic seconds */
    double last_draw;
    double done;
    int enabled;
    int drawn;
} ts_progress;

double ts_now(void); /* monotonic seconds */
void ts_progress_begin(ts_progress *p, const char *label, ts_unit unit, double total);
void ts_progress_update(ts_progress *p, double done);
void ts_progress_end(ts_progress *p);
/* Formats n as "1.5 MiB" (bytes) or "1.5k" (counts). */
char *ts_format_amount(char *out, int cap, double n, ts_unit unit);
/* Formats seconds as "1h02m", "3m05s" or "12s". */
char *ts_format_duration(char *out, int cap, double seconds);

#endif
