/*
 * loader.h — training windows over a split's token file (little-endian uint16).
 *
 * A window is T+1 consecutive tokens: inputs x = w[0..T), targets y = w[1..T]. Windows start
 * every `stride` tokens. With stride = T (the default) each token is a target once per epoch,
 * and a last, <PAD>-padded window covers the tail; with stride 1 the windows are exactly the
 * notebook's ABCDataset (len - T of them). Each epoch visits the windows in a seeded random
 * order (Philox stream keyed by seed and epoch), so a resumed run sees the same batches.
 */
#ifndef TS_TRAIN_LOADER_H
#define TS_TRAIN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    uint16_t *tokens;
    size_t n_tokens;
    int T, stride;
    size_t n_windows;
    uint32_t *order; /* this epoch's window order */
    long epoch;      /* the epoch `order` was drawn for, -1 none */
} ts_loader;

ts_status ts_loader_open(ts_loader *l, const char *bin_path, int T, int stride, int vocab_size);
void ts_loader_close(ts_loader *l);
/* Number of windows for n tokens (exposed for tests). */
size_t ts_window_count(size_t n_tokens, int T, int stride);
/* Window w (in file order) into x and y (T each); positions past the end are <PAD> (0). */
void ts_loader_window(const ts_loader *l, size_t w, int32_t *x, int32_t *y);
/* Sets order to epoch's permutation (seeded); shuffle = 0 keeps file order. */
void ts_loader_set_epoch(ts_loader *l, uint64_t seed, long epoch, int shuffle);
/* Fills batch j of the current epoch: up to B windows; returns how many (the last is short). */
int ts_loader_batch(const ts_loader *l, size_t j, int B, int32_t *x, int32_t *y);
size_t ts_loader_batches(const ts_loader *l, int B);

#endif
