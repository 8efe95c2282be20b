/*
 * attention_flash.cl — fused causal attention (flash-style), forward and backward, never
 * storing the (T, T) maps. The same structure as shaders/attention_flash_*.comp.
 *
 * q, k, v, out, dout, dq, dk, dv are (BH, T, HS) views; lse, delta (BH*T). A work-group of
 * TS_ATT_TILE items takes one tile of TS_ATT_TILE rows of one (batch, head) pair, an item one
 * row, kept in registers (HS <= TS_ATT_MAX_HS). The other side's rows stream through local
 * memory a tile at a time; tiles wholly above the diagonal are never visited. Sums over keys
 * run in key order, so results are deterministic. Loops over a row run to the constant
 * TS_ATT_MAX_HS and break at HS: a GPU compiler unrolls them and keeps the row in registers, a
 * CPU driver (PoCL) runs only HS iterations.
 *
 * Dropout: element (t, s) of pair bh's map is element (bh*T + t)*T + s of the dropout tensor
 * (as dropout_forward over the unfused maps), kept iff (w >> 8) >= thr; kept probabilities are
 * scaled by dscale = 1/(1-p). The backward regenerates the same mask.
 */
#ifndef TS_ATT_TILE
#define TS_ATT_TILE 32
#endif
#ifndef TS_ATT_MAX_HS
#define TS_ATT_MAX_HS 64
#endif

/* The mask, with the last Philox block cached: consecutive keys share a block of four. */
typedef struct {
    uint on, thr;
    float scale;
    uint2 key;
    uint step, tensor_id;
    ulong offset;
    uint span, stride;
    ulong blk;
    uint4 w;
} ts_att_mask;

inline ts_att_mask ts_att_mask_make(uint on, uint thr, float scale, uint seed_lo, uint seed_hi,
                                    uint step, uint tensor_id, ulong offset, uint span,
                                    uint stride) {
    ts_att_mask m;
    m.on = on;
    m.thr = thr;
    m.scale = scale;
    m.key = (uint2)(seed_lo, seed_hi);
    m.step = step;
    m.tensor_id = tensor_id;
    m.offset = offset;
    m.span = span;
    m.stride = stride;
    m.blk = ~(ulong)0;
    m.w = (uint4)(0);
    return m;
}

/* The factor element i of the map gets: dscale or 0 (1 without dropout). */
inline float ts_att_factor(ts_att_mask *m, ulong i) {
    if (!m->on) return 1.0f;
    ulong g = m->span ? m->offset + (i / m->span) * m->stride + i % m->span : m->offset + i;
    if ((g >> 2) != m->blk) {
        m->blk = g >> 2;
        m->w = ts_philox((uint4)((uint)(g >> 2), 0, m->step, m->tensor_id), m->key);
    }
    uint j = (uint)(g & 3);
    uint w = j == 0 ? m->w.s0 : j == 1 ? m->w.s1 : j == 2 ? m->w.s2 : m->w.s3;
    return (w >> 8) >= m->thr ? m->scale : 0.0f;
}

#define TS_ATT_MASK_ARGS                                                                           \
    uint drop_on, uint thr, float dscale, uint seed_lo, uint seed_hi, uint step, uint tensor_id,   \
        ulong offset, uint span, uint stride
#define TS_ATT_MASK_MAKE                                                                           \
    ts_att_mask_make(drop_on, thr, dscale, seed_lo, seed_hi, step, tensor_id, offset, span, stride)

/* rows [r0, r0 + TS_ATT_TILE) of a (T, HS) matrix into tile (zeros past T), all items helping */
inline void ts_att_load(__local float *tile, __global const float *src, uint r0, uint T,
                        uint HS) {
    for (uint i = get_local_id(0); i < TS_ATT_TILE * HS; i += TS_ATT_TILE) {
        uint r = r0 + i / HS;
        tile[(i / HS) * TS_ATT_MAX_HS + i % HS] = r < T ? src[(ulong)r * HS + i % HS] : 0.0f;
    }
}

inline float ts_att_dot(const float *a, __local const float *b, uint HS) {
    float s = 0.0f;
#pragma unroll
    for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
        if (d >= HS) break;
        s += a[d] * b[d];
    }
    return s;
}

/* out and lse for query tile get_group_id(0) of pair get_group_id(1): online softmax over key
 * tiles, rescaling once per tile. */
__kernel void ts_attention_forward(__global float *out, ulong oo, __global float *lse, ulong lo,
                                   __global const float *q, ulong qo, __global const float *k,
                                   ulong ko, __global const float *v, ulong vo, uint T, uint HS,
                                   float scale, TS_ATT_MASK_ARGS) {
    __local float ks[TS_ATT_TILE * TS_ATT_MAX_HS], vs[TS_ATT_TILE * TS_ATT_MAX_HS];
    uint tile = get_group_id(0), bh = get_group_id(1), lid = get_local_id(0);
    uint t = tile * TS_ATT_TILE + lid;
    ulong base = (ulong)bh * T * HS;
    ts_att_mask mask = TS_ATT_MASK_MAKE;
    float qr[TS_ATT_MAX_HS], acc[TS_ATT_MAX_HS], sc[TS_ATT_TILE];
#pragma unroll
    for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
        qr[d] = d < HS && t < T ? q[qo + base + (ulong)t * HS + d] : 0.0f;
        acc[d] = 0.0f;
    }
    float mx = -INFINITY, sum = 0.0f;
    for (uint kt = 0; kt <= tile; kt++) { /* key tiles past the query tile are all masked */
        barrier(CLK_LOCAL_MEM_FENCE);
        ts_att_load(ks, k + ko + base, kt * TS_ATT_TILE, T, HS);
        ts_att_load(vs, v + vo + base, kt * TS_ATT_TILE, T, HS);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t >= T) continue;
        uint s0 = kt * TS_ATT_TILE, n = min((uint)TS_ATT_TILE, t + 1 - s0);
        float tmx = mx;
        for (uint j = 0; j < n; j++) {
            sc[j] = scale * ts_att_dot(qr, ks + j * TS_ATT_MAX_HS, HS);
            tmx = fmax(tmx, sc[j]);
        }
        float corr = exp(mx - tmx); /* 0 on the first tile (mx = -inf) */
        sum *= corr;
#pragma unroll
        for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
            if (d >= HS) break;
            acc[d] *= corr;
        }
        mx = tmx;
        ulong row = ((ulong)bh * T + t) * T;
        for (uint j = 0; j < n; j++) {
            float e = exp(sc[j] - mx);
            sum += e;
            float w = e * ts_att_factor(&mask, row + s0 + j);
            __local const float *vr = vs + j * TS_ATT_MAX_HS;
#pragma unroll
            for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
                if (d >= HS) break;
                acc[d] += w * vr[d];
            }
        }
    }
    if (t >= T) return;
    float inv = 1.0f / sum;
    for (uint d = 0; d < HS; d++)
        out[oo + base + (ulong)t * HS + d] = acc[d] * inv;
    lse[lo + (ulong)bh * T + t] = mx + log(sum);
}

/* delta[r] = dot(dout[r], out[r]) for each of rows = BH*T rows, one item per row. */
__kernel void ts_attention_delta(__global float *delta, ulong dlo, __global const float *dout,
                                 ulong dyo, __global const float *out, ulong oo, uint rows,
                                 uint HS) {
    uint r = get_global_id(0);
    if (r >= rows) return;
    float s = 0.0f;
    for (uint d = 0; d < HS; d++)
        s += dout[dyo + (ulong)r * HS + d] * out[oo + (ulong)r * HS + d];
    delta[dlo + r] = s;
}

/* dq for query tile get_group_id(0) of pair get_group_id(1): keys stream through local memory.
 * dS = scale * P * (factor * (dy . v) - delta), dq = sum over keys of dS k. */
__kernel void ts_attention_backward_dq(__global float *dq, ulong dqo, __global const float *dout,
                                       ulong dyo, __global const float *q, ulong qo,
                                       __global const float *k, ulong ko, __global const float *v,
                                       ulong vo, __global const float *lse, ulong lo,
                                       __global const float *delta, ulong dlo, uint T, uint HS,
                                       float scale, TS_ATT_MASK_ARGS) {
    __local float ks[TS_ATT_TILE * TS_ATT_MAX_HS], vs[TS_ATT_TILE * TS_ATT_MAX_HS];
    uint tile = get_group_id(0), bh = get_group_id(1), lid = get_local_id(0);
    uint t = tile * TS_ATT_TILE + lid;
    ulong base = (ulong)bh * T * HS;
    ts_att_mask mask = TS_ATT_MASK_MAKE;
    float qr[TS_ATT_MAX_HS], dyr[TS_ATT_MAX_HS], acc[TS_ATT_MAX_HS];
#pragma unroll
    for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
        qr[d] = d < HS && t < T ? q[qo + base + (ulong)t * HS + d] : 0.0f;
        dyr[d] = d < HS && t < T ? dout[dyo + base + (ulong)t * HS + d] : 0.0f;
        acc[d] = 0.0f;
    }
    float L = t < T ? lse[lo + (ulong)bh * T + t] : 0.0f;
    float D = t < T ? delta[dlo + (ulong)bh * T + t] : 0.0f;
    for (uint kt = 0; kt <= tile; kt++) {
        barrier(CLK_LOCAL_MEM_FENCE);
        ts_att_load(ks, k + ko + base, kt * TS_ATT_TILE, T, HS);
        ts_att_load(vs, v + vo + base, kt * TS_ATT_TILE, T, HS);
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t >= T) continue;
        uint s0 = kt * TS_ATT_TILE, n = min((uint)TS_ATT_TILE, t + 1 - s0);
        ulong row = ((ulong)bh * T + t) * T;
        for (uint j = 0; j < n; j++) {
            __local const float *kr = ks + j * TS_ATT_MAX_HS;
            float P = exp(scale * ts_att_dot(qr, kr, HS) - L);
            float f = ts_att_factor(&mask, row + s0 + j);
            float dP = f != 0.0f ? f * ts_att_dot(dyr, vs + j * TS_ATT_MAX_HS, HS) : 0.0f;
            float dS = scale * P * (dP - D);
#pragma unroll
            for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
                if (d >= HS) break;
                acc[d] += dS * kr[d];
            }
        }
    }
    if (t >= T) return;
    for (uint d = 0; d < HS; d++)
        dq[dqo + base + (ulong)t * HS + d] = acc[d];
}

/* dk, dv for key tile get_group_id(0) of pair get_group_id(1): the queries at or after the
 * tile stream through local memory with their dout, lse and delta. */
__kernel void ts_attention_backward_dkdv(__global float *dk, ulong dko, __global float *dv,
                                         ulong dvo, __global const float *dout, ulong dyo,
                                         __global const float *q, ulong qo,
                                         __global const float *k, ulong ko,
                                         __global const float *v, ulong vo,
                                         __global const float *lse, ulong lo,
                                         __global const float *delta, ulong dlo, uint T, uint HS,
                                         float scale, TS_ATT_MASK_ARGS) {
    __local float qs[TS_ATT_TILE * TS_ATT_MAX_HS], dys[TS_ATT_TILE * TS_ATT_MAX_HS];
    __local float ls[TS_ATT_TILE], ds[TS_ATT_TILE];
    uint tile = get_group_id(0), bh = get_group_id(1), lid = get_local_id(0);
    uint s = tile * TS_ATT_TILE + lid;
    ulong base = (ulong)bh * T * HS;
    ts_att_mask mask = TS_ATT_MASK_MAKE;
    float kr[TS_ATT_MAX_HS], vr[TS_ATT_MAX_HS], dka[TS_ATT_MAX_HS], dva[TS_ATT_MAX_HS];
#pragma unroll
    for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
        kr[d] = d < HS && s < T ? k[ko + base + (ulong)s * HS + d] : 0.0f;
        vr[d] = d < HS && s < T ? v[vo + base + (ulong)s * HS + d] : 0.0f;
        dka[d] = dva[d] = 0.0f;
    }
    uint tiles = (T + TS_ATT_TILE - 1) / TS_ATT_TILE;
    for (uint qt = tile; qt < tiles; qt++) { /* query tiles before the key tile: all masked */
        uint t0 = qt * TS_ATT_TILE;
        barrier(CLK_LOCAL_MEM_FENCE);
        ts_att_load(qs, q + qo + base, t0, T, HS);
        ts_att_load(dys, dout + dyo + base, t0, T, HS);
        ls[lid] = t0 + lid < T ? lse[lo + (ulong)bh * T + t0 + lid] : 0.0f;
        ds[lid] = t0 + lid < T ? delta[dlo + (ulong)bh * T + t0 + lid] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (s >= T) continue;
        uint n = min((uint)TS_ATT_TILE, T - t0);
        for (uint i = s > t0 ? s - t0 : 0; i < n; i++) { /* queries t >= s only */
            __local const float *qrow = qs + i * TS_ATT_MAX_HS;
            __local const float *dyrow = dys + i * TS_ATT_MAX_HS;
            float qk = 0.0f, dyv = 0.0f;
#pragma unroll
            for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
                if (d >= HS) break;
                qk += qrow[d] * kr[d];
                dyv += dyrow[d] * vr[d];
            }
            float P = exp(scale * qk - ls[i]);
            float f = ts_att_factor(&mask, ((ulong)bh * T + t0 + i) * T + s);
            float dS = scale * P * (f * dyv - ds[i]);
            float pf = P * f;
#pragma unroll
            for (uint d = 0; d < TS_ATT_MAX_HS; d++) {
                if (d >= HS) break;
                dva[d] += pf * dyrow[d];
                dka[d] += dS * qrow[d];
            }
        }
    }
    if (s >= T) return;
    for (uint d = 0; d < HS; d++) {
        dk[dko + base + (ulong)s * HS + d] = dka[d];
        dv[dvo + base + (ulong)s * HS + d] = dva[d];
    }
}
