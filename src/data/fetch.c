/*
 * fetch.c — downloads http(s)/file URLs into the cache directory with libcurl's easy interface.
 *
 * One fetch: cache check, then an exclusive lock on "<final>.part" (so two processes fetching
 * the same URL share one download), then attempts that append to the .part file, resuming with
 * an HTTP Range request after each transient failure, then checksum, fsync and rename.
 */
#define _GNU_SOURCE
#include "data/fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/progress.h"
#include "util/sha256.h"

extern const char *ts_version; /* generated at build time by cmake/version.cmake */

#define NAME_MAX_KEEP 96 /* longest sanitised basename kept (its tail, so the extension stays) */

void ts_fetch_options_default(ts_fetch_options *o) {
    memset(o, 0, sizeof *o);
    o->max_retries = 4;
    o->backoff_s = 1.0;
    o->connect_timeout_s = 30;
    o->low_speed_timeout_s = 60;
    o->max_bytes = 8ull << 30;
    o->timeout_s = 3600;
}

static const char *const url_schemes[] = {"http://", "https://", "file://"};

int ts_is_url(const char *s) {
    if (!s) return 0;
    for (size_t i = 0; i < sizeof url_schemes / sizeof url_schemes[0]; i++) {
        size_t n = strlen(url_schemes[i]);
        if (strncasecmp(s, url_schemes[i], n) == 0 && s[n] != '\0') return 1;
    }
    return 0;
}

static int is_http_url(const char *s) {
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The last component of the URL's path, %-decoded and reduced to [A-Za-z0-9._-]. */
static void url_file_name(const char *url, char *out, size_t cap) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end = p + strcspn(p, "?#");
    const char *path = memchr(p, '/', (size_t)(end - p)); /* skip the host part */
    const char *base = path ? path : end;
    for (const char *q = base; q < end; q++)
        if (*q == '/') base = q + 1;

    char tmp[1024];
    size_t n = 0;
    for (const char *q = base; q < end && n < sizeof tmp - 1; q++) {
        int c = (unsigned char)*q;
        if (c == '%' && q + 2 < end && hex_value(q[1]) >= 0 && hex_value(q[2]) >= 0) {
            c = hex_value(q[1]) * 16 + hex_value(q[2]);
            q += 2;
        }
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
        tmp[n++] = keep ? (char)c : '_';
    }
    tmp[n] = '\0';
    const char *name = n ? tmp : "download";
    if (n > NAME_MAX_KEEP) name = tmp + n - NAME_MAX_KEEP;
    snprintf(out, cap, "%s", name);
}

ts_status ts_fetch_cache_path(const char *url, const char *cache_dir, char *out, size_t cap) {
    char digest[65], name[NAME_MAX_KEEP + 1], file[NAME_MAX_KEEP + 20];
    ts_sha256_hex(url, strlen(url), digest);
    url_file_name(url, name, sizeof name);
    snprintf(file, sizeof file, "%.16s-%s", digest, name);
    char joined[4096];
    ts_path_join(joined, sizeof joined, cache_dir, file);
    if (strlen(joined) + 1 > cap || strlen(joined) + 1 >= sizeof joined)
        return ts_set_error("%s: cache path under %s is too long", url, cache_dir);
    memcpy(out, joined, strlen(joined) + 1);
    return TS_OK;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void init_curl(void) {
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* State shared with libcurl's callbacks during one attempt. */
typedef struct {
    CURL *curl;
    int fd; /* the .part file, O_APPEND */
    int is_http;
    uint64_t offset;    /* bytes already in the .part before this response's body */
    int status_checked; /* the response status was looked at (first body bytes) */
    int bad_status;     /* body refused: not a 2xx answer */
    int write_errno;    /* local write failure, 0 if none */
    int too_big;        /* the body passed opt->max_bytes: stopped */
    int timed_out;      /* the deadline passed: stopped */
    double deadline;    /* ts_fetch_now() when the whole download must be over */
    char reason[96];    /* reason phrase of the last HTTP status line */
    const ts_fetch_options *opt;
    ts_progress bar; /* default progress display when opt->progress is NULL */
    uint64_t last_done, last_total;
    int reported;
} fetch_xfer;

static double fetch_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void report(fetch_xfer *x, uint64_t done, uint64_t total) {
    if (x->reported && done == x->last_done && total == x->last_total) return;
    x->reported = 1;
    x->last_done = done;
    x->last_total = total;
    if (x->opt->progress) {
        x->opt->progress(x->opt->progress_user, done, total);
    } else {
        x->bar.total = (double)total;
        ts_progress_update(&x->bar, (double)done);
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user) {
    fetch_xfer *x = user;
    size_t n = size * nmemb;
    /* Each response (redirects included) starts with a status line; keep the last one's
     * reason phrase for error messages. */
    if (n > 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* "HTTP/1.1 404 Not Found": skip the version and the code. */
        size_t i = 5;
        while (i < n && data[i] != ' ')
            i++;
        while (i < n && data[i] == ' ')
            i++;
        while (i < n && data[i] >= '0' && data[i] <= '9')
            i++;
        while (i < n && data[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && data[j] != '\r' && data[j] != '\n')
            j++;
        size_t len = j - i < sizeof x->reason - 1 ? j - i : sizeof x->reason - 1;
        memcpy(x->reason, data + i, len);
        x->reason[len] = '\0';
    }
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *user) {
    fetch_xfer *x = user;
    size_t n = size * nmemb;
    if (!x->status_checked && x->is_http) {
        x->status_checked = 1;
        long code = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code >= 300) {
            x->bad_status = 1; /* an error page, not the file: stop here */
            return 0;
        }
        if (x->offset > 0 && code != 206) {
            /* The server sent the whole file instead of the asked-for rest: start over. */
            if (ftruncate(x->fd, 0) != 0) {
                x->write_errno = errno;
                return 0;
            }
            x->offset = 0;
        }
    }
    x->status_checked = 1;
    /* The cap counts what is on disk plus this chunk: an endless body once filled 3.4 GB. */
    struct stat sb;
    if (x->opt->max_bytes &&
        (fstat(x->fd, &sb) != 0 || (uint64_t)sb.st_size + n > x->opt->max_bytes)) {
        x->too_big = 1;
        return 0;
    }
    const char *p = data;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(x->fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            x->write_errno = w < 0 ? errno : EIO;
            return 0;
        }
        p += w;
        left -= (size_t)w;
    }
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    fetch_xfer *x = user;
    /* The total time bound: a server trickling 2 bytes/s passes the low-speed check forever. */
    if (x->deadline > 0 && fetch_now() > x->deadline) {
        x->timed_out = 1;
        return 1;
    }
    if (x->bad_status || (dlnow <= 0 && dltotal <= 0)) return 0;
    uint64_t total = dltotal > 0 ? x->offset + (uint64_t)dltotal : 0;
    report(x, x->offset + (uint64_t)dlnow, total);
    return 0;
}

typedef enum {
    ATTEMPT_DONE,      /* the .part file holds the whole body */
    ATTEMPT_RESTART,   /* resume refused: truncate and start from zero */
    ATTEMPT_TRANSIENT, /* worth retrying */
    ATTEMPT_PERMANENT, /* give up now */
} attempt_result;

static const char *http_reason(long code) {
    switch (code) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 408:
        return "Request Timeout";
    case 410:
        return "Gone";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}

/* Sorts a failed transfer into transient or permanent and says what happened, in `what`. */
static attempt_result classify_curl(CURLcode rc, char *what, size_t cap) {
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(what, cap, "connection failed");
        return ATTEMPT_TRANSIENT;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(what, cap, "timed out");
        return ATTEMPT_TRANSIENT;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        snprintf(what, cap, "transfer interrupted");
        return ATTEMPT_TRANSIENT;
    case CURLE_FILE_COULDNT_READ_FILE:
        snprintf(what, cap, "cannot read the file");
        return ATTEMPT_PERMANENT;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(what, cap, "unsupported protocol");
        return ATTEMPT_PERMANENT;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(what, cap, "too many redirects");
        return ATTEMPT_PERMANENT;
    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(what, cap, "TLS certificate check failed");
        return ATTEMPT_PERMANENT;
    default:
        snprintf(what, cap, "download failed");
        return ATTEMPT_PERMANENT;
    }
}

/*
 * One transfer into x->fd from its current end. On failure `what` gets a short description
 * ("HTTP 404 Not Found", "connection failed") and `detail` libcurl's message, if any.
 */
static attempt_result run_attempt(fetch_xfer *x, char *what, size_t what_cap, char *detail,
                                  size_t detail_cap) {
    what[0] = detail[0] = '\0';
    struct stat st;
    if (fstat(x->fd, &st) != 0) {
        snprintf(what, what_cap, "cannot stat the partial download: %s", strerror(errno));
        return ATTEMPT_PERMANENT;
    }
    uint64_t resume_from = (uint64_t)st.st_size;
    x->offset = resume_from;
    x->status_checked = x->bad_status = x->write_errno = 0;
    x->reason[0] = '\0';

    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(x->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)resume_from);
    if (x->deadline > 0) {
        double left = x->deadline - fetch_now();
        curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, left > 0.001 ? (long)(left * 1000) + 1 : 1L);
    }
    CURLcode rc = curl_easy_perform(x->curl);
    curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, NULL); /* errbuf goes out of scope */
    long code = 0;
    if (x->is_http) curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);

    if (x->write_errno) {
        snprintf(what, what_cap, "cannot write the download: %s", strerror(x->write_errno));
        return ATTEMPT_PERMANENT;
    }
    if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        x->too_big = 1;
        snprintf(what, what_cap,
                 "larger than --max-download %llu bytes (removed; raise --max-download if the "
                 "source is trusted)",
                 (unsigned long long)x->opt->max_bytes);
        return ATTEMPT_PERMANENT;
    }
    /* curl's own clock may stop it a hair before ours reaches the deadline: a curl timeout
     * within 50 ms of it is the --timeout too, not a retryable stall */
    if (x->timed_out || (x->deadline > 0 && fetch_now() > x->deadline) ||
        (rc == CURLE_OPERATION_TIMEDOUT && x->deadline > 0 && fetch_now() > x->deadline - 0.05)) {
        x->timed_out = 1;
        snprintf(what, what_cap, "not finished within --timeout %g s", x->opt->timeout_s);
        return ATTEMPT_PERMANENT;
    }
    /* libcurl answers a refused resume with 416 (ignoring the body), CURLE_RANGE_ERROR (server
     * ignored Range) or CURLE_BAD_DOWNLOAD_RESUME (file:// shorter than the .part). */
    if (resume_from > 0 &&
        (code == 416 || rc == CURLE_RANGE_ERROR || rc == CURLE_BAD_DOWNLOAD_RESUME)) {
        snprintf(what, what_cap, "the server refused to resume the download");
        return ATTEMPT_RESTART;
    }
    if (code != 0 && (code < 200 || code >= 300)) {
        const char *reason = x->reason[0] ? x->reason : http_reason(code);
        snprintf(what, what_cap, "HTTP %ld%s%s", code, reason[0] ? " " : "", reason);
        return code >= 500 || code == 408 || code == 429 ? ATTEMPT_TRANSIENT : ATTEMPT_PERMANENT;
    }
    if (rc != CURLE_OK) {
        attempt_result r = classify_curl(rc, what, what_cap);
        snprintf(detail, detail_cap, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        size_t n = strlen(detail);
        while (n > 0 && (detail[n - 1] == '\n' || detail[n - 1] == '\r'))
            detail[--n] = '\0';
        return r;
    }
    if (x->offset > 0 && code == 200) {
        /* A 200 whose length equals what we have: libcurl wrote nothing, but the server did
         * not confirm the bytes are the same, so start over. */
        snprintf(what, what_cap, "the server ignored the resume request");
        return ATTEMPT_RESTART;
    }
    return ATTEMPT_DONE;
}

static void sleep_seconds(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* 1 if path is a finished download (matching want when given), else 0. With remove_bad, a
 * file that fails the check is deleted. */
static int cache_hit(const char *path, const char *want, int remove_bad) {
    if (!ts_is_file(path)) return 0;
    if (!want[0]) return 1;
    char got[65];
    if (ts_sha256_file_hex(path, got) == TS_OK && strcmp(got, want) == 0) return 1;
    if (remove_bad) unlink(path);
    return 0;
}

/* Does fd still refer to the file at path (not unlinked or renamed away meanwhile)? */
static int same_file(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static CURL *make_handle(const char *url, fetch_xfer *x, char *agent, size_t agent_cap) {
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    const ts_fetch_options *o = x->opt;
    snprintf(agent, agent_cap, "tunescale/%s", ts_version);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"); /* never redirect to file */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* no alarm()/SIGPIPE games in threaded code */
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (o->connect_timeout_s > 0) curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
    if (o->max_bytes) curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    if (o->low_speed_timeout_s > 0) {
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_timeout_s);
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    return c;
}

/* Downloads into the locked .part file (fd) and, on success, renames it to final. */
static ts_status download(const char *url, const ts_fetch_options *o, const char *want, int fd,
                          const char *part, const char *final) {
    fetch_xfer x;
    memset(&x, 0, sizeof x);
    x.fd = fd;
    x.is_http = is_http_url(url);
    x.opt = o;
    if (o->timeout_s > 0) x.deadline = fetch_now() + o->timeout_s;
    char agent[64];
    x.curl = make_handle(url, &x, agent, sizeof agent);
    if (!x.curl) return ts_set_error("%s: cannot start libcurl (curl_easy_init failed)", url);
    if (!o->progress) {
        char label[64];
        snprintf(label, sizeof label, "fetch %s", ts_basename(final) + 17); /* past "<hash>-" */
        ts_progress_begin(&x.bar, label, TS_UNIT_BYTES, 0);
    }

    char what[256], detail[CURL_ERROR_SIZE + 8];
    int retries = 0, restarted = 0, drop_part = 0;
    attempt_result r;
    for (;;) {
        r = run_attempt(&x, what, sizeof what, detail, sizeof detail);
        if (r == ATTEMPT_RESTART) {
            if (!restarted && ftruncate(fd, 0) == 0) {
                restarted = 1;
                continue;
            }
            r = ATTEMPT_PERMANENT;
        }
        if (r != ATTEMPT_TRANSIENT || retries >= o->max_retries) break;
        if (x.deadline > 0 &&
            fetch_now() + o->backoff_s * (double)(1u << (retries < 20 ? retries : 20)) > x.deadline)
            break;
        sleep_seconds(o->backoff_s * (double)(1u << (retries < 20 ? retries : 20)));
        retries++;
    }
    curl_easy_cleanup(x.curl);

    ts_status st = TS_OK;
    struct stat sb;
    uint64_t size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (r == ATTEMPT_DONE) {
        report(&x, size, size); /* libcurl's last progress call may predate the last bytes */
        char got[65];
        if (fsync(fd) != 0) {
            st = ts_set_error("%s: cannot flush %s to disk: %s", url, part, strerror(errno));
            drop_part = 1;
        } else if (want[0] && ts_sha256_file_hex(part, got) != TS_OK) {
            char why[512]; /* copied: ts_set_error must not read the buffer it writes */
            snprintf(why, sizeof why, "%s", ts_last_error());
            st = ts_set_error("%s: cannot check the download's sha256: %s", url, why);
            drop_part = 1;
        } else if (want[0] && strcmp(got, want) != 0) {
            st = ts_set_error("%s: sha256 mismatch: expected %s, got %s (download removed; check "
                              "--sha256 or the source)",
                              url, want, got);
            drop_part = 1;
        } else if (rename(part, final) != 0) {
            st = ts_set_error("%s: cannot rename %s to %s: %s", url, part, final, strerror(errno));
            drop_part = 1;
        }
    } else {
        int tries = retries + 1;
        char kept[160] = "";
        /* A permanent HTTP answer means the resource is gone or forbidden: the partial data is
         * useless. Other failures keep it so that the next run resumes. */
        drop_part =
            size == 0 || x.too_big || (r == ATTEMPT_PERMANENT && strncmp(what, "HTTP ", 5) == 0);
        if (!drop_part) {
            char amount[32];
            ts_format_amount(amount, sizeof amount, (double)size, TS_UNIT_BYTES);
            snprintf(kept, sizeof kept, " (%s kept in the cache; run again to resume)", amount);
        }
        if (r == ATTEMPT_TRANSIENT)
            st = ts_set_error("%s: %s after %d %s%s%s%s", url, what, tries,
                              tries == 1 ? "try" : "tries", detail[0] ? ": " : "", detail, kept);
        else
            st = ts_set_error("%s: %s%s%s%s", url, what, detail[0] ? ": " : "", detail, kept);
    }
    if (!o->progress && x.reported) ts_progress_end(&x.bar); /* no empty bar on errors */
    if (drop_part) unlink(part);
    return st;
}

/*
 * Takes the lock on the .part file, then downloads unless the file turned up meanwhile. If the
 * .part was renamed or removed while we waited, its holder finished (or gave up): look again.
 */
static ts_status fetch_locked(const char *url, const ts_fetch_options *o, const char *want,
                              const char *part, const char *final) {
    if (ts_mkdir_p(o->cache_dir) != TS_OK) return TS_ERR;
    int fd;
    for (;;) {
        fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) return ts_set_error("%s: cannot create %s: %s", url, part, strerror(errno));
        int lr;
        while ((lr = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
        }
        if (lr != 0) {
            int e = errno;
            close(fd);
            return ts_set_error("%s: cannot lock %s: %s", url, part, strerror(e));
        }
        if (same_file(fd, part)) break;
        close(fd);
    }
    ts_status st = TS_OK;
    if (cache_hit(final, want, 1)) {
        unlink(part); /* ours, and not needed */
    } else {
        st = download(url, o, want, fd, part, final);
        if (st == TS_OK) ts_fsync_dir(o->cache_dir);
    }
    close(fd); /* releases the lock only after the rename, so waiters find the final file */
    return st;
}

ts_status ts_fetch(const char *url, const ts_fetch_options *o, char *out_path, size_t cap) {
    ts_fetch_options defaults;
    if (!o) {
        ts_fetch_options_default(&defaults);
        o = &defaults;
    }
    if (!ts_is_url(url))
        return ts_set_error_status(TS_EUSAGE,
                                   "%s: not a URL tunescale can fetch (http://, https://, file://)",
                                   url ? url : "(null)");
    if (!o->cache_dir || !o->cache_dir[0])
        return ts_set_error_status(TS_EUSAGE, "%s: no cache directory given for the download", url);
    char want[65] = "";
    if (o->sha256) {
        size_t n = strlen(o->sha256);
        for (size_t i = 0; i < n && i < 64; i++)
            want[i] = (char)tolower((unsigned char)o->sha256[i]);
        want[n < 64 ? n : 64] = '\0';
        if (n != 64 || strspn(want, "0123456789abcdef") != 64)
            return ts_set_error_status(TS_EUSAGE, "%s: expected sha256 '%s' is not 64 hex digits",
                                       url, o->sha256);
    }
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK)
        return ts_set_error("%s: cannot initialise libcurl: %s", url,
                            curl_easy_strerror(curl_init_result));

    char final[4096], part[4096 + 8];
    if (ts_fetch_cache_path(url, o->cache_dir, final, sizeof final) != TS_OK) return TS_ERR;
    if (strlen(final) + 1 > cap)
        return ts_set_error("%s: output buffer too small for the cache path %s", url, final);
    snprintf(part, sizeof part, "%s.part", final);

    if (!cache_hit(final, want, 0)) {
        ts_status st = fetch_locked(url, o, want, part, final);
        if (st != TS_OK) return st;
    }
    memcpy(out_path, final, strlen(final) + 1);
    return TS_OK;
}
