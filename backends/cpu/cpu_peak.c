/*
 * cpu_peak.c — `bench peak`'s kernels on the CPU: an FMA loop with enough independent chains
 * to keep every FMA unit busy (the compiler vectorises the 64-wide block; -march=native picks
 * the widest registers), and a streaming copy. Both split their work over the OpenMP team.
 */
#include "backends/cpu/cpu_internal.h"

#include <math.h>
#include <string.h>

/* Items per block: 4 items of 16 chains = 64 floats, 8 AVX2 or 4 AVX-512 registers — enough
 * independent chains to cover the FMA latency on two pipes without spilling. */
#define PEAK_BLOCK 4

void cpu_peak_fma(ts_backend *be, ts_tensor out, size_t items, int iters) {
    if (items == 0) return;
    float *po = cpu_f32(out);
    if (!po) return;
    size_t blocks = (items + PEAK_BLOCK - 1) / PEAK_BLOCK;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static)
    for (size_t blk = 0; blk < blocks; blk++) {
        float x[PEAK_BLOCK * 16];
        size_t i0 = blk * PEAK_BLOCK;
        for (int k = 0; k < PEAK_BLOCK * 16; k++)
            x[k] = (float)((i0 + (size_t)k / 16) % 1024) * 0x1p-10f + (float)(k % 16) * 0x1p-4f;
        for (int it = 0; it < iters; it++) {
#pragma omp simd
            for (int k = 0; k < PEAK_BLOCK * 16; k++)
                x[k] = fmaf(x[k], 0.999f, 0.001f);
        }
        for (int b = 0; b < PEAK_BLOCK && i0 + (size_t)b < items; b++) {
            float s = 0.0f;
            for (int j = 0; j < 16; j++)
                s += x[b * 16 + j];
            po[i0 + (size_t)b] = s;
        }
    }
}

void cpu_peak_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n) {
    if (n == 0) return;
    float *pd = cpu_f32(dst);
    const float *ps = cpu_f32(src);
    if (pd == ps) return;
        /* Static chunks, one per thread, so each core streams its own contiguous range. */
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static)
    for (size_t i = 0; i < n; i++)
        pd[i] = ps[i];
}
