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

/* gates = pre + b_ih + b_hh + h_prev W_hh^T (has_prev), then the cell (see cl/lstm.cl). */
__kernel void ts_lstm_step_forward(__global float *h, ulong ho, __global float *c, ulong co,
                                   __global float *act, ulong ao, __global const float *pre,
                                   ulong po, __global const float *h_prev, ulong hpo,
                                   __global const float *c_prev, ulong cpo,
                                   __global const float *w, ulong wo, __global const float *bi,
                                   ulong bio, __global const float *bh, ulong bho, uint B, uint H,
                                   uint ld, uint has_prev) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    __global const float *g4 = pre + po + (ulong)b * 4 * H;
    /* (pre + b_ih) + b_hh: the order the CPU backend adds them in */
    __global const float *b1 = bi + bio, *b2 = bh + bho;
    float gi = g4[j] + b1[j] + b2[j], gf = g4[H + j] + b1[H + j] + b2[H + j];
    float gg = g4[2 * H + j] + b1[2 * H + j] + b2[2 * H + j];
    float go = g4[3 * H + j] + b1[3 * H + j] + b2[3 * H + j];
    ulong s = (ulong)b * ld + j;
    float cp = 0.0f;
    if (has_prev) {
        __global const float *hp = h_prev + hpo + (ulong)b * ld;
        __global const float *wi = w + wo + (ulong)j * H, *wf = wi + (ulong)H * H;
        __global const float *wg = wf + (ulong)H * H, *wq = wg + (ulong)H * H;
        float si = 0.0f, sf = 0.0f, sg = 0.0f, so = 0.0f;
        for (uint k = 0; k < H; k++) {
            float x = hp[k];
            si += x * wi[k];
            sf += x * wf[k];
            sg += x * wg[k];
            so += x * wq[k];
        }
        gi += si, gf += sf, gg += sg, go += so;
        cp = c_prev[cpo + s];
    }
    float ig = ts_sigmoid(gi), fg = ts_sigmoid(gf), tg = tanh(gg), og = ts_sigmoid(go);
    __global float *a4 = act + ao + (ulong)b * 4 * H;
    a4[j] = ig;
    a4[H + j] = fg;
    a4[2 * H + j] = tg;
    a4[3 * H + j] = og;
    float cn = fg * cp + ig * tg;
    c[co + s] = cn;
    h[ho + s] = og * tanh(cn);
}

/* dh += dpre_next W_hh (has_next; column j of W_hh, read across items in one row), then the
 * cell backward (see backends/cpu/cpu_lstm.c). dc_prev may alias dc: each item reads its
 * element of dc before writing the same element of dc_prev. */
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
    __global const float *a4 = act + ao + (ulong)b * 4 * H;
    __global float *d4 = dpre + dpo + (ulong)b * 4 * H;
    float ig = a4[j], fg = a4[H + j], gg = a4[2 * H + j], og = a4[3 * H + j];
    float tc = tanh(c[co + s]);
    float dct = dcv + dhv * og * (1.0f - tc * tc);
    float d_o = dhv * tc;
    float d_i = dct * gg, d_f = dct * (has_prev ? c_prev[cpo + s] : 0.0f), d_g = dct * ig;
    dc_prev[dcpo + s] = dct * fg;
    d4[j] = d_i * ig * (1.0f - ig);
    d4[H + j] = d_f * fg * (1.0f - fg);
    d4[2 * H + j] = d_g * (1.0f - gg * gg);
    d4[3 * H + j] = d_o * og * (1.0f - og);
}
