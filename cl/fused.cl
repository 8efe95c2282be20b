/*
 * fused.cl — the fused ops of ops.def, each one launch where the unfused ops took two to four:
 * residual + bias + dropout + LayerNorm forward, LayerNorm backward with its parameter sums and
 * a dropout, bias + GELU + dropout forward, GELU + dropout backward with the bias sums, and
 * softmax cross-entropy forward and backward. The arithmetic is that of the unfused kernels
 * (layernorm.cl, elementwise.cl, bias.cl, loss.cl), so results agree with them to rounding.
 *
 * Parameter and bias gradients are column sums. Rather than partial sums and a second launch,
 * extra work-groups after the row (or element) groups each own a few columns and walk every row
 * in order, summing TS_COLSUM_ROWS rows at a time as colsum_partial/colsum_finish do: one
 * launch, no cross-group synchronisation, and the same order of additions on every run.
 */

/* The four keep/scale factors of Philox block blk (elements 4 blk .. 4 blk + 3 of a tensor
 * whose slice is contiguous and starts on a block): one Philox call for four elements, as
 * dropout_forward's block path. */
inline float4 ts_fused_drop4(ulong blk, uint thr, float scale, uint seed_lo, uint seed_hi,
                             uint step, uint tid) {
    if (thr == 0) return (float4)(1.0f);
    uint4 w = ts_philox((uint4)((uint)blk, 0, step, tid), (uint2)(seed_lo, seed_hi));
    int4 keep = (w >> 8) >= (uint4)(thr);
    return select((float4)(0.0f), (float4)(scale), keep);
}
#define TS_DROP4(blk) ts_fused_drop4((blk), thr, dscale, seed_lo, seed_hi, dstep, dtid)

inline float ts_gelu_grad(float x) {
    float cdf = 0.5f * (1.0f + erf(x * TS_SQRT1_2));
    float pdf = exp(-0.5f * x * x) * TS_INV_SQRT_2PI;
    return cdf + x * pdf;
}

/* One work-group per row: sum = x + Drop(r + rbias), then LayerNorm of sum (two passes, as
 * layernorm.cl's kernel). Each item reads back only the sums it wrote. */
__kernel void ts_residual_layernorm_forward(
    __global float *sum, ulong so, __global float *out, ulong oo, __global float *mean, ulong mo,
    __global float *rstd, ulong ro, __global const float *x, ulong xo, __global const float *r,
    ulong rro, __global const float *rb, ulong rbo, __global const float *w, ulong wo,
    __global const float *b, ulong bo, uint N, uint C, float eps, TS_DROP_ARGS) {
    __local float tmp[TS_ROW_WG];
    uint row = get_group_id(0), lid = get_local_id(0);
    if (row >= N) return;
    ulong base = (ulong)row * C;
    __global float *s_row = sum + so + base;
    float s = 0.0f;
    for (uint c = lid; c < C; c += TS_ROW_WG) {
        float t = TS_DROP(r[rro + base + c] + rb[rbo + c], base + c);
        float v = x[xo + base + c] + t;
        s_row[c] = v;
        s += v;
    }
    float mu = ts_group_sum(s, tmp, TS_ROW_WG) / (float)C;
    float ss = 0.0f;
    for (uint c = lid; c < C; c += TS_ROW_WG) {
        float d = s_row[c] - mu;
        ss += d * d;
    }
    float var = ts_group_sum(ss, tmp, TS_ROW_WG) / (float)C;
    float q = 1.0f / sqrt(var + eps);
    __global float *y = out + oo + base;
    for (uint c = lid; c < C; c += TS_ROW_WG)
        y[c] = (s_row[c] - mu) * q * w[wo + c] + b[bo + c];
    if (lid == 0) {
        mean[mo + row] = mu;
        rstd[ro + row] = q;
    }
}

/*
 * Groups [0, N): row r's dinp = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)),
 * dnorm = dout * w. Groups [N, N + ceil(C / TS_ROW_WG)): column c's dweight += sum dout * norm
 * and dbias += sum dout. Those read dout while rows write dinp: the two must not alias. The
 * op's dropout of dinp is a second launch (opencl_fused.c): written here, pocl 3.1 failed an
 * internal assertion on the next transfer.
 */
__kernel void ts_layernorm_backward_dropout(
    __global float *dinp, ulong dio, __global float *dw, ulong dwo, __global float *db, ulong dbo,
    __global const float *dout, ulong doo, __global const float *inp, ulong io,
    __global const float *w, ulong wo, __global const float *mean, ulong mo,
    __global const float *rstd, ulong ro, uint N, uint C) {
    __local float tmp[TS_ROW_WG];
    uint grp = get_group_id(0), lid = get_local_id(0);
    if (grp >= N) { /* a column group: no return before the row groups' barriers (pocl) */
        uint c = min((grp - N) * TS_ROW_WG + lid, C - 1);
        float tw = 0.0f, tb = 0.0f;
        for (uint r0 = 0; r0 < N; r0 += TS_COLSUM_ROWS) {
            uint r1 = min(N, r0 + TS_COLSUM_ROWS);
            float pw = 0.0f, pb = 0.0f;
            for (uint r = r0; r < r1; r++) {
                ulong e = (ulong)r * C + c;
                float dy = dout[doo + e];
                pw += dy * ((inp[io + e] - mean[mo + r]) * rstd[ro + r]);
                pb += dy;
            }
            tw += pw;
            tb += pb;
        }
        if ((grp - N) * TS_ROW_WG + lid < C) {
            dw[dwo + c] += tw;
            db[dbo + c] += tb;
        }
    } else {
        ts_layernorm_backward_row(dinp, dio, dout, doo, inp, io, w, wo, mean, mo, rstd, ro, grp, C,
                                  tmp);
    }
}

/* h += bias[c] when add_bias, g = Drop(GELU(h)): one item per element, or per Philox block of
 * four when `blocks` (the slice is contiguous and starts on a block). */
__kernel void ts_bias_gelu_dropout_forward(__global float *g, ulong go, __global float *h, ulong ho,
                                           __global const float *bias, ulong bo, uint rows,
                                           uint cols, int add_bias, int blocks, TS_DROP_ARGS) {
    uint n = rows * cols, i0 = get_global_id(0), len = 1;
    float4 f = (float4)(1.0f);
    if (blocks) {
        i0 *= 4;
        len = 4;
        if (i0 < n) f = TS_DROP4((doff >> 2) + i0 / 4);
    }
    float fs[4] = {f.s0, f.s1, f.s2, f.s3};
    for (uint j = 0; j < len && i0 + j < n; j++) {
        uint i = i0 + j;
        float v = h[ho + i];
        if (add_bias) {
            v += bias[bo + i % cols];
            h[ho + i] = v;
        }
        float y = ts_gelu(v);
        g[go + i] = blocks ? (fs[j] == 0.0f ? 0.0f : y * fs[j]) : TS_DROP(y, i);
    }
}

/* GELU'(h) * Drop(dg) for element e, the dropout factor f given (blocks) or computed */
#define TS_DH(e) (TS_DROP(dg[dgo + (e)], (e)) * ts_gelu_grad(h[ho + (e)]))
#define TS_DH_F(e, f) (((f) == 0.0f ? 0.0f : dg[dgo + (e)] * (f)) * ts_gelu_grad(h[ho + (e)]))

/* Items of the first elem_groups groups write dh, one element each or, when `blocks` (the slice
 * is contiguous, starts on a Philox block, and cols % 4 == 0), one block of four; the groups
 * after them sum columns of the same dh, recomputed, over every row in order (four adjacent
 * columns per item, one Philox call per row, when `blocks`). */
__kernel void ts_gelu_dropout_backward_bias(__global float *dh, ulong dho, __global float *db,
                                            ulong dbo, __global const float *dg, ulong dgo,
                                            __global const float *h, ulong ho, uint rows,
                                            uint cols, uint elem_groups, int blocks,
                                            TS_DROP_ARGS) {
    uint grp = get_group_id(0), n = rows * cols, per = blocks ? 4 : 1;
    if (grp < elem_groups) {
        uint i0 = get_global_id(0) * per;
        if (i0 >= n) return;
        if (!blocks) {
            dh[dho + i0] = TS_DH((ulong)i0);
            return;
        }
        float4 f = TS_DROP4((doff >> 2) + i0 / 4);
        float fs[4] = {f.s0, f.s1, f.s2, f.s3};
        for (uint j = 0; j < 4 && i0 + j < n; j++)
            dh[dho + i0 + j] = TS_DH_F(i0 + j, fs[j]);
        return;
    }
    uint c0 = ((grp - elem_groups) * get_local_size(0) + get_local_id(0)) * per;
    if (c0 >= cols) return;
    float4 total = (float4)(0.0f);
    for (uint r0 = 0; r0 < rows; r0 += TS_COLSUM_ROWS) {
        uint r1 = min(rows, r0 + TS_COLSUM_ROWS);
        float4 part = (float4)(0.0f);
        for (uint r = r0; r < r1; r++) {
            ulong e = (ulong)r * cols + c0;
            if (!blocks) {
                part.s0 += TS_DH(e);
                continue;
            }
            float4 f = TS_DROP4((doff >> 2) + e / 4);
            part += (float4)(TS_DH_F(e, f.s0), TS_DH_F(e + 1, f.s1), TS_DH_F(e + 2, f.s2),
                             TS_DH_F(e + 3, f.s3));
        }
        total += part;
    }
    db[dbo + c0] += total.s0;
    if (blocks) {
        db[dbo + c0 + 1] += total.s1;
        db[dbo + c0 + 2] += total.s2;
        db[dbo + c0 + 3] += total.s3;
    }
}

/*
 * One work-group per row: loss = log(sum) + mx - x[target] and
 * dlogits = scale * (softmax(x) - onehot(target)), zero for ignored rows. dlogits may alias
 * logits: the target logit is read first, and the last pass reads each column before its item
 * writes it. A bad target sets the status word and the row counts as ignored.
 */
__kernel void ts_crossentropy_fused(__global float *losses, ulong lo, __global float *dlogits,
                                    ulong dlo, __global const float *logits, ulong xo,
                                    __global const int *targets, ulong to, uint N, uint V,
                                    int ignore_index, float scale, __global int *status) {
    __local float tmp[TS_ROW_WG];
    uint r = get_group_id(0), lid = get_local_id(0);
    if (r >= N) return;
    __global const float *x = logits + xo + (ulong)r * V;
    __global float *d = dlogits + dlo + (ulong)r * V;
    int tg = ts_row_target(targets, to, r, V, ignore_index, status);
    int ignored = tg < 0;
    float xt = ignored ? 0.0f : x[tg];
    float mx = ts_row_max(x, V, tmp);
    float sum = 0.0f;
    for (uint j = lid; j < V; j += TS_ROW_WG)
        sum += exp(x[j] - mx);
    sum = ts_group_sum(sum, tmp, TS_ROW_WG);
    float inv = 1.0f / sum;
    for (uint j = lid; j < V; j += TS_ROW_WG) {
        float pj = exp(x[j] - mx) * inv;
        d[j] = ignored ? 0.0f : scale * (pj - ((int)j == tg ? 1.0f : 0.0f));
    }
    if (lid == 0) losses[lo + r] = ignored ? 0.0f : log(sum) + mx - xt;
}

/* The packed (B, T, 3, NH, HS) index of element e of a head tensor (B, NH, T, HS), part 0
 * (q); k and v are C and 2C further (ts_permute_heads in attention.cl). */
inline ulong ts_packed_index(ulong e, uint T, uint NH, uint HS) {
    uint d = e % HS;
    ulong rest = e / HS;
    uint t = rest % T;
    rest /= T;
    uint h = rest % NH;
    ulong b = rest / NH;
    return (b * T + t) * 3 * NH * HS + (ulong)h * HS + d;
}

/* One item per head-tensor element: q, k, v = split(qkv + bias); qkv keeps the sum. */
__kernel void ts_bias_qkv_split_forward(__global float *q, ulong qo, __global float *k, ulong ko,
                                        __global float *v, ulong vo, __global float *qkv,
                                        ulong po, __global const float *bias, ulong bo, uint B,
                                        uint T, uint NH, uint HS) {
    ulong e = get_global_id(0);
    if (e >= (ulong)B * NH * T * HS) return;
    ulong C = (ulong)NH * HS, pk = ts_packed_index(e, T, NH, HS);
    ulong col = pk % (3 * C);
    float x0 = qkv[po + pk] + bias[bo + col];
    float x1 = qkv[po + pk + C] + bias[bo + col + C];
    float x2 = qkv[po + pk + 2 * C] + bias[bo + col + 2 * C];
    qkv[po + pk] = x0;
    qkv[po + pk + C] = x1;
    qkv[po + pk + 2 * C] = x2;
    q[qo + e] = x0;
    k[ko + e] = x1;
    v[vo + e] = x2;
}

/* Items [0, B*NH*T*HS) merge dq, dk, dv into dqkv; the groups from elem_groups on each sum
 * TS_WG columns of dqkv, read from dq, dk, dv, over every row in order. */
__kernel void ts_qkv_split_backward_bias(__global float *dqkv, ulong po, __global float *db,
                                         ulong dbo, __global const float *dq, ulong qo,
                                         __global const float *dk, ulong ko,
                                         __global const float *dv, ulong vo, uint B, uint T,
                                         uint NH, uint HS, uint elem_groups) {
    uint grp = get_group_id(0);
    ulong C = (ulong)NH * HS;
    if (grp < elem_groups) {
        ulong e = get_global_id(0);
        if (e >= (ulong)B * NH * T * HS) return;
        ulong pk = po + ts_packed_index(e, T, NH, HS);
        dqkv[pk] = dq[qo + e];
        dqkv[pk + C] = dk[ko + e];
        dqkv[pk + 2 * C] = dv[vo + e];
        return;
    }
    uint j = (grp - elem_groups) * get_local_size(0) + get_local_id(0);
    if (j >= 3 * C) return;
    uint part = j / C, h = (j % C) / HS, d = j % HS;
    __global const float *src = part == 0 ? dq + qo : part == 1 ? dk + ko : dv + vo;
    uint rows = B * T;
    float total = 0.0f;
    for (uint r0 = 0; r0 < rows; r0 += TS_COLSUM_ROWS) {
        uint r1 = min(rows, r0 + TS_COLSUM_ROWS);
        float partial = 0.0f;
        for (uint r = r0; r < r1; r++) {
            uint b = r / T, t = r % T;
            partial += src[(((ulong)b * NH + h) * T + t) * HS + d];
        }
        total += partial;
    }
    db[dbo + j] += total;
}
