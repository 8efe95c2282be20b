/*
 * test_fetch.c — unit tests for the download stage (src/data/fetch.c).
 *
 * file:// fetches use files written into a mkdtemp directory; HTTP fetches go to a small
 * HTTP/1.1 server this file runs in a thread on 127.0.0.1 (an ephemeral port). The server
 * serves one pseudo-random payload at /data.bin, honours "Range: bytes=N-", and can be told to
 * cut a response short, ignore Range, or answer 503, so that resume, restart and retry paths
 * are exercised without any outside network.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "data/fetch.h"
#include "util/fsutil.h"
#include "util/progress.h"
#include "util/sha256.h"

#define PAYLOAD_SIZE 300000
#define CUT_BYTES    100000

static unsigned char payload[PAYLOAD_SIZE];

/* ---- the test HTTP server ---- */

typedef struct {
    int listen_fd;
    int port;
    pthread_t thread;
    atomic_int stop;
    atomic_int requests;       /* complete requests seen */
    atomic_int range_requests; /* of which carried a Range header */
    atomic_long range_start;   /* N of the last "Range: bytes=N-", -1 if none yet */
    atomic_int cut_next;       /* cut this many of the next GETs after CUT_BYTES body bytes */
    atomic_int fail_next;      /* answer this many of the next GETs with 503 */
    atomic_int ignore_range;   /* answer Range requests with 200 and the whole payload */
} test_server;

static int send_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_text(int fd, const char *status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                     strlen(body));
    if (send_all(fd, head, (size_t)n) == 0) send_all(fd, body, strlen(body));
}

/* Reads one request head, answers it, then closes the connection gracefully. */
static void serve_connection(test_server *s, int c) {
    struct timeval tv = {2, 0}; /* a stuck client must not hang the test */
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[8192];
    size_t n = 0;
    req[0] = '\0';
    while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t r = recv(c, req + n, sizeof req - 1 - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
        req[n] = '\0';
    }
    if (!strstr(req, "\r\n\r\n")) {
        close(c);
        return;
    }
    atomic_fetch_add(&s->requests, 1);
    for (size_t i = 0; i < n; i++) /* header names are case-insensitive */
        if (req[i] >= 'A' && req[i] <= 'Z') req[i] = (char)(req[i] - 'A' + 'a');

    char path[256] = "";
    long start = -1;
    sscanf(req, "get %255s", path);
    const char *range = strstr(req, "\r\nrange: bytes=");
    if (range) {
        start = strtol(range + strlen("\r\nrange: bytes="), NULL, 10);
        atomic_fetch_add(&s->range_requests, 1);
        atomic_store(&s->range_start, start);
    }

    char head[512];
    if (strcmp(path, "/data.bin") != 0) {
        send_text(c, "404 Not Found", "not found");
    } else if (atomic_load(&s->fail_next) > 0) {
        atomic_fetch_sub(&s->fail_next, 1);
        send_text(c, "503 Service Unavailable", "try later");
    } else if (start >= PAYLOAD_SIZE && !atomic_load(&s->ignore_range)) {
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%d\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n",
                         PAYLOAD_SIZE);
        send_all(c, head, (size_t)h);
    } else {
        size_t from = start > 0 && !atomic_load(&s->ignore_range) ? (size_t)start : 0;
        int h;
        if (from > 0)
            h = snprintf(head, sizeof head,
                         "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %zu-%d/%d\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         from, PAYLOAD_SIZE - 1, PAYLOAD_SIZE, (size_t)PAYLOAD_SIZE - from);
        else
            h = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
                         PAYLOAD_SIZE);
        size_t len = PAYLOAD_SIZE - from;
        if (atomic_load(&s->cut_next) > 0) {
            atomic_fetch_sub(&s->cut_next, 1);
            len = CUT_BYTES < len ? CUT_BYTES : len; /* promised more than we send */
        }
        if (send_all(c, head, (size_t)h) == 0) send_all(c, payload + from, len);
    }
    /* Half-close and wait for the client to hang up, so it reads everything we sent. */
    shutdown(c, SHUT_WR);
    char sink[4096];
    while (recv(c, sink, sizeof sink, 0) > 0) {
    }
    close(c);
}

static void *server_main(void *arg) {
    test_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue; /* wake up now and then to see the stop flag */
        int c = accept(s->listen_fd, NULL, NULL);
        if (c >= 0) serve_connection(s, c);
    }
    return NULL;
}

/* A loopback socket bound to an ephemeral port; returns the fd and writes the port. */
static int bind_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void server_start(test_server *s) {
    memset(s, 0, sizeof *s);
    atomic_store(&s->range_start, -1L);
    s->listen_fd = bind_loopback(&s->port);
    assert_int_equal(listen(s->listen_fd, 16), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(test_server *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

/* ---- fixture ---- */

typedef struct {
    int calls;
    uint64_t last_done, last_total;
} progress_log;

static void record_progress(void *user, uint64_t done, uint64_t total) {
    progress_log *p = user;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

typedef struct {
    char tmp[256];
    char cache[300];
    test_server server;
    progress_log log;
    ts_fetch_options opt;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/ts_fetch_XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->cache, sizeof f->cache, "%s/cache", f->tmp);
    server_start(&f->server);
    ts_fetch_options_default(&f->opt);
    f->opt.cache_dir = f->cache;
    f->opt.backoff_s = 0.01;
    f->opt.max_retries = 3;
    f->opt.progress = record_progress;
    f->opt.progress_user = &f->log;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    server_stop(&f->server);
    ts_remove_tree(f->tmp);
    free(f);
    return 0;
}

static void data_url(fixture *f, const char *path, char *out, size_t cap) {
    snprintf(out, cap, "http://127.0.0.1:%d%s", f->server.port, path);
}

static void assert_file_is(const char *path, const void *want, size_t n) {
    char *data;
    size_t len;
    assert_int_equal(ts_read_file(path, &data, &len), TS_OK);
    assert_int_equal(len, n);
    assert_memory_equal(data, want, n);
    free(data);
}

static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* ---- tests ---- */

static void test_file_url_and_cache_reuse(void **state) {
    fixture *f = *state;
    char src[512], url[600], got[4096], again[4096];
    snprintf(src, sizeof src, "%s/source.csv", f->tmp);
    size_t n = 50000;
    assert_int_equal(ts_write_file_atomic(src, payload, n), TS_OK);
    snprintf(url, sizeof url, "file://%s", src);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, n);
    assert_true(ts_has_suffix(got, "-source.csv")); /* the extension survives */
    assert_true(f->log.calls > 0);
    assert_int_equal(f->log.last_done, n);
    assert_int_equal(dir_entries(f->cache), 1); /* no .part left */

    /* Second fetch comes from the cache: the source is gone and no progress is reported. */
    assert_int_equal(unlink(src), 0);
    f->log.calls = 0;
    assert_int_equal(ts_fetch(url, &f->opt, again, sizeof again), TS_OK);
    assert_string_equal(again, got);
    assert_file_is(again, payload, n);
    assert_int_equal(f->log.calls, 0);
}

static void test_http_resume_after_cut(void **state) {
    fixture *f = *state;
    char url[128], got[4096];
    data_url(f, "/data.bin", url, sizeof url);
    atomic_store(&f->server.cut_next, 1);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.requests), 2);
    assert_int_equal(atomic_load(&f->server.range_requests), 1);
    assert_int_equal(atomic_load(&f->server.range_start), CUT_BYTES); /* resumed, not restarted */
    assert_int_equal(f->log.last_done, PAYLOAD_SIZE);
    assert_int_equal(f->log.last_total, PAYLOAD_SIZE);
    assert_int_equal(dir_entries(f->cache), 1);
}

static void test_sha256_mismatch_removes_download(void **state) {
    fixture *f = *state;
    char url[128], got[4096];
    data_url(f, "/data.bin", url, sizeof url);
    f->opt.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    char actual[65];
    ts_sha256_hex(payload, PAYLOAD_SIZE, actual);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "sha256 mismatch"));
    assert_non_null(strstr(ts_last_error(), actual)); /* says what it got */
    assert_non_null(strstr(ts_last_error(), url));
    assert_int_equal(dir_entries(f->cache), 0); /* neither final nor .part */
}

static void test_sha256_match_and_cache_hit(void **state) {
    fixture *f = *state;
    char url[128], got[4096], again[4096], want[65];
    data_url(f, "/data.bin", url, sizeof url);
    ts_sha256_hex(payload, PAYLOAD_SIZE, want);
    f->opt.sha256 = want;

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.requests), 1);

    /* Verified cache hit: no second request. */
    assert_int_equal(ts_fetch(url, &f->opt, again, sizeof again), TS_OK);
    assert_string_equal(again, got);
    assert_int_equal(atomic_load(&f->server.requests), 1);
}

static void test_corrupt_cache_is_replaced(void **state) {
    fixture *f = *state;
    char url[128], path[4096], got[4096], want[65];
    data_url(f, "/data.bin", url, sizeof url);
    ts_sha256_hex(payload, PAYLOAD_SIZE, want);
    f->opt.sha256 = want;
    assert_int_equal(ts_mkdir_p(f->cache), TS_OK);
    assert_int_equal(ts_fetch_cache_path(url, f->cache, path, sizeof path), TS_OK);
    assert_int_equal(ts_write_file_atomic(path, "stale", 5), TS_OK);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_string_equal(got, path);
    assert_file_is(got, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.requests), 1);
}

static void test_http_404_fails_at_once(void **state) {
    fixture *f = *state;
    char url[128], got[4096];
    data_url(f, "/missing.zip", url, sizeof url);
    f->opt.backoff_s = 1.0; /* a retry would make this test slow; there must be none */

    double t0 = ts_now();
    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_ERR);
    assert_true(ts_now() - t0 < 0.9);
    assert_int_equal(atomic_load(&f->server.requests), 1);
    assert_non_null(strstr(ts_last_error(), "HTTP 404 Not Found"));
    assert_non_null(strstr(ts_last_error(), url));
    assert_int_equal(dir_entries(f->cache), 0);
}

static void test_http_503_is_retried(void **state) {
    fixture *f = *state;
    char url[128], got[4096];
    data_url(f, "/data.bin", url, sizeof url);
    atomic_store(&f->server.fail_next, 2);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.requests), 3);
}

static void test_connection_refused_retries_then_fails(void **state) {
    fixture *f = *state;
    int port;
    int fd = bind_loopback(&port); /* a port nobody listens on once closed */
    close(fd);
    char url[128], got[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/data.bin", port);
    f->opt.max_retries = 2;

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_ERR);
    const char *msg = ts_last_error();
    assert_non_null(strstr(msg, url));
    assert_non_null(strstr(msg, "connection failed after 3 tries"));
    assert_null(strchr(msg, '\n'));
    assert_int_equal(dir_entries(f->cache), 0);
}

static void test_failed_download_resumes_next_run(void **state) {
    fixture *f = *state;
    char url[128], path[4096], part[4200], got[4096];
    data_url(f, "/data.bin", url, sizeof url);
    assert_int_equal(ts_fetch_cache_path(url, f->cache, path, sizeof path), TS_OK);
    snprintf(part, sizeof part, "%s.part", path);
    atomic_store(&f->server.cut_next, 2);
    f->opt.max_retries = 1;

    /* Two cut responses: each resumes where the last stopped, then the retries run out. */
    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_ERR);
    assert_non_null(strstr(ts_last_error(), "transfer interrupted after 2 tries"));
    assert_non_null(strstr(ts_last_error(), "run again to resume"));
    assert_false(ts_is_file(path));
    assert_file_is(part, payload, 2 * CUT_BYTES);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.range_start), 2 * CUT_BYTES);
    assert_int_equal(atomic_load(&f->server.requests), 3);
    assert_int_equal(dir_entries(f->cache), 1);
}

static void test_restart_when_range_ignored(void **state) {
    fixture *f = *state;
    char url[128], path[4096], part[4200], got[4096];
    data_url(f, "/data.bin", url, sizeof url);
    assert_int_equal(ts_mkdir_p(f->cache), TS_OK);
    assert_int_equal(ts_fetch_cache_path(url, f->cache, path, sizeof path), TS_OK);
    snprintf(part, sizeof part, "%s.part", path);
    char junk[5000];
    memset(junk, 'x', sizeof junk);
    assert_int_equal(ts_write_file_atomic(part, junk, sizeof junk), TS_OK);
    atomic_store(&f->server.ignore_range, 1);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, PAYLOAD_SIZE); /* the junk prefix is gone */
    assert_int_equal(atomic_load(&f->server.range_start), (long)sizeof junk);
    assert_int_equal(dir_entries(f->cache), 1);
}

static void test_restart_after_416(void **state) {
    fixture *f = *state;
    char url[128], path[4096], part[4200], got[4096];
    data_url(f, "/data.bin", url, sizeof url);
    assert_int_equal(ts_mkdir_p(f->cache), TS_OK);
    assert_int_equal(ts_fetch_cache_path(url, f->cache, path, sizeof path), TS_OK);
    snprintf(part, sizeof part, "%s.part", path);
    static unsigned char longer[PAYLOAD_SIZE + 10];
    assert_int_equal(ts_write_file_atomic(part, longer, sizeof longer), TS_OK);

    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_OK);
    assert_file_is(got, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.requests), 2); /* 416, then a plain GET */
    assert_int_equal(atomic_load(&f->server.range_requests), 1);
}

static void test_missing_file_url_fails_at_once(void **state) {
    fixture *f = *state;
    char url[512], got[4096];
    snprintf(url, sizeof url, "file://%s/nope.json", f->tmp);
    f->opt.backoff_s = 1.0;

    double t0 = ts_now();
    assert_int_equal(ts_fetch(url, &f->opt, got, sizeof got), TS_ERR);
    assert_true(ts_now() - t0 < 0.9);
    assert_non_null(strstr(ts_last_error(), url));
    assert_int_equal(dir_entries(f->cache), 0);
}

typedef struct {
    const char *url;
    ts_fetch_options opt;
    progress_log log;
    ts_status st;
    char path[4096];
} fetch_job;

static void *fetch_thread(void *arg) {
    fetch_job *j = arg;
    j->opt.progress_user = &j->log;
    j->st = ts_fetch(j->url, &j->opt, j->path, sizeof j->path);
    return NULL;
}

static void test_concurrent_fetches_share_one_download(void **state) {
    fixture *f = *state;
    char url[128];
    data_url(f, "/data.bin", url, sizeof url);
    fetch_job jobs[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].url = url;
        jobs[i].opt = f->opt;
        assert_int_equal(pthread_create(&th[i], NULL, fetch_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jobs[i].st, TS_OK);
        assert_string_equal(jobs[i].path, jobs[0].path);
    }
    assert_file_is(jobs[0].path, payload, PAYLOAD_SIZE);
    assert_int_equal(atomic_load(&f->server.requests), 1);
    assert_int_equal(dir_entries(f->cache), 1);
}

static void test_is_url(void **state) {
    (void)state;
    assert_true(ts_is_url("http://example.com/a.zip"));
    assert_true(ts_is_url("https://example.com/x/y.tar.gz?token=1"));
    assert_true(ts_is_url("HTTPS://EXAMPLE.COM/"));
    assert_true(ts_is_url("file:///tmp/a.abc"));
    assert_false(ts_is_url("/tmp/a.abc"));
    assert_false(ts_is_url("data/tunes.csv"));
    assert_false(ts_is_url("ftp://example.com/a.zip"));
    assert_false(ts_is_url("http://"));
    assert_false(ts_is_url("httpx://a"));
    assert_false(ts_is_url(""));
    assert_false(ts_is_url(NULL));
}

static void test_cache_names(void **state) {
    (void)state;
    char path[4096], digest[65], want[256];
    const char *url = "https://h.example/dir/My%20Tunes(1).tar.gz?sig=a/b#frag";
    ts_sha256_hex(url, strlen(url), digest);
    assert_int_equal(ts_fetch_cache_path(url, "/c", path, sizeof path), TS_OK);
    snprintf(want, sizeof want, "/c/%.16s-My_Tunes_1_.tar.gz", digest);
    assert_string_equal(path, want);

    assert_int_equal(ts_fetch_cache_path("http://h.example", "/c/", path, sizeof path), TS_OK);
    assert_true(ts_has_suffix(path, "-download"));
    assert_int_equal(strlen(ts_basename(path)), 16 + strlen("-download"));
    assert_int_equal(ts_fetch_cache_path("http://h.example/d/", "/c", path, sizeof path), TS_OK);
    assert_true(ts_has_suffix(path, "-download"));
    assert_int_equal(ts_fetch_cache_path("file:///x/abc.json", "/c", path, sizeof path), TS_OK);
    assert_true(ts_has_suffix(path, "-abc.json"));

    /* Different URLs with the same basename do not collide. */
    char other[4096];
    assert_int_equal(ts_fetch_cache_path("file:///y/abc.json", "/c", other, sizeof other), TS_OK);
    assert_string_not_equal(path, other);

    /* A path that does not fit is an error, not a truncated name. */
    char small[8];
    assert_int_equal(ts_fetch_cache_path(url, "/c", small, sizeof small), TS_ERR);
}

static void test_bad_arguments(void **state) {
    fixture *f = *state;
    char got[4096];
    assert_int_equal(ts_fetch("/not/a/url.csv", &f->opt, got, sizeof got), TS_EUSAGE);
    f->opt.sha256 = "abc";
    assert_int_equal(ts_fetch("http://127.0.0.1:1/x", &f->opt, got, sizeof got), TS_EUSAGE);
    assert_non_null(strstr(ts_last_error(), "sha256"));
    assert_int_equal(atomic_load(&f->server.requests), 0);
}

int main(void) {
    /* Never send the loopback test traffic through a proxy from the environment. */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift64: a fixed pseudo-random payload */
    for (size_t i = 0; i < PAYLOAD_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        payload[i] = (unsigned char)(x >> 24);
    }
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_file_url_and_cache_reuse),
        T(test_http_resume_after_cut),
        T(test_sha256_mismatch_removes_download),
        T(test_sha256_match_and_cache_hit),
        T(test_corrupt_cache_is_replaced),
        T(test_http_404_fails_at_once),
        T(test_http_503_is_retried),
        T(test_connection_refused_retries_then_fails),
        T(test_failed_download_resumes_next_run),
        T(test_restart_when_range_ignored),
        T(test_restart_after_416),
        T(test_missing_file_url_fails_at_once),
        T(test_concurrent_fetches_share_one_download),
        cmocka_unit_test(test_is_url),
        cmocka_unit_test(test_cache_names),
        T(test_bad_arguments),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
