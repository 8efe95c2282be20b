/*
 * error.h — the engine's error convention.
 *
 * Functions return a ts_status; on failure they record one human-readable line with
 * ts_set_error(), which the command line prints as "tunescale: <line>". The message names
 * the file, flag or call that failed and, where it can, what to do about it.
 */
#ifndef TS_UTIL_ERROR_H
#define TS_UTIL_ERROR_H

typedef enum {
    TS_OK = 0,
    TS_ERR = 1,       /* runtime failure */
    TS_EUSAGE = 2,    /* bad command line or unimplemented command */
    TS_ENOMEM = 3,    /* out of (device) memory: a sweep records the run as skipped */
    TS_EDIVERGED = 4, /* training diverged (non-finite loss or gradients) */
} ts_status;

/* Records the message for the current thread (printf format) and returns TS_ERR. */
ts_status ts_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with an explicit status. */
ts_status ts_set_error_status(ts_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last recorded message, "" if none. */
const char *ts_last_error(void);
void ts_clear_error(void);

/* Diagnostics on stderr, prefixed "tunescale: ". ts_quiet silences info/warn. */
extern int ts_quiet;
void ts_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ts_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ts_print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
