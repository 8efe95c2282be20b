/* arena.c — packing tensors into capped buffers (see arena.h). */
#include "model/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

void ts_arena_init(ts_arena *a, size_t cap_bytes) {
    memset(a, 0, sizeof *a);
    size_t cap = cap_bytes ? cap_bytes / 4 : SIZE_MAX;
    a->cap = cap & ~(size_t)15; /* whole aligned tensors */
}

/* Opens chunk a->cur when planning; 0 when the host is out of memory. */
static int open_chunk(ts_arena *a) {
    if (a->cur < a->n_chunks) return 1;
    if (a->allocated) return 0; /* the replay takes more than the plan did: a layout bug */
    if (a->n_chunks == a->cap_chunks) {
        size_t cap = a->cap_chunks ? 2 * a->cap_chunks : 4;
        ts_arena_chunk *c = realloc(a->chunks, cap * sizeof *c);
        if (!c) return 0;
        a->chunks = c;
        a->cap_chunks = cap;
    }
    a->chunks[a->n_chunks++] = (ts_arena_chunk){NULL, 0};
    return 1;
}

ts_tensor ts_arena_take(ts_arena *a, size_t n) {
    ts_tensor t = {NULL, 0};
    size_t span = (n + 15) & ~(size_t)15; /* 64-byte aligned, as ts_carve */
    if (span > a->cap) {
        if (!a->too_big) a->too_big = n;
        return t;
    }
    if (a->off > 0 && span > a->cap - a->off) { /* would cross the cap: next buffer */
        a->cur++;
        a->off = 0;
    }
    if (!open_chunk(a)) {
        a->no_memory = 1;
        return t;
    }
    ts_arena_chunk *c = &a->chunks[a->cur];
    t.buf = c->buf;
    t.off = a->off;
    a->off += span;
    if (!a->allocated) c->floats = a->off;
    return t;
}

ts_status ts_arena_alloc(ts_arena *a, ts_backend *be, ts_mem_category category) {
    if (a->no_memory) return ts_set_error_status(TS_ENOMEM, "out of host memory");
    if (a->too_big) {
        be->oom_needed_bytes = be->bytes_in_use + a->too_big * 4;
        return ts_set_error_status(TS_ENOMEM,
                                   "%s backend: out of memory: one tensor of %zu elements is "
                                   "more than one buffer may hold (%zu elements: %s); use a "
                                   "smaller batch or model",
                                   be->iface->name, a->too_big, a->cap,
                                   be->max_buffer_why ? be->max_buffer_why : "the cap");
    }
    for (size_t i = 0; i < a->n_chunks; i++) {
        ts_status st = ts_buffer_alloc_as(be, a->chunks[i].floats * 4, category, &a->chunks[i].buf);
        if (st != TS_OK) {
            for (size_t j = 0; j < i; j++) {
                ts_buffer_free(be, a->chunks[j].buf);
                a->chunks[j].buf = NULL;
            }
            return st;
        }
    }
    a->allocated = 1;
    a->cur = 0;
    a->off = 0;
    return TS_OK;
}

void ts_arena_free(ts_arena *a, ts_backend *be) {
    for (size_t i = 0; i < a->n_chunks; i++)
        ts_buffer_free(be, a->chunks[i].buf);
    free(a->chunks);
    size_t cap = a->cap;
    memset(a, 0, sizeof *a);
    a->cap = cap;
}

size_t ts_arena_floats(const ts_arena *a) {
    size_t total = 0;
    for (size_t i = 0; i < a->n_chunks; i++)
        total += a->chunks[i].floats;
    return total;
}

size_t ts_arena_buffers(const ts_arena *a) {
    return a->n_chunks;
}
