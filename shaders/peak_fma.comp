/*
 * peak_fma.comp — `bench peak`'s compute-bound kernel: sixteen independent FMA chains per
 * invocation (instruction-level parallelism that hides the FMA latency even at low occupancy),
 * 32 * iters flops each, and one float written so the chains stay live. See cl/peak.cl.
 */
#version 450
#include "common.glsl"
BUF(0, out_)
layout(push_constant) uniform P {
    uint oo, items, iters;
} p;

void main() {
    uint i = ts_flat();
    if (i >= p.items) return;
    float base = float(i % 1024u) * (1.0 / 1024.0);
    float x[16];
    for (int j = 0; j < 16; j++)
        x[j] = base + float(j) * 0.0625;
    for (uint it = 0u; it < p.iters; it++) {
        for (int j = 0; j < 16; j++)
            x[j] = fma(x[j], 0.999, 0.001);
    }
    float s = 0.0;
    for (int j = 0; j < 16; j++)
        s += x[j];
    out_[p.oo + i] = s;
}
