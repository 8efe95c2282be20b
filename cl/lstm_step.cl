/*
 * lstm_step.cl — one fused LSTM time step per launch (ops.def: lstm_step_forward/backward):
 * the recurrent product and the cell in the same kernel, one work-item per (batch row b,
 * hidden unit j). Item j owns all four gates of its unit (rows j, H+j, 2H+j, 3H+j of W_hh),
 * so the cell needs nothing from other items and no second launch. Gate rows are 4H wide
 * (i, f, g, o); states have row stride ld.
 */

inline float ts_sigmoid(float x) {
    return 1.0f / (1.0f + exp(-x));
}

/* The end both forward forms share, for item (b, j): gates = (pre + b_ih) + b_hh (the order
 * the CPU backend adds them in), + the recurrent sums r (i, f, g, o) when has_prev, then the
 * cell (see cl/lstm.cl), writing act's four gates, c and h. Pointers are past their offsets. */
inline void ts_lstm_step_cell(__global float *h, __global float *c, __global float *act,
                              __global const float *pre, __global const float *c_prev,
                              __global const float *b1, __global const float *b2, uint b, uint j,
                              uint H, uint ld, uint has_prev, float4 r) {
    __global const float *g4 = pre + (ulong)b * 4 * H;
    float gi = g4[j] + b1[j] + b2[j], gf = g4[H + j] + b1[H + j] + b2[H + j];
    float gg = g4[2 * H + j] + b1[2 * H + j] + b2[2 * H + j];
    float go = g4[3 * H + j] + b1[3 * H + j] + b2[3 * H + j];
    ulong s = (ulong)b * ld + j;
    float cp = 0.0f;
    if (has_prev) {
        gi += r.x, gf += r.y, gg += r.z, go += r.w;
        cp = c_prev[s];
    }
    float ig = ts_sigmoid(gi), fg = ts_sigmoid(gf), tg = tanh(gg), og = ts_sigmoid(go);
    __global float *a4 = act + (ulong)b * 4 * H;
    a4[j] = ig;
    a4[H + j] = fg;
    a4[2 * H + j] = tg;
    a4[3 * H + j] = og;
    float cn = fg * cp + ig * tg;
    c[s] = cn;
    h[s] = og * tanh(cn);
}

/* The recurrent product is tiled like a small GEMM so that W_hh is read in contiguous runs
 * (not one row per item, H floats apart): a work-group of TS_LSTM_WG items covers UT hidden
 * units (all four gates: 4*UT rows of W_hh) for BT = TS_LSTM_WG / UT batch rows, staging KC
 * columns of those W_hh rows and of h_prev in local memory per round. The host picks UT
 * (BT = the batch rounded up to a power of two, 2..16), so a small batch does not leave most
 * items idle. Every item adds k in order 0..H-1, like the one-item-per-unit form. */
#define TS_LSTM_WG 64
#define TS_LSTM_KC 16
#define TS_LSTM_KP 17 /* padded row: items of neighbouring units hit different banks */
#define TS_LSTM_UT_MAX 32

/* gates = pre + b_ih + b_hh + h_prev W_hh^T (has_prev), then the cell (see cl/lstm.cl). */
__kernel __attribute__((reqd_work_group_size(TS_LSTM_WG, 1, 1))) void
ts_lstm_step_forward(__global float *h, ulong ho, __global float *c, ulong co,
                     __global float *act, ulong ao, __global const float *pre, ulong po,
                     __global const float *h_prev, ulong hpo, __global const float *c_prev,
                     ulong cpo, __global const float *w, ulong wo, __global const float *bi,
                     ulong bio, __global const float *bh, ulong bho, uint B, uint H, uint ld,
                     uint has_prev, uint UT) {
    __local float ws[4 * TS_LSTM_UT_MAX * TS_LSTM_KP];
    __local float hs[(TS_LSTM_WG / 2) * TS_LSTM_KP];
    uint lid = get_local_id(0), BT = TS_LSTM_WG / UT;
    uint u = lid % UT, bl = lid / UT;
    uint j0 = get_group_id(0) * UT, b0 = get_group_id(1) * BT;
    uint j = j0 + u, b = b0 + bl;
    float si = 0.0f, sf = 0.0f, sg = 0.0f, so = 0.0f;
    if (has_prev) { /* the same for every item: the barriers are reached by all */
        for (uint k0 = 0; k0 < H; k0 += TS_LSTM_KC) {
            for (uint e = lid; e < 4 * UT * TS_LSTM_KC; e += TS_LSTM_WG) {
                uint r = e / TS_LSTM_KC, kk = e % TS_LSTM_KC, q = r / UT, jj = j0 + r % UT;
                uint k = k0 + kk;
                ws[r * TS_LSTM_KP + kk] =
                    jj < H && k < H ? w[wo + ((ulong)q * H + jj) * H + k] : 0.0f;
            }
            for (uint e = lid; e < BT * TS_LSTM_KC; e += TS_LSTM_WG) {
                uint r = e / TS_LSTM_KC, kk = e % TS_LSTM_KC, bb = b0 + r, k = k0 + kk;
                hs[r * TS_LSTM_KP + kk] = bb < B && k < H ? h_prev[hpo + (ulong)bb * ld + k] : 0.0f;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            uint kn = H - k0 < TS_LSTM_KC ? H - k0 : TS_LSTM_KC;
            for (uint kk = 0; kk < kn; kk++) {
                float x = hs[bl * TS_LSTM_KP + kk];
                si += x * ws[u * TS_LSTM_KP + kk];
                sf += x * ws[(UT + u) * TS_LSTM_KP + kk];
                sg += x * ws[(2 * UT + u) * TS_LSTM_KP + kk];
                so += x * ws[(3 * UT + u) * TS_LSTM_KP + kk];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    if (j >= H || b >= B) return;
    ts_lstm_step_cell(h + ho, c + co, act + ao, pre + po, c_prev + cpo, bi + bio, bh + bho, b, j,
                      H, ld, has_prev, (float4)(si, sf, sg, so));
}

/* The same step with one item per unit reading its four W_hh rows itself (no local memory, no
 * barriers): the form for CPU devices (backends/lstm_variant.h). */
__kernel void ts_lstm_step_forward_items(__global float *h, ulong ho, __global float *c, ulong co,
                                   __global float *act, ulong ao, __global const float *pre,
                                   ulong po, __global const float *h_prev, ulong hpo,
                                   __global const float *c_prev, ulong cpo,
                                   __global const float *w, ulong wo, __global const float *bi,
                                   ulong bio, __global const float *bh, ulong bho, uint B, uint H,
                                   uint ld, uint has_prev) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    float si = 0.0f, sf = 0.0f, sg = 0.0f, so = 0.0f;
    if (has_prev) {
        __global const float *hp = h_prev + hpo + (ulong)b * ld;
        __global const float *wi = w + wo + (ulong)j * H, *wf = wi + (ulong)H * H;
        __global const float *wg = wf + (ulong)H * H, *wq = wg + (ulong)H * H;
        for (uint k = 0; k < H; k++) {
            float x = hp[k];
            si += x * wi[k];
            sf += x * wf[k];
            sg += x * wg[k];
            so += x * wq[k];
        }
    }
    ts_lstm_step_cell(h + ho, c + co, act + ao, pre + po, c_prev + cpo, bi + bio, bh + bho, b, j,
                      H, ld, has_prev, (float4)(si, sf, sg, so));
}

/* The cell backward of item (b, j) (see backends/cpu/cpu_lstm.c) given dh (dhv, the recurrent
 * sum already added) and dc (dcv; 0 without has_next). Pointers are past their offsets. */
inline void ts_lstm_step_cell_backward(__global float *dpre, __global float *dc_prev,
                                       __global const float *act, __global const float *c,
                                       __global const float *c_prev, uint b, uint j, uint H,
                                       uint ld, uint has_prev, float dhv, float dcv) {
    ulong s = (ulong)b * ld + j;
    __global const float *a4 = act + (ulong)b * 4 * H;
    __global float *d4 = dpre + (ulong)b * 4 * H;
    float ig = a4[j], fg = a4[H + j], gg = a4[2 * H + j], og = a4[3 * H + j];
    float tc = tanh(c[s]);
    float dct = dcv + dhv * og * (1.0f - tc * tc);
    float d_o = dhv * tc;
    float d_i = dct * gg, d_f = dct * (has_prev ? c_prev[s] : 0.0f), d_g = dct * ig;
    dc_prev[s] = dct * fg;
    d4[j] = d_i * ig * (1.0f - ig);
    d4[H + j] = d_f * fg * (1.0f - fg);
    d4[2 * H + j] = d_g * (1.0f - gg * gg);
    d4[3 * H + j] = d_o * og * (1.0f - og);
}

/* dh += dpre_next W_hh (has_next; column j of W_hh, read across items in one row), then the
 * cell backward. dc_prev may alias dc: each item reads its element of dc before writing the
 * same element of dc_prev. */
__kernel void ts_lstm_step_backward(__global float *dpre, ulong dpo, __global float *dc_prev,
                                    ulong dcpo, __global float *dh, ulong dho,
                                    __global const float *dc, ulong dco,
                                    __global const float *dnext, ulong dno,
                                    __global const float *w, ulong wo,
                                    __global const float *act, ulong ao, __global const float *c,
                                    ulong co, __global const float *c_prev, ulong cpo, uint B,
                                    uint H, uint ld, uint has_prev, uint has_next) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    ulong s = (ulong)b * ld + j;
    float dhv = dh[dho + s], dcv = 0.0f;
    if (has_next) {
        __global const float *dn = dnext + dno + (ulong)b * 4 * H;
        __global const float *wj = w + wo + j;
        float acc = 0.0f;
        for (uint n = 0; n < 4 * H; n++)
            acc += dn[n] * wj[(ulong)n * H];
        dhv += acc;
        dh[dho + s] = dhv;
        dcv = dc[dco + s];
    }
    ts_lstm_step_cell_backward(dpre + dpo, dc_prev + dcpo, act + ao, c + co, c_prev + cpo, b, j, H,
                               ld, has_prev, dhv, dcv);
}

/* ---- the cells of the split-K path (backends/lstm_split.h; partials: cl/lstm_split.cl) -----
 * The recurrent sums come from the S partial products part[s][b][*] (4H wide forward, H wide
 * backward; row stride H for the states), added in split order. */

__kernel void ts_lstm_split_forward(__global float *h, ulong ho, __global float *c, ulong co,
                                    __global float *act, ulong ao, __global const float *pre,
                                    ulong po, __global const float *c_prev, ulong cpo,
                                    __global const float *bi, ulong bio, __global const float *bh,
                                    ulong bho, __global const float *part, uint B, uint H,
                                    uint has_prev, uint S) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    float4 r = (float4)(0.0f);
    for (uint s = 0; has_prev && s < S; s++) {
        __global const float *p4 = part + ((ulong)s * B + b) * 4 * H;
        r += (float4)(p4[j], p4[H + j], p4[2 * H + j], p4[3 * H + j]);
    }
    ts_lstm_step_cell(h + ho, c + co, act + ao, pre + po, c_prev + cpo, bi + bio, bh + bho, b, j,
                      H, H, has_prev, r);
}

__kernel void ts_lstm_split_backward(__global float *dpre, ulong dpo, __global float *dc_prev,
                                     ulong dcpo, __global float *dh, ulong dho,
                                     __global const float *dc, ulong dco,
                                     __global const float *act, ulong ao, __global const float *c,
                                     ulong co, __global const float *c_prev, ulong cpo,
                                     __global const float *part, uint B, uint H, uint has_prev,
                                     uint has_next, uint S) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    ulong s = (ulong)b * H + j;
    float dhv = dh[dho + s], dcv = 0.0f;
    if (has_next) {
        float acc = 0.0f;
        for (uint q = 0; q < S; q++)
            acc += part[((ulong)q * B + b) * H + j];
        dhv += acc;
        dh[dho + s] = dhv;
        dcv = dc[dco + s];
    }
    ts_lstm_step_cell_backward(dpre + dpo, dc_prev + dcpo, act + ao, c + co, c_prev + cpo, b, j, H,
                               H, has_prev, dhv, dcv);
}
