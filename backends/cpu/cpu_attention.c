/*
 * cpu_attention.c — the non-matmul parts of causal self-attention: the head split of the
 * packed qkv projection, the head merge, and the row-wise causal softmax.
 *
 * Layouts (C = NH * HS):
 *   qkv  (B, T, 3C): row (b, t) = [q | k | v], head h = columns h*HS .. h*HS + HS of a chunk
 *        (PyTorch's packed in_proj output chunked into q, k, v);
 *   q, k, v and the merge input (B, NH, T, HS); the merge output (B, T, C).
 */
#include "backends/cpu/cpu_internal.h"
#include "backends/op_variants.h"

#include <math.h>
#include <string.h>

/* Moves rows between (B, T, parts*C) and parts tensors of (B, NH, T, HS); to_heads picks the
 * direction. heads[p] is q, k or v (parts = 3) or the single merge tensor (parts = 1). */
static void permute_heads(ts_backend *be, const char *op, ts_tensor packed_t,
                          const ts_tensor *heads_t, int parts, int B, int T, int NH, int HS,
                          int to_heads) {
    (void)op;                                 /* nothing here can fail */
    if ((size_t)B * T * NH * HS == 0) return; /* empty views were not checked: never touched */
    float *packed = cpu_f32(packed_t), *heads[3] = {NULL, NULL, NULL};
    for (int p = 0; p < parts; p++)
        heads[p] = cpu_f32(heads_t[p]);
    int C = NH * HS;
    long rows = (long)B * T;
    long work = rows * parts * C;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (long bt = 0; bt < rows; bt++) {
        long b = bt / T, t = bt % T;
        float *row = packed + (size_t)bt * parts * C;
        for (int p = 0; p < parts; p++) {
            for (int h = 0; h < NH; h++) {
                float *head = heads[p] + ((size_t)(b * NH + h) * T + t) * HS;
                float *chunk = row + (size_t)p * C + (size_t)h * HS;
                if (to_heads)
                    memcpy(head, chunk, (size_t)HS * sizeof *head);
                else
                    memcpy(chunk, head, (size_t)HS * sizeof *head);
            }
        }
    }
}

TS_HEADS_OPS(cpu)

/*
 * Row r = (bh, t) of pre (T wide): att[s] = exp(scale*pre[s] - mx) / sum_{s'<=t} exp(...) for
 * s <= t with mx = max_{s<=t} scale*pre[s]; att[s] = 0 for s > t. The sum is in double.
 */
void cpu_softmax_causal_forward(ts_backend *be, ts_tensor att, ts_tensor pre, int BH, int T,
                                float scale) {
    if (BH <= 0 || T <= 0) return;
    size_t n = (size_t)BH * T * T;
    float *pa = cpu_f32(att);
    const float *pp = cpu_f32(pre);
    long rows = (long)BH * T;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (n >= CPU_PAR_MIN)
    for (long r = 0; r < rows; r++) {
        int t = (int)(r % T);
        const float *x = pp + (size_t)r * T;
        float *y = pa + (size_t)r * T;
        float mx = -INFINITY;
        for (int s = 0; s <= t; s++)
            mx = fmaxf(mx, scale * x[s]);
        double sum = 0;
        for (int s = 0; s <= t; s++) {
            float e = expf(scale * x[s] - mx);
            y[s] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int s = 0; s <= t; s++)
            y[s] *= inv;
        for (int s = t + 1; s < T; s++)
            y[s] = 0.0f;
    }
}

/* dpre[s] = scale * att[s] * (datt[s] - sum_{s'<=t} datt[s'] att[s']) for s <= t, else 0. */
void cpu_softmax_causal_backward(ts_backend *be, ts_tensor dpre, ts_tensor datt, ts_tensor att,
                                 int BH, int T, float scale) {
    if (BH <= 0 || T <= 0) return;
    size_t n = (size_t)BH * T * T;
    float *pdp = cpu_f32(dpre);
    const float *pda = cpu_f32(datt), *pa = cpu_f32(att);
    long rows = (long)BH * T;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (n >= CPU_PAR_MIN)
    for (long r = 0; r < rows; r++) {
        int t = (int)(r % T);
        const float *dy = pda + (size_t)r * T;
        const float *y = pa + (size_t)r * T;
        float *dx = pdp + (size_t)r * T;
        double dot = 0;
        for (int s = 0; s <= t; s++)
            dot += (double)dy[s] * y[s];
        float d = (float)dot;
        for (int s = 0; s <= t; s++)
            dx[s] = scale * y[s] * (dy[s] - d);
        for (int s = t + 1; s < T; s++)
            dx[s] = 0.0f;
    }
}
