/*
 * attention.cl — the non-matmul parts of causal self-attention: head split and merge
 * (permutations) and the row-wise causal softmax with its backward.
 *
 * Layouts (C = NH * HS): packed rows (B, T, parts * C), chunk p of a row holds head h in
 * columns p*C + h*HS .. + HS; head tensors are (B, NH, T, HS).
 */

/*
 * Moves one element per item between the packed layout and `parts` head tensors (q, k, v for
 * the qkv split, parts = 3; one tensor for the head merge, parts = 1, h1 and h2 unused).
 * to_heads = 1 reads packed and writes the heads; 0 the reverse. Global: B*NH*T*HS items,
 * numbered in head-tensor order so that the head side is coalesced.
 */
__kernel void ts_permute_heads(__global float *packed, ulong po, __global float *h0, ulong o0,
                               __global float *h1, ulong o1, __global float *h2, ulong o2,
                               uint parts, uint B, uint T, uint NH, uint HS, int to_heads) {
    ulong e = get_global_id(0);
    ulong n = (ulong)B * NH * T * HS;
    if (e >= n) return;
    uint d = e % HS;
    ulong rest = e / HS;
    uint t = rest % T;
    rest /= T;
    uint h = rest % NH;
    uint b = rest / NH;
    ulong C = (ulong)NH * HS;
    ulong pk = po + ((ulong)b * T + t) * parts * C + (ulong)h * HS + d;
    if (to_heads) {
        h0[o0 + e] = packed[pk];
        if (parts == 3) {
            h1[o1 + e] = packed[pk + C];
            h2[o2 + e] = packed[pk + 2 * C];
        }
    } else {
        packed[pk] = h0[o0 + e];
        if (parts == 3) {
            packed[pk + C] = h1[o1 + e];
            packed[pk + 2 * C] = h2[o2 + e];
        }
    }
}

/*
 * Row r = (bh, t) of (BH, T, T): att[s] = exp(scale*pre[s] - mx) / sum_{s'<=t} exp(...) for
 * s <= t, 0 above the diagonal. One work-group per row. att may alias pre: every item reads
 * and writes only its own columns, and the group sums' barriers order the passes.
 */
__kernel void ts_softmax_causal_forward(__global float *att, ulong ao, __global const float *pre,
                                        ulong po, uint rows, uint T, float scale) {
    __local float tmp[TS_ROW_WG];
    uint r = get_group_id(0), lid = get_local_id(0);
    if (r >= rows) return;
    uint t = r % T;
    __global const float *x = pre + po + (ulong)r * T;
    __global float *y = att + ao + (ulong)r * T;
    float mx = -INFINITY;
    for (uint s = lid; s <= t; s += TS_ROW_WG)
        mx = fmax(mx, scale * x[s]);
    mx = ts_group_max(mx, tmp, TS_ROW_WG);
    float sum = 0.0f;
    for (uint s = lid; s <= t; s += TS_ROW_WG) {
        float e = exp(scale * x[s] - mx);
        y[s] = e;
        sum += e;
    }
    sum = ts_group_sum(sum, tmp, TS_ROW_WG);
    float inv = 1.0f / sum;
    for (uint s = lid; s < T; s += TS_ROW_WG)
        y[s] = s <= t ? y[s] * inv : 0.0f;
}

/* dpre[s] = scale * att[s] * (datt[s] - sum_{s'<=t} datt[s'] att[s']) for s <= t, else 0. */
__kernel void ts_softmax_causal_backward(__global float *dpre, ulong dpo,
                                         __global const float *datt, ulong dao,
                                         __global const float *att, ulong ao, uint rows, uint T,
                                         float scale) {
    __local float tmp[TS_ROW_WG];
    uint r = get_group_id(0), lid = get_local_id(0);
    if (r >= rows) return;
    uint t = r % T;
    __global const float *dy = datt + dao + (ulong)r * T;
    __global const float *y = att + ao + (ulong)r * T;
    __global float *dx = dpre + dpo + (ulong)r * T;
    float dot = 0.0f;
    for (uint s = lid; s <= t; s += TS_ROW_WG)
        dot += dy[s] * y[s];
    float d = ts_group_sum(dot, tmp, TS_ROW_WG);
    for (uint s = lid; s < T; s += TS_ROW_WG)
        dx[s] = s <= t ? scale * y[s] * (dy[s] - d) : 0.0f;
}
