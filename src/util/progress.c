/* progress.c — a terminal progress bar with rate and ETA. */
#define _POSIX_C_SOURCE 200809L
#include "util/progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ts_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *ts_format_amount(char *out, int cap, double n, ts_unit unit) {
    if (unit == TS_UNIT_BYTES) {
        const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int i = 0;
        while (n >= 1024.0 && i < 4)
            n /= 1024.0, i++;
        snprintf(out, (size_t)cap, i ? "%.1f %s" : "%.0f %s", n, u[i]);
    } else {
        const char *u[] = {"", "k", "M", "G", "T"};
        int i = 0;
        while (n >= 1000.0 && i < 4)
            n /= 1000.0, i++;
        snprintf(out, (size_t)cap, i ? "%.1f%s" : "%.0f%s", n, u[i]);
    }
    return out;
}

char *ts_format_duration(char *out, int cap, double s) {
    if (!isfinite(s) || s < 0) {
        snprintf(out, (size_t)cap, "--");
        return out;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(out, (size_t)cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(out, (size_t)cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, (size_t)cap, "%lds", t);
    return out;
}

void ts_progress_begin(ts_progress *p, const char *label, ts_unit unit, double total) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->unit = unit;
    p->total = total;
    p->start = ts_now();
    const char *env = getenv("TUNESCALE_PROGRESS");
    p->enabled = env ? atoi(env) != 0 : isatty(STDERR_FILENO);
}

static void draw(ts_progress *p, double now) {
    char done[32], total[32], rate[32], eta[32];
    double elapsed = now - p->start;
    double r = elapsed > 0 ? p->done / elapsed : 0;
    ts_format_amount(done, sizeof done, p->done, p->unit);
    ts_format_amount(rate, sizeof rate, r, p->unit);
    if (p->total > 0) {
        double frac = p->done / p->total;
        if (frac > 1) frac = 1;
        char bar[21];
        int fill = (int)(frac * 20);
        for (int i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
        ts_format_amount(total, sizeof total, p->total, p->unit);
        ts_format_duration(eta, sizeof eta, r > 0 ? (p->total - p->done) / r : -1);
        fprintf(stderr, "\r%s [%s] %5.1f%% %s/%s %s/s ETA %s\033[K", p->label, bar, 100 * frac,
                done, total, rate, eta);
    } else {
        fprintf(stderr, "\r%s %s %s/s\033[K", p->label, done, rate);
    }
    fflush(stderr);
    p->drawn = 1;
    p->last_draw = now;
}

void ts_progress_update(ts_progress *p, double done) {
    p->done = done;
    if (!p->enabled) return;
    double now = ts_now();
    if (now - p->last_draw >= 0.1) draw(p, now);
}

void ts_progress_end(ts_progress *p) {
    if (!p->enabled) return;
    draw(p, ts_now());
    fputc('\n', stderr);
}
