/*
 * peak.cl — `bench peak`'s kernels: a compute-bound FMA loop and a bandwidth-bound copy.
 * Their numbers are device ceilings (MFU is reported against them), not op results.
 */

/* Sixteen independent chains per work-item: enough instruction-level parallelism to hide the
 * FMA latency even at low occupancy; the chains start apart so no two are the same value and
 * none can be merged by the compiler. 32 * iters flops per item. */
__kernel void ts_peak_fma(__global float *out, ulong oo, uint items, uint iters) {
    uint i = get_global_id(0);
    if (i >= items) return;
    float base = (float)(i % 1024u) * 0x1p-10f;
    float x[16];
    for (int j = 0; j < 16; j++)
        x[j] = base + (float)j * 0x1p-4f;
    for (uint it = 0; it < iters; it++) {
#pragma unroll
        for (int j = 0; j < 16; j++)
            x[j] = fma(x[j], 0.999f, 0.001f);
    }
    float s = 0.0f;
    for (int j = 0; j < 16; j++)
        s += x[j];
    out[oo + i] = s;
}

/* One float4 per item: the widest plain load every device has. n4 = n / 4. */
__kernel void ts_peak_copy(__global float *dst, ulong dso, __global const float *src, ulong so,
                           uint n4) {
    uint i = get_global_id(0);
    if (i >= n4) return;
    vstore4(vload4(i, src + so), i, dst + dso);
}
