/*
 * fetch.h — the download stage of the data pipeline.
 *
 * ts_fetch() brings an http://, https:// or file:// URL into a local cache directory with
 * libcurl. The cached name is derived from the URL (so a second fetch of the same URL is a cache
 * hit with no network access) and keeps the URL's extension, which later stages use to pick a
 * reader. Downloads land in "<final>.part", resume after interruptions, are retried with
 * back-off on transient failures, and are renamed to the final name only when complete (and
 * matching the expected SHA-256, when one is given).
 */
#ifndef TS_DATA_FETCH_H
#define TS_DATA_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef void (*ts_fetch_progress_fn)(void *user, uint64_t done,
                                     uint64_t total); /* total 0 = unknown */

typedef struct {
    const char *cache_dir;         /* where downloads land (created if missing) */
    const char *sha256;            /* optional expected lowercase hex digest, NULL = no check */
    int max_retries;               /* default 4 */
    double backoff_s;              /* first retry delay, doubled each retry; default 1.0 */
    long connect_timeout_s;        /* default 30 */
    long low_speed_timeout_s;      /* abort if < 1 byte/s for this long; default 60 */
    uint64_t max_bytes;            /* a larger body is refused and removed; default 8 GiB */
    double timeout_s;              /* the whole download, every retry included; default 3600 */
    ts_fetch_progress_fn progress; /* NULL: the default terminal bar from util/progress.h */
    void *progress_user;
} ts_fetch_options;

void ts_fetch_options_default(ts_fetch_options *o);

/* Is this argument a URL we fetch (http://, https://, file://)? */
int ts_is_url(const char *s);

/* Downloads url into o->cache_dir and writes the final file's path into out_path. */
ts_status ts_fetch(const char *url, const ts_fetch_options *o, char *out_path, size_t cap);

/*
 * The path ts_fetch() uses for url inside cache_dir (nothing is touched):
 * "<cache_dir>/<first 16 hex of sha256(url)>-<sanitised basename of the URL path>".
 */
ts_status ts_fetch_cache_path(const char *url, const char *cache_dir, char *out, size_t cap);

#endif
