/*
 * lstm.cl — one LSTM time step (PyTorch gate order i, f, g, o) and its backward, one work-item
 * per (batch row, hidden unit). Gate rows are 4H wide; the states have row stride ld.
 */

inline float ts_sigmoid(float x) {
    return 1.0f / (1.0f + exp(-x));
}

__kernel void ts_lstm_cell_forward(__global float *h, ulong ho, __global float *c, ulong co,
                                   __global float *act, ulong ao, __global const float *pre,
                                   ulong po, __global const float *c_prev, ulong cpo, uint B,
                                   uint H, uint ld) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    __global const float *g4 = pre + po + (ulong)b * 4 * H;
    __global float *a4 = act + ao + (ulong)b * 4 * H;
    ulong s = (ulong)b * ld + j;
    float ig = ts_sigmoid(g4[j]);
    float fg = ts_sigmoid(g4[H + j]);
    float gg = tanh(g4[2 * H + j]);
    float og = ts_sigmoid(g4[3 * H + j]);
    a4[j] = ig;
    a4[H + j] = fg;
    a4[2 * H + j] = gg;
    a4[3 * H + j] = og;
    float cn = fg * c_prev[cpo + s] + ig * gg;
    c[co + s] = cn;
    h[ho + s] = og * tanh(cn);
}

/* See backends/cpu/cpu_lstm.c for the formulas. dc_prev may alias dc: each item reads its
 * element of dc before writing the same element of dc_prev. */
__kernel void ts_lstm_cell_backward(__global float *dpre, ulong dpo, __global float *dc_prev,
                                    ulong dcpo, __global const float *dh, ulong dho,
                                    __global const float *dc, ulong dco,
                                    __global const float *act, ulong ao, __global const float *c,
                                    ulong co, __global const float *c_prev, ulong cpo, uint B,
                                    uint H, uint ld) {
    uint j = get_global_id(0), b = get_global_id(1);
    if (j >= H || b >= B) return;
    __global const float *a4 = act + ao + (ulong)b * 4 * H;
    __global float *d4 = dpre + dpo + (ulong)b * 4 * H;
    ulong s = (ulong)b * ld + j;
    float ig = a4[j], fg = a4[H + j], gg = a4[2 * H + j], og = a4[3 * H + j];
    float tc = tanh(c[co + s]);
    float dhv = dh[dho + s];
    float dct = dc[dco + s] + dhv * og * (1.0f - tc * tc);
    float d_o = dhv * tc;
    float d_i = dct * gg, d_f = dct * c_prev[cpo + s], d_g = dct * ig;
    dc_prev[dcpo + s] = dct * fg;
    d4[j] = d_i * ig * (1.0f - ig);
    d4[H + j] = d_f * fg * (1.0f - fg);
    d4[2 * H + j] = d_g * (1.0f - gg * gg);
    d4[3 * H + j] = d_o * og * (1.0f - og);
}
