/* error.c — per-thread last-error message and stderr diagnostics. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];
int ts_quiet = 0;

/* Formats through a scratch buffer, so that a message may wrap the previous one:
 * ts_set_error("%s: %s", where, ts_last_error()). */
static void set_message(const char *fmt, va_list ap) {
    char scratch[sizeof last_error];
    vsnprintf(scratch, sizeof scratch, fmt, ap);
    memcpy(last_error, scratch, sizeof last_error);
}

ts_status ts_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return TS_ERR;
}

ts_status ts_set_error_status(ts_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return st;
}

const char *ts_last_error(void) {
    return last_error;
}
void ts_clear_error(void) {
    last_error[0] = '\0';
}

static void print_prefixed(const char *kind, const char *fmt, va_list ap) {
    fprintf(stderr, "tunescale: %s", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ts_info(const char *fmt, ...) {
    if (ts_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    print_prefixed("", fmt, ap);
    va_end(ap);
}

void ts_warn(const char *fmt, ...) {
    if (ts_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    print_prefixed("warning: ", fmt, ap);
    va_end(ap);
}

void ts_print_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_prefixed("error: ", fmt, ap);
    va_end(ap);
}
