/* loader.c — windows, per-epoch shuffles and batches over a token file (see loader.h). */
#include "train/loader.h"

#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/philox.h"

enum { SHUFFLE_STREAM_BASE = 0x53480000u }; /* "SH" + epoch */

size_t ts_window_count(size_t n, int T, int stride) {
    if (n < (size_t)T + 2) return 1; /* one padded window */
    size_t full = (n - 1 - (size_t)T) / (size_t)stride + 1;
    size_t last_start = (full - 1) * (size_t)stride;
    /* a padded window for the tail when targets remain and a window can start before them */
    int tail = last_start + (size_t)T < n - 1 && last_start + (size_t)stride < n - 1;
    return full + (size_t)tail;
}

ts_status ts_loader_open(ts_loader *l, const char *path, int T, int stride, int vocab_size) {
    memset(l, 0, sizeof *l);
    l->epoch = -1;
    char *bytes;
    size_t len;
    if (ts_read_file(path, &bytes, &len) != TS_OK) return TS_ERR;
    if (len % 2 || len == 0) {
        free(bytes);
        return ts_set_error("%s: %s token file (re-run tunescale data prepare)", path,
                            len ? "odd-sized" : "empty");
    }
    l->n_tokens = len / 2;
    l->tokens = malloc(len);
    if (!l->tokens) {
        free(bytes);
        return ts_set_error_status(TS_ENOMEM, "out of host memory reading %s", path);
    }
    const unsigned char *b = (const unsigned char *)bytes;
    for (size_t i = 0; i < l->n_tokens; i++) {
        l->tokens[i] = (uint16_t)(b[2 * i] | (b[2 * i + 1] << 8));
        if (l->tokens[i] >= vocab_size) {
            unsigned id = l->tokens[i]; /* read before close frees the tokens */
            free(bytes);
            ts_loader_close(l);
            return ts_set_error("%s: token %zu has id %u, outside the vocabulary of %d (was the "
                                "dataset rebuilt?)",
                                path, i, id, vocab_size);
        }
    }
    free(bytes);
    l->T = T;
    l->stride = stride;
    l->n_windows = ts_window_count(l->n_tokens, T, stride);
    l->order = malloc(l->n_windows * sizeof *l->order);
    if (!l->order) {
        ts_loader_close(l);
        return ts_set_error_status(TS_ENOMEM, "out of host memory for %s", path);
    }
    return TS_OK;
}

void ts_loader_close(ts_loader *l) {
    free(l->tokens);
    free(l->order);
    memset(l, 0, sizeof *l);
}

void ts_loader_window(const ts_loader *l, size_t w, int32_t *x, int32_t *y) {
    size_t start = w * (size_t)l->stride;
    for (int t = 0; t < l->T; t++) {
        size_t i = start + (size_t)t;
        x[t] = i < l->n_tokens ? l->tokens[i] : 0;
        y[t] = i + 1 < l->n_tokens ? l->tokens[i + 1] : 0;
    }
}

void ts_loader_set_epoch(ts_loader *l, uint64_t seed, long epoch, int shuffle) {
    for (uint32_t i = 0; i < l->n_windows; i++)
        l->order[i] = i;
    if (shuffle) {
        ts_rng r;
        ts_rng_init(&r, seed, SHUFFLE_STREAM_BASE + (uint32_t)epoch);
        ts_rng_shuffle_u32(&r, l->order, (uint32_t)l->n_windows);
    }
    l->epoch = epoch;
}

size_t ts_loader_batches(const ts_loader *l, int B) {
    return (l->n_windows + (size_t)B - 1) / (size_t)B;
}

int ts_loader_batch(const ts_loader *l, size_t j, int B, int32_t *x, int32_t *y) {
    size_t first = j * (size_t)B;
    int n = 0;
    for (; n < B && first + (size_t)n < l->n_windows; n++)
        ts_loader_window(l, l->order[first + (size_t)n], x + (size_t)n * l->T,
                         y + (size_t)n * l->T);
    return n;
}
