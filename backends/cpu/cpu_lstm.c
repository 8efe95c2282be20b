/*
 * cpu_lstm.c — one LSTM time step (PyTorch gate order i, f, g, o) and its backward.
 *
 * pre, act and dpre rows are 4H wide: [i | f | g | o]. h, c, c_prev and the state gradients
 * dh, dc, dc_prev have row stride ld_state, so they may be rows of a (T, B, H) or (B, T, H)
 * sequence buffer as well as a compact (B, H) one.
 */
#include "backends/cpu/cpu_internal.h"
#include "backends/lstm_sequence.h"

#include <math.h>
#include <string.h>

static inline float sigmoidf(float x) {
    return 1.0f / (1.0f + expf(-x));
}

/* The four gates of element j in a 4H-wide [i | f | g | o] row: the layout, stated once. */
typedef struct {
    float i, f, g, o;
} gates;

static inline gates gates_at(const float *row4, long H, long j) {
    return (gates){row4[j], row4[H + j], row4[2 * H + j], row4[3 * H + j]};
}

static inline void gates_put(float *row4, long H, long j, gates v) {
    row4[j] = v.i;
    row4[H + j] = v.f;
    row4[2 * H + j] = v.g;
    row4[3 * H + j] = v.o;
}

/* Element bj of the (B, H) state, counted row by row: its gate column j, the offset of its
 * batch row in the 4H-wide gate buffers, and its offset in the ld_state-strided state. */
typedef struct {
    long j;
    size_t row, s;
} cell;

static inline cell cell_of(long bj, long H, int ld_state) {
    long b = bj / H, j = bj % H;
    return (cell){j, (size_t)b * 4 * H, (size_t)b * ld_state + j};
}

/* act = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o); c = f*c_prev + i*g; h = o*tanh(c).
 * act may alias pre (the fused step): an element's gates are read before they are written. */
void cpu_lstm_cell_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                           ts_tensor c_prev, int B, int H, int ld_state) {
    if (B <= 0 || H <= 0) return;
    float *ph = cpu_f32(h), *pc = cpu_f32(c), *pa = cpu_f32(act);
    const float *pp = cpu_f32(pre), *pcp = cpu_f32(c_prev);
    long work = (long)B * H;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (long bj = 0; bj < work; bj++) {
        cell e = cell_of(bj, H, ld_state);
        gates z = gates_at(pp + e.row, H, e.j);
        gates a = {sigmoidf(z.i), sigmoidf(z.f), tanhf(z.g), sigmoidf(z.o)};
        gates_put(pa + e.row, H, e.j, a);
        float cn = a.f * pcp[e.s] + a.i * a.g;
        pc[e.s] = cn;
        ph[e.s] = a.o * tanhf(cn);
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
        cell e = cell_of(bj, H, ld_state);
        gates a = gates_at(pa + e.row, H, e.j);
        float tc = tanhf(pc[e.s]);
        float dhv = pdh[e.s];
        float dct = pdc[e.s] + dhv * a.o * (1.0f - tc * tc);
        float d_o = dhv * tc;
        float d_i = dct * a.g, d_f = dct * pcp[e.s], d_g = dct * a.i;
        pdcp[e.s] = dct * a.f;
        gates d = {d_i * a.i * (1.0f - a.i), d_f * a.f * (1.0f - a.f), d_g * (1.0f - a.g * a.g),
                   d_o * a.o * (1.0f - a.o)};
        gates_put(pdp + e.row, H, e.j, d);
    }
}

/* A zero (B, H) state of row stride ld in the backend's scratch, for the steps with no
 * previous state or no later step; {NULL, 0} if the scratch cannot grow (error recorded). */
static ts_tensor zero_state(ts_backend *be, ts_buffer *holder, int B, int H, int ld) {
    size_t n = (size_t)(B - 1) * ld + (size_t)H;
    float *z = cpu_scratch(be, n * sizeof *z);
    if (!z) return (ts_tensor){NULL, 0};
    memset(z, 0, n * sizeof *z);
    *holder = (ts_buffer){z, n * sizeof *z};
    return (ts_tensor){holder, 0};
}

/*
 * The fused step, as the unfused sequence ran it (so the CPU numbers stay bit for bit what
 * they were): act = (pre + b_ih) + b_hh, then act += h_prev W_hh^T with the backend's own GEMM,
 * then the cell with act as its pre-activations (each element is read before it is overwritten).
 */
void cpu_lstm_step_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act, ts_tensor pre,
                           ts_tensor h_prev, ts_tensor c_prev, ts_tensor w_hh, ts_tensor b_ih,
                           ts_tensor b_hh, int B, int H, int ld_state, int has_prev) {
    if (B <= 0 || H <= 0) return;
    float *pa = cpu_f32(act);
    const float *pp = cpu_f32(pre), *pbi = cpu_f32(b_ih), *pbh = cpu_f32(b_hh);
    size_t H4 = 4 * (size_t)H;
    for (int b = 0; b < B; b++)
        for (size_t n = 0; n < H4; n++)
            pa[b * H4 + n] = pp[b * H4 + n] + pbi[n] + pbh[n];
    ts_buffer zb;
    if (has_prev)
        cpu_gemm(be, 0, 1, B, 4 * H, H, 1.0f, h_prev, ld_state, 0, w_hh, H, 0, 1.0f, act, 4 * H, 0,
                 1);
    else if (!(c_prev = zero_state(be, &zb, B, H, ld_state)).buf)
        return;
    cpu_lstm_cell_forward(be, h, c, act, act, c_prev, B, H, ld_state);
}

/* dh += dpre_next W_hh with the backend's GEMM (as the unfused sequence did), then the cell
 * backward; the last step's dc and the first step's c_prev are zeros. */
void cpu_lstm_step_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc_prev, ts_tensor dh,
                            ts_tensor dc, ts_tensor dpre_next, ts_tensor w_hh, ts_tensor act,
                            ts_tensor c, ts_tensor c_prev, int B, int H, int ld_state, int has_prev,
                            int has_next) {
    if (B <= 0 || H <= 0) return;
    if (has_next)
        cpu_gemm(be, 0, 0, B, H, 4 * H, 1.0f, dpre_next, 4 * H, 0, w_hh, H, 0, 1.0f, dh, ld_state,
                 0, 1);
    ts_buffer zb;
    if (!has_prev || !has_next) {
        ts_tensor z = zero_state(be, &zb, B, H, ld_state);
        if (!z.buf) return;
        if (!has_prev) c_prev = z;
        if (!has_next) dc = z;
    }
    cpu_lstm_cell_backward(be, dpre, dc_prev, dh, dc, act, c, c_prev, B, H, ld_state);
}

/* The sequence ops are the loops over the two step routines above: bit for bit the same. */
void cpu_lstm_sequence_forward(ts_backend *be, ts_tensor h, ts_tensor c, ts_tensor act,
                               ts_tensor pre, ts_tensor h0, ts_tensor c0, ts_tensor w_hh,
                               ts_tensor b_ih, ts_tensor b_hh, int T, int B, int H, int has_init) {
    ts_lstm_sequence_forward_steps(be, cpu_lstm_step_forward, h, c, act, pre, h0, c0, w_hh, b_ih,
                                   b_hh, T, B, H, has_init);
}

void cpu_lstm_sequence_backward(ts_backend *be, ts_tensor dpre, ts_tensor dc, ts_tensor dh,
                                ts_tensor w_hh, ts_tensor act, ts_tensor c, ts_tensor c0, int T,
                                int B, int H, int has_init) {
    ts_lstm_sequence_backward_steps(be, cpu_lstm_step_backward, dpre, dc, dh, w_hh, act, c, c0, T,
                                    B, H, has_init);
}
