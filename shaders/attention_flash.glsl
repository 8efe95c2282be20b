/*
 * attention_flash.glsl — shared by the fused attention shaders (attention_flash_*.comp), the
 * same structure as cl/attention_flash.cl: a work-group of WG items (a specialization constant:
 * the tile) takes WG rows of one (batch, head) pair, gl_WorkGroupID = (tile, pair), an item one
 * row kept in registers (HS <= TS_ATT_MAX_HS); the other side's rows stream through shared
 * memory a tile at a time, and tiles wholly above the diagonal are never visited.
 * Loops over a row run to the constant TS_ATT_MAX_HS and break at HS: a GPU compiler can
 * unroll them and keep the row in registers, a CPU driver (lavapipe) runs only HS iterations.
 *
 * Included before the push constants `p`, which carry T, HS and a ts_att_mask m.
 * Dropout: element (t, s) of pair bh's map is element (bh*T + t)*T + s of the dropout tensor
 * (the host checks the global index stays below 2^32), kept iff (w >> 8) >= thr, kept ones
 * scaled by dscale = 1/(1-p); the backward regenerates the same mask.
 *
 * --precision fp16 (specialization constant 1, TS_ATT_FP16): every matrix product's inputs
 * (q, k, v, dout as they are loaded; the probabilities and dS as they enter a product; dout
 * in delta, which stands for sum_s P dP) are rounded to IEEE half by ts_att_in, and products
 * and sums stay fp32, as cpu_flash_attention.c emulates it; the softmax, its running max and
 * log-sum-exp stay fp32. With 0 (fp32) ts_att_in is the identity and folds away at
 * specialization.
 */
#include "philox.glsl"

#define TS_ATT_MAX_HS 64 /* TS_ATTENTION_MAX_HS in backends/backend.h */
layout(constant_id = 1) const uint TS_ATT_FP16 = 0u;

/* x rounded to the nearest IEEE half, ties to even, as a float: ts_precision_round's fp16
 * (backends/precision.c), written out in bits so that it does not depend on how a driver
 * converts to float16 (SPIR-V leaves the rounding of that conversion open). */
float ts_half_round(float x) {
    uint u = floatBitsToUint(x), a = u & 0x7fffffffu, sign = u & 0x80000000u;
    if (a >= 0x7f800000u) return x;                                /* inf and NaN stay */
    if (a >= 0x477ff000u) return uintBitsToFloat(sign | 0x7f800000u); /* >= 65520: past 65504 */
    if (a < 0x38800000u) { /* below 2^-14: half's subnormals, steps of 2^-24 (scaling is exact) */
        float steps = roundEven(uintBitsToFloat(a) * 16777216.0);
        return uintBitsToFloat(sign | floatBitsToUint(steps * (1.0 / 16777216.0)));
    }
    u += 0xfffu + ((u >> 13) & 1u); /* drop 13 mantissa bits, to nearest, ties to even */
    return uintBitsToFloat(u & ~0x1fffu);
}

/* A product's input as the mode reads it. */
float ts_att_in(float x) {
    return TS_ATT_FP16 != 0u ? ts_half_round(x) : x;
}
struct ts_att_mask {
    uint drop_on, thr;
    float dscale;
    uint seed_lo, seed_hi, step, tensor_id, offset, span, stride;
};

/* the last Philox block, cached: consecutive keys of a row share a block of four */
uint att_blk = 0u;
bool att_have = false;
uvec4 att_w;

/* The factor element i of the map gets: dscale or 0 (1 without dropout). */
float ts_att_factor(ts_att_mask m, uint i) {
    if (m.drop_on == 0u) return 1.0;
    uint g = m.span != 0u ? m.offset + (i / m.span) * m.stride + i % m.span : m.offset + i;
    if (!att_have || (g >> 2) != att_blk) {
        att_blk = g >> 2;
        att_have = true;
        att_w = ts_philox(uvec4(att_blk, 0u, m.step, m.tensor_id), uvec2(m.seed_lo, m.seed_hi));
    }
    return (att_w[g & 3u] >> 8) >= m.thr ? m.dscale : 0.0;
}

/* rows [r0, r0 + WG) of the (T, HS) matrix at src_[so] into the shared tile (zeros past T),
 * all items helping, coalesced along the rows; every tile is a product's input: ts_att_in */
#define TS_ATT_LOAD(tile, src_, so, r0)                                                            \
    for (uint i_ = gl_LocalInvocationID.x; i_ < WG * p.HS; i_ += WG) {                             \
        uint r_ = (r0) + i_ / p.HS;                                                                \
        tile[(i_ / p.HS) * TS_ATT_MAX_HS + i_ % p.HS] =                                            \
            r_ < p.T ? ts_att_in(src_[(so) + r_ * p.HS + i_ % p.HS]) : 0.0;                        \
    }
