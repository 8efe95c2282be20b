/*
 * test_vulkan_stream.c — the Vulkan stream (backends/vulkan/vulkan_stream.c): work is
 * submitted without waiting, and the host waits only for what a download needs.
 *
 * Checked through the backend's counters (submissions, host_waits) and real values, on mapped
 * buffers (lavapipe's own path) and again with TUNESCALE_VK_STAGING=1 (the discrete-GPU path),
 * under the validation layer when it is installed (any message is an error):
 *  - an upload into a buffer that recorded work still reads lands after that work (stream
 *    order), small (inline) and large (staging) alike, and does not wait;
 *  - 3000 dispatches on distinct views (more sets than one descriptor pool holds) and one
 *    download cost one submission and one wait; the same dispatches again reuse the cached sets;
 *  - a download of a buffer whose work is done submits what is recorded and does not wait;
 *  - a buffer freed while recorded work uses it stays valid for that work;
 *  - a bad embedding id still fails the next download with its message.
 * Without a Vulkan device it prints "skipped" and passes, unless TS_REQUIRE_BACKENDS names
 * vulkan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok   ");                                                                       \
        } else {                                                                                   \
            printf("FAIL ");                                                                       \
            failures++;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

static ts_buffer *alloc(ts_backend *be, size_t n) {
    ts_buffer *b = NULL;
    if (ts_buffer_alloc(be, n * sizeof(float), &b) != TS_OK) {
        printf("FAIL alloc %zu floats: %s\n", n, ts_last_error());
        exit(1);
    }
    return b;
}

static void fill_host(float *h, size_t n, float v) {
    for (size_t i = 0; i < n; i++)
        h[i] = v;
}

/* Every element of the download equals v (sums of small whole numbers are exact). */
static int all_equal(ts_backend *be, ts_buffer *b, size_t n, float v) {
    float *h = malloc(n * sizeof *h);
    int ok = h && be->iface->download(be, h, (ts_tensor){b, 0}, n * sizeof *h) == TS_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = h[i] == v;
    free(h);
    return ok;
}

/* Uploads into a buffer that recorded work still reads: each add must see the data that was
 * uploaded before it, whatever path the upload takes (n floats: inline up to 64 KiB). */
static void test_upload_order(ts_backend *be, size_t n, const char *mode) {
    ts_buffer *x = alloc(be, n), *y = alloc(be, n), *z = alloc(be, n);
    float *h = malloc(n * sizeof *h);
    fill_host(h, n, 1.0f);
    unsigned long waits = be->host_waits;
    be->iface->upload(be, (ts_tensor){x, 0}, h, n * sizeof *h);
    be->iface->add(be, (ts_tensor){y, 0}, (ts_tensor){x, 0}, (ts_tensor){x, 0}, n);
    fill_host(h, n, 3.0f);
    be->iface->upload(be, (ts_tensor){x, 0}, h, n * sizeof *h);
    fill_host(h, n, -7.0f); /* the upload copied the caller's memory */
    be->iface->add(be, (ts_tensor){z, 0}, (ts_tensor){x, 0}, (ts_tensor){x, 0}, n);
    CHECK(be->host_waits == waits && be->error == TS_OK,
          "%s: uploads of %zu floats between adds do not wait (%lu waits)", mode, n,
          be->host_waits - waits);
    CHECK(all_equal(be, y, n, 2.0f) && all_equal(be, z, n, 6.0f),
          "%s: each add sees the upload before it (%zu floats)", mode, n);
    free(h);
    ts_buffer_free(be, x);
    ts_buffer_free(be, y);
    ts_buffer_free(be, z);
}

/* More dispatches on distinct views than one descriptor pool holds (2048 sets), then one
 * download: one submission and one wait, twice (the second time from the cache). */
static void test_many_dispatches(ts_backend *be, const char *mode) {
    enum { VIEWS = 3000, W = 4 };
    ts_buffer *x = alloc(be, (size_t)VIEWS * W);
    float *h = malloc(sizeof(float) * VIEWS * W);
    fill_host(h, (size_t)VIEWS * W, 1.0f);
    be->iface->upload(be, (ts_tensor){x, 0}, h, sizeof(float) * VIEWS * W);
    ts_backend_sync(be);
    for (int round = 1; round <= 2; round++) {
        unsigned long subs = be->submissions, waits = be->host_waits, disp = be->dispatches;
        for (size_t v = 0; v < VIEWS; v++)
            be->iface->scale(be, (ts_tensor){x, v * W}, 2.0f, W);
        int ok = all_equal(be, x, (size_t)VIEWS * W, round == 1 ? 2.0f : 4.0f);
        CHECK(ok && be->dispatches - disp == VIEWS && be->submissions - subs == 1 &&
                  be->host_waits - waits == 1,
              "%s: %d dispatches on distinct views and a download: %lu submission(s), %lu "
              "wait(s) (round %d)",
              mode, VIEWS, be->submissions - subs, be->host_waits - waits, round);
    }
    free(h);
    ts_buffer_free(be, x);
}

/* A mapped buffer's download waits for the submission that last used it, not for later work
 * (staged, the copy to host-visible memory queues behind that work: one wait). */
static void test_download_waits_for_its_work(ts_backend *be, const char *mode, int staged) {
    enum { N = 256 };
    ts_buffer *a = alloc(be, N), *b = alloc(be, N);
    be->iface->fill(be, (ts_tensor){a, 0}, 5.0f, N);
    int ok = all_equal(be, a, N, 5.0f);
    unsigned long subs = be->submissions, waits = be->host_waits;
    be->iface->fill(be, (ts_tensor){b, 0}, 9.0f, N);
    ok = ok && all_equal(be, a, N, 5.0f);
    CHECK(ok && be->submissions - subs == 1 && be->host_waits - waits == (unsigned long)staged,
          "%s: a download of finished work submits the recording (%lu) and waits %lu times", mode,
          be->submissions - subs, be->host_waits - waits);
    waits = be->host_waits;
    CHECK(all_equal(be, b, N, 9.0f) && be->host_waits - waits == 1,
          "%s: the later work's download waits once (%lu)", mode, be->host_waits - waits);
    ts_buffer_free(be, a);
    ts_buffer_free(be, b);
}

/* Freed while recorded work still uses it: destroyed only after that work. */
static void test_free_while_recorded(ts_backend *be, const char *mode) {
    enum { N = 4096 };
    ts_buffer *t = alloc(be, N), *out = alloc(be, N);
    be->iface->fill(be, (ts_tensor){t, 0}, 1.5f, N);
    be->iface->add(be, (ts_tensor){out, 0}, (ts_tensor){t, 0}, (ts_tensor){t, 0}, N);
    ts_buffer_free(be, t);
    ts_buffer *u = alloc(be, N); /* may take t's memory, zeroed after the add in stream order */
    be->iface->add(be, (ts_tensor){u, 0}, (ts_tensor){u, 0}, (ts_tensor){out, 0}, N);
    CHECK(all_equal(be, out, N, 3.0f) && all_equal(be, u, N, 3.0f),
          "%s: a buffer freed while recorded work uses it serves that work", mode);
    ts_buffer_free(be, u);
    ts_buffer_free(be, out);
}

/* A bad id is found on the device; the next download reports it. */
static void test_bad_id(ts_backend *be, const char *mode) {
    enum { C = 4, V = 3, N = 2 };
    ts_buffer *table = alloc(be, C * V), *out = alloc(be, C * N), *ids = alloc(be, N);
    int32_t bad[N] = {1, 7};
    be->iface->upload(be, (ts_tensor){ids, 0}, bad, sizeof bad);
    be->iface->embedding_forward(be, (ts_tensor){out, 0}, (ts_tensor){table, 0},
                                 (ts_tensor){ids, 0}, N, C, V, 0);
    float h[C * N];
    ts_status st = be->iface->download(be, h, (ts_tensor){out, 0}, sizeof h);
    CHECK(st != TS_OK && strstr(ts_last_error(), "embedding: an id is outside the table"),
          "%s: a bad id fails the download: %s", mode, st == TS_OK ? "no error" : ts_last_error());
    ts_buffer_free(be, table);
    ts_buffer_free(be, out);
    ts_buffer_free(be, ids);
}

static int run(const char *mode, int staged) {
    ts_backend_options o = {0};
    o.threads = 1;
    ts_backend *be = NULL;
    if (ts_backend_create("vulkan", &o, &be) != TS_OK) {
        const char *req = getenv("TS_REQUIRE_BACKENDS");
        printf("skipped: vulkan: %s\n", ts_last_error());
        return req && strstr(req, "vulkan") ? 1 : 0;
    }
    test_upload_order(be, 1000, mode);  /* inline: vkCmdUpdateBuffer */
    test_upload_order(be, 40000, mode); /* 160 KB: through the staging chunks */
    test_many_dispatches(be, mode);
    test_download_waits_for_its_work(be, mode, staged);
    test_free_while_recorded(be, mode);
    CHECK(ts_backend_sync(be) == TS_OK, "%s: no error so far (validation silent): %s", mode,
          be->error == TS_OK ? "none" : ts_last_error());
    test_bad_id(be, mode);
    ts_backend_destroy(be);
    return 0;
}

int main(void) {
    setenv("TUNESCALE_VK_VALIDATION", "1", 0);
    if (run("mapped", 0)) return 1;
    setenv("TUNESCALE_VK_STAGING", "1", 1);
    if (run("staged", 1)) return 1;
    printf("%d failure(s)\n", failures);
    return failures != 0;
}
