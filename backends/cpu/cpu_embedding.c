/*
 * cpu_embedding.c — table lookups by int32 id (token and position embeddings) and their
 * scatter-add backward.
 *
 * The table's row count is not passed in, so an id is checked against the rows the table's
 * buffer can hold: a negative id or one past the buffer is an error, never a wild read.
 */
#include "backends/cpu/cpu_internal.h"

#include <string.h>

/* Rows of width C that fit in the buffer after the view's offset. */
/* Returns 1 if every ids[i] is a row of the table, else records an error and returns 0. */
static int check_ids(ts_backend *be, const int32_t *ids, int n, size_t rows, const char *op) {
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= rows) {
            cpu_fail(be, "%s: id %d at position %d is outside the %zu-row table", op, ids[i], i,
                     rows);
            return 0;
        }
    }
    return 1;
}

/* out[i, :] = (accumulate ? out[i, :] : 0) + table[ids[i], :] */
void cpu_embedding_forward(ts_backend *be, ts_tensor out, ts_tensor table, ts_tensor ids, int n,
                           int C, int V, int accumulate) {
    if (n <= 0 || C <= 0) return;
    float *po = cpu_f32(out);
    const float *pt = cpu_f32(table);
    const int32_t *pid = cpu_i32(ids);
    if (!check_ids(be, pid, n, V, "embedding_forward")) return;
    long work = (long)n * C;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (int i = 0; i < n; i++) {
        const float *src = pt + (size_t)pid[i] * C;
        float *dst = po + (size_t)i * C;
        if (accumulate)
            for (int c = 0; c < C; c++)
                dst[c] += src[c];
        else
            for (int c = 0; c < C; c++)
                dst[c] = src[c];
    }
}

/*
 * dtable[ids[i], :] += dout[i, :]. Repeated ids collide, so the positions are first grouped by
 * id with a counting sort (stable: increasing i within an id); then each thread owns whole
 * table rows and adds their positions in order. Every entry is summed in the order i = 0..n-1
 * whatever the thread count, and every add is a contiguous row.
 */
void cpu_embedding_backward(ts_backend *be, ts_tensor dtable, ts_tensor dout, ts_tensor ids, int n,
                            int C, int V) {
    if (n <= 0 || C <= 0) return;
    float *pt = cpu_f32(dtable);
    const float *pdo = cpu_f32(dout);
    const int32_t *pid = cpu_i32(ids);
    if (!check_ids(be, pid, n, V, "embedding_backward")) return;
    int rows = 0; /* 1 + the largest id: only these table rows are touched */
    for (int i = 0; i < n; i++)
        rows = pid[i] >= rows ? pid[i] + 1 : rows;
    /* start[rows + 1]: first slot of each id in order[n]; cursor[rows]: next free slot */
    int *start = cpu_scratch(be, ((size_t)2 * rows + 1 + (size_t)n) * sizeof(int));
    if (!start) return;
    int *cursor = start + rows + 1, *order = cursor + rows;
    memset(start, 0, ((size_t)rows + 1) * sizeof *start);
    for (int i = 0; i < n; i++)
        start[pid[i] + 1]++;
    for (int r = 0; r < rows; r++) {
        start[r + 1] += start[r];
        cursor[r] = start[r];
    }
    for (int i = 0; i < n; i++)
        order[cursor[pid[i]]++] = i;
    long work = (long)n * C;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(dynamic, 4) if (work >= CPU_PAR_MIN)
    for (int r = 0; r < rows; r++) {
        float *dst = pt + (size_t)r * C;
        for (int p = start[r]; p < start[r + 1]; p++) {
            const float *src = pdo + (size_t)order[p] * C;
            for (int c = 0; c < C; c++)
                dst[c] += src[c];
        }
    }
}
