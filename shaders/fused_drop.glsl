/*
 * fused_drop.glsl — dropout of one element for the fused shaders (dropout.comp's mask, one
 * element at a time). Included twice: before the push-constant block `p`, whose last members
 * are TS_DROP_FIELDS, and after it, for ts_drop, which reads them. thr == 0 means p == 0,
 * which keeps everything unscaled.
 */
#ifndef TS_DROP_FIELDS
#define TS_DROP_FIELDS                                                                             \
    uint thr;                                                                                      \
    float dscale;                                                                                  \
    uint seed_lo, seed_hi, dstep, dtid, doff, dspan, dstride;
#else
float ts_drop(float v, uint i) {
    if (p.thr == 0u) return v;
    uint g = p.dspan != 0u ? p.doff + (i / p.dspan) * p.dstride + i % p.dspan : p.doff + i;
    uvec4 w = ts_philox(uvec4(g >> 2, 0u, p.dstep, p.dtid), uvec2(p.seed_lo, p.seed_hi));
    return (w[g & 3u] >> 8) >= p.thr ? v * p.dscale : 0.0;
}
#endif
