/*
 * arena.h — a model's tensors packed into as few backend buffers as the per-buffer cap allows.
 *
 * A big model's activations outgrow what one allocation may hold (the device's limit, and 2^31
 * elements for 32-bit indices: be->max_buffer_bytes). An arena packs named tensors in order,
 * each 64-byte aligned, and starts a new buffer whenever the next tensor would cross the cap,
 * so no tensor straddles two buffers and every op keeps seeing one (buffer, offset) view.
 *
 * Two passes over the same layout code: first plan (ts_arena_take returns views without a
 * buffer and records the buffers' sizes), then ts_arena_alloc, then the same takes again, which
 * now point into the allocated buffers. The split depends only on the sizes and the cap, so the
 * same layout gives the same views on every backend with the same cap.
 */
#ifndef TS_MODEL_ARENA_H
#define TS_MODEL_ARENA_H

#include <stddef.h>

#include "backends/backend.h"

typedef struct {
    ts_buffer *buf;
    size_t floats; /* elements carved from it, alignment included */
} ts_arena_chunk;

typedef struct {
    size_t cap;             /* elements per buffer at most (a multiple of 16) */
    ts_arena_chunk *chunks; /* the buffers, in order */
    size_t n_chunks, cap_chunks;
    size_t cur, off; /* where the next take goes */
    int allocated;   /* the buffers exist: takes point into them */
    size_t too_big;  /* elements of the first tensor larger than cap (0: none) */
    int no_memory;   /* the host ran out of memory while planning */
} ts_arena;

/* An empty arena whose buffers hold at most cap_bytes (0: no cap, for planning only; a model
 * passes its backend's max_buffer_bytes). */
void ts_arena_init(ts_arena *a, size_t cap_bytes);
/* A view of n elements: the next one in the arena, in a new buffer if it would cross the cap. */
ts_tensor ts_arena_take(ts_arena *a, size_t n);
/* Allocates the planned buffers (counted under `category`) and rewinds, so the layout's takes
 * can be replayed into them. Fails cleanly (nothing left allocated) when a tensor alone is
 * larger than the cap or the device is out of memory. */
ts_status ts_arena_alloc(ts_arena *a, ts_backend *be, ts_mem_category category);
/* Frees the buffers and the plan; the arena is empty afterwards. */
void ts_arena_free(ts_arena *a, ts_backend *be);
/* Elements over all buffers (what the arena costs), and how many buffers. */
size_t ts_arena_floats(const ts_arena *a);
size_t ts_arena_buffers(const ts_arena *a);

#endif
