/*
 * bias.cl — bias add and deterministic column sums (bias gradients; LayerNorm's parameter
 * gradients reuse the finishing pass).
 *
 * Column sums in two passes, as the CPU backend: partials over fixed chunks of TS_COLSUM_ROWS
 * rows, each summed in row order, then the partials added in chunk order. No atomics: the
 * result is the same on every run.
 */

/* out[r, c] += bias[c]; global (cols, rows) */
__kernel void ts_bias_add(__global float *out, ulong oo, __global const float *bias, ulong bo,
                          uint rows, uint cols) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c < cols && r < rows) out[oo + (ulong)r * cols + c] += bias[bo + c];
}

/* part[k * cols + c] = sum of src[r, c] over rows r of chunk k; global (cols, chunks) */
__kernel void ts_colsum_partial(__global float *part, __global const float *src, ulong so,
                                uint rows, uint cols) {
    uint c = get_global_id(0), k = get_global_id(1);
    if (c >= cols) return;
    uint r0 = k * TS_COLSUM_ROWS, r1 = min(rows, r0 + TS_COLSUM_ROWS);
    if (r0 >= rows) return;
    float acc = 0.0f;
    for (uint r = r0; r < r1; r++)
        acc += src[so + (ulong)r * cols + c];
    part[(ulong)k * cols + c] = acc;
}

/* dst[c] += sum_k part[k * width + base + c]; global (cols) */
__kernel void ts_colsum_finish(__global float *dst, ulong dso, __global const float *part,
                               uint cols, uint chunks, uint width, uint base) {
    uint c = get_global_id(0);
    if (c >= cols) return;
    float acc = 0.0f;
    for (uint k = 0; k < chunks; k++)
        acc += part[(ulong)k * width + base + c];
    dst[dso + c] += acc;
}
