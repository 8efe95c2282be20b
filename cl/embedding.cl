/*
 * embedding.cl — table lookups by int32 id and the deterministic scatter-add backward.
 *
 * Ids live on the device, so a bad id can only be caught here: the kernel skips it and sets
 * the backend's status word, which sync reports.
 */

/* out[i, c] = (acc ? out[i, c] : 0) + table[ids[i], c]; global (C, n) */
__kernel void ts_embedding_forward(__global float *out, ulong oo, __global const float *table,
                                   ulong to, __global const int *ids, ulong io, uint n, uint C,
                                   int V, int accumulate, __global int *status) {
    uint c = get_global_id(0), i = get_global_id(1);
    if (c >= C || i >= n) return;
    int id = ids[io + i];
    if (id < 0 || id >= V) {
        *status = TS_BAD_EMBEDDING_ID;
        return;
    }
    float v = table[to + (ulong)id * C + c];
    ulong k = oo + (ulong)i * C + c;
    out[k] = accumulate ? out[k] + v : v;
}

/*
 * dtable[r, :] += dout[i, :] for every i with ids[i] == r, added in increasing i (the CPU
 * backend's order), so results are bit-for-bit reproducible with no atomics.
 *
 * One work-group of TS_EMB_TILE items owns table row r = group id. It walks the ids in tiles:
 * each item tests one id, an exclusive prefix sum over the tile's matches gives each match its
 * slot, the matching positions land in local memory in order, and then every item adds those
 * rows of dout for its columns. Cost: V * n id tests (cheap, coalesced) plus the n * C adds.
 */
__kernel void ts_embedding_backward(__global float *dtable, ulong dto, __global const float *dout,
                                    ulong doo, __global const int *ids, ulong io, uint n, uint C,
                                    int V, __global int *status) {
    __local uint scan[TS_EMB_TILE];
    __local uint pos[TS_EMB_TILE];
    int r = get_group_id(0);
    uint lid = get_local_id(0);
    /* Each item carries the running sums of four columns in registers, so one pass over the
     * ids covers 4 * TS_EMB_TILE columns; wider rows take several passes. */
    for (uint c0 = 0; c0 < C; c0 += TS_EMB_TILE * 4) {
        float acc[4];
        for (int q = 0; q < 4; q++) {
            uint c = c0 + lid + q * TS_EMB_TILE;
            acc[q] = c < C ? dtable[dto + (ulong)r * C + c] : 0.0f;
        }
        for (uint t0 = 0; t0 < n; t0 += TS_EMB_TILE) {
            uint i = t0 + lid;
            int id = i < n ? ids[io + i] : -1;
            if (i < n && (id < 0 || id >= V) && r == 0 && c0 == 0) *status = TS_BAD_EMBEDDING_ID;
            uint hit = id == r ? 1u : 0u;
            /* inclusive Hillis-Steele scan of the hit flags */
            scan[lid] = hit;
            barrier(CLK_LOCAL_MEM_FENCE);
            for (uint s = 1; s < TS_EMB_TILE; s <<= 1) {
                uint add = lid >= s ? scan[lid - s] : 0u;
                barrier(CLK_LOCAL_MEM_FENCE);
                scan[lid] += add;
                barrier(CLK_LOCAL_MEM_FENCE);
            }
            if (hit) pos[scan[lid] - 1] = i;
            uint count = scan[TS_EMB_TILE - 1];
            barrier(CLK_LOCAL_MEM_FENCE);
            for (uint p = 0; p < count; p++) {
                ulong row = doo + (ulong)pos[p] * C;
                for (int q = 0; q < 4; q++) {
                    uint c = c0 + lid + q * TS_EMB_TILE;
                    if (c < C) acc[q] += dout[row + c];
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE); /* pos and scan are rewritten by the next tile */
        }
        for (int q = 0; q < 4; q++) {
            uint c = c0 + lid + q * TS_EMB_TILE;
            if (c < C) dtable[dto + (ulong)r * C + c] = acc[q];
        }
    }
}
