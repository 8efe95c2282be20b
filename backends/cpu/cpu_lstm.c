/*
 * cpu_lstm.c — one LSTM time step (PyTorch gate order i, f, g, o) and its backward.
 *
 * pre, act and dpre rows are 4H wide: [i | f | g | o]. h, c, c_prev and the state gradients
 * dh, dc, dc_prev have row stride ld_state, so they may be rows of a (T, B, H) or (B, T, H)
 * sequence buffer as well as a compact (B, H) one.
 */
#include "backends/cpu/cpu_internal.h"

#include <math.h>

static inline float sigmoidf(float x) {
    return 1.0f / (1.0f + expf(-x));
}

/* act = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o); c = f*c_prev + i*g; h = o*tanh(c). */
void cpu_lstm_cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                           ts_tensor c_prev, int B, int H, int ld_state) {
    if (B <= 0 || H <= 0) return;
    float *ph = cpu_f32(h), *pc = cpu_f32(c), *pa = cpu_f32(act);
    const float *pp = cpu_f32(pre), *pcp = cpu_f32(c_prev);
    long work = (long)B * H;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (long bj = 0; bj < work; bj++) {
        long b = bj / H, j = bj % H;
        const float *g4 = pp + (size_t)b * 4 * H;
        float *a4 = pa + (size_t)b * 4 * H;
        size_t s = (size_t)b * ld_state + j;
        float ig = sigmoidf(g4[j]);
        float fg = sigmoidf(g4[H + j]);
        float gg = tanhf(g4[2 * H + j]);
        float og = sigmoidf(g4[3 * H + j]);
        a4[j] = ig;
        a4[H + j] = fg;
        a4[2 * H + j] = gg;
        a4[3 * H + j] = og;
        float cn = fg * pcp[s] + ig * gg;
        pc[s] = cn;
        ph[s] = og * tanhf(cn);
    }
}

/*
 * With tc = tanh(c):  do = dh*tc;  dct = dc + dh*o*(1 - tc^2);
 *   di = dct*g;  df = dct*c_prev;  dg = dct*i;  dc_prev = dct*f;
 *   dpre = [di*i(1-i) | df*f(1-f) | dg*(1-g^2) | do*o(1-o)].
 * dc_prev may alias dc: each element is read before it is written.
 */
void cpu_lstm_cell_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                            ts_tensor dc, ts_tensor act, ts_tensor c, ts_tensor c_prev, int B,
                            int H, int ld_state) {
    if (B <= 0 || H <= 0) return;
    float *pdp = cpu_f32(dpre), *pdcp = cpu_f32(dc_prev);
    const float *pdh = cpu_f32(dh), *pdc = cpu_f32(dc), *pa = cpu_f32(act), *pc = cpu_f32(c),
                *pcp = cpu_f32(c_prev);
    long work = (long)B * H;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (long bj = 0; bj < work; bj++) {
        long b = bj / H, j = bj % H;
        const float *a4 = pa + (size_t)b * 4 * H;
        float *d4 = pdp + (size_t)b * 4 * H;
        size_t s = (size_t)b * ld_state + j;
        float ig = a4[j], fg = a4[H + j], gg = a4[2 * H + j], og = a4[3 * H + j];
        float tc = tanhf(pc[s]);
        float dhv = pdh[s];
        float dct = pdc[s] + dhv * og * (1.0f - tc * tc);
        float d_o = dhv * tc;
        float d_i = dct * gg, d_f = dct * pcp[s], d_g = dct * ig;
        pdcp[s] = dct * fg;
        d4[j] = d_i * ig * (1.0f - ig);
        d4[H + j] = d_f * fg * (1.0f - fg);
        d4[2 * H + j] = d_g * (1.0f - gg * gg);
        d4[3 * H + j] = d_o * og * (1.0f - og);
    }
}
