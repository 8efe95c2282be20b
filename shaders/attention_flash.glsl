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
 */
#include "philox.glsl"

#define TS_ATT_MAX_HS 64 /* TS_ATTENTION_MAX_HS in backends/backend.h */
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
 * all items helping, coalesced along the rows */
#define TS_ATT_LOAD(tile, src_, so, r0)                                                            \
    for (uint i_ = gl_LocalInvocationID.x; i_ < WG * p.HS; i_ += WG) {                             \
        uint r_ = (r0) + i_ / p.HS;                                                                \
        tile[(i_ / p.HS) * TS_ATT_MAX_HS + i_ % p.HS] =                                            \
            r_ < p.T ? src_[(so) + r_ * p.HS + i_ % p.HS] : 0.0;                                   \
    }
