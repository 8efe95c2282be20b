/*
 * cpu_flash_attention.c — fused causal attention, forward and backward, without the (T, T)
 * probability maps: the reference for the GPU kernels (cl/attention_flash.cl,
 * shaders/attention_flash_*.comp) and the path the Transformer trains with.
 *
 * One (batch, head) pair is one work item, so every sum runs in a fixed order whatever the
 * thread count. A query row's scores (at most T of them) live in a per-thread scratch row: on
 * a CPU the whole row fits in cache, so the exact two-pass softmax of softmax_causal_forward is
 * as cheap as an online one and rounds the same way. The pair's k (and v) are first transposed
 * into the scratch, (HS, T), so a row of scores is HS vectorised passes over contiguous keys
 * rather than T short dot products. The backward recomputes the probabilities from q, k and
 * the saved log-sum-exp, and the dropout mask from its Philox key.
 *
 * --precision tf32|bf16|fp16: every matrix product here (S = q k^T and out = P v; dv = P^T dy,
 * dP = dy v^T, dq = dS k, dk = dS^T q) reads its inputs rounded to the mode's format
 * (ts_precision_round), as cpu_gemm_lowp does and as autocast's attention does; products of
 * rounded inputs are exact in fp32 and the sums stay fp32. The softmax, its max and
 * log-sum-exp stay fp32; delta = dy . out, which stands for sum_s P dP, reads dy rounded as dP
 * does. fp32 takes none of the rounding branches: bit for bit as before.
 */
#include "backends/cpu/cpu_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "util/philox.h"

/* xt (HS, T) = x (T, HS), rounded to mode p's format */
static void transpose(float *xt, const float *x, int T, int HS, ts_precision p) {
    for (int t = 0; t < T; t++)
        for (int d = 0; d < HS; d++) {
            float v = x[(size_t)t * HS + d];
            xt[(size_t)d * T + t] = p == TS_PREC_FP32 ? v : ts_precision_round(p, v);
        }
}

/* x itself in fp32; otherwise a copy rounded to mode p's format in dst (n floats). */
static const float *rounded(ts_precision p, float *dst, const float *x, size_t n) {
    if (p == TS_PREC_FP32) return x;
    for (size_t i = 0; i < n; i++)
        dst[i] = ts_precision_round(p, x[i]);
    return dst;
}

/* out[s] = sum_d a[d] * bt[d, s] for s < n, bt (HS, T): summed in d order for every s */
static void row_times(float *out, const float *a, const float *bt, int n, int T, int HS) {
    for (int s = 0; s < n; s++)
        out[s] = 0.0f;
    for (int d = 0; d < HS; d++) {
        const float ad = a[d], *b = bt + (size_t)d * T;
        for (int s = 0; s < n; s++)
            out[s] += ad * b[s];
    }
}

/* y += a * x over n floats */
static void axpy(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* The dropout settings shared by the forward and the backward. */
typedef struct {
    int on;          /* p > 0 */
    uint32_t thr;    /* keep iff (w >> 8) >= thr */
    float scale;     /* 1 / (1 - p) */
    uint32_t key[2]; /* Philox key (the seed) */
    ts_dropout_key k;
} drop_mask;

static int drop_init(ts_backend *be, drop_mask *d, float p, ts_dropout_key key, const char *op) {
    if (!(p >= 0.0f && p < 1.0f)) {
        cpu_fail(be, "%s: dropout probability %g is outside [0, 1)", op, (double)p);
        return 0;
    }
    d->on = p > 0.0f;
    d->thr = (uint32_t)ceil((double)p * 16777216.0);
    d->scale = d->on ? 1.0f / (1.0f - p) : 1.0f;
    d->key[0] = (uint32_t)key.seed;
    d->key[1] = (uint32_t)(key.seed >> 32);
    d->k = key;
    return 1;
}

/* keep[s] = 1 iff element i0 + s (s < n) of the keyed tensor survives, as dropout_forward
 * decides it (see ts_dropout_key for the element -> global index map). */
static void mask_row(const drop_mask *d, uint64_t i0, int n, uint8_t *keep) {
    const ts_dropout_key *k = &d->k;
    if (k->span == 0) { /* contiguous global indices: whole Philox blocks, 16 at a time */
        uint64_t g0 = k->offset + i0, g1 = g0 + (uint64_t)n;
        uint32_t w[4 * CPU_PHILOX_LANES];
        for (uint64_t base = g0 & ~(uint64_t)3; base < g1; base += 4 * CPU_PHILOX_LANES) {
            cpu_philox_lanes((uint32_t)(base >> 2), k->step, k->tensor_id, d->key, w);
            for (int j = 0; j < 4 * CPU_PHILOX_LANES; j++) {
                uint64_t g = base + (uint64_t)j;
                if (g >= g0 && g < g1) keep[g - g0] = (w[j] >> 8) >= d->thr;
            }
        }
        return;
    }
    for (int s = 0; s < n; s++) {
        uint64_t i = i0 + (uint64_t)s;
        uint64_t g = k->offset + (i / k->span) * k->stride + i % k->span;
        uint32_t ctr[4] = {(uint32_t)(g >> 2), 0, k->step, k->tensor_id}, w[4];
        ts_philox4x32_10(ctr, d->key, w);
        keep[s] = (w[g & 3] >> 8) >= d->thr;
    }
}

/* Views, shape and dropout checks shared by both directions; 0 when the op must not run. */
static int shape_ok(ts_backend *be, const char *op, int BH, int T, int HS) {
    if (BH <= 0 || T <= 0) return 0;
    if (HS < 1 || HS > TS_ATTENTION_MAX_HS) {
        cpu_fail(be, "%s: head size %d is outside 1..%d", op, HS, TS_ATTENTION_MAX_HS);
        return 0;
    }
    return 1;
}

/* Per-thread scratch: two rows of T floats, k and v transposed (2 * HS * T floats), then for
 * the reduced modes a rounded (T, HS) copy (v forward, k backward) and two rounded rows of HS
 * (q[t], dy[t]); last a row of T mask bytes. */
typedef struct {
    float *sc, *dp, *kt, *vt, *xr, *qr, *dyr;
    uint8_t *keep;
} row_scratch;

static size_t scratch_floats(int T, int HS) {
    /* rounded to 64 bytes below */
    return (size_t)(2 + 3 * HS) * T + 2 * (size_t)HS + ((size_t)T + 3) / 4 + 16;
}

static float *scratch_all(ts_backend *be, int T, int HS) {
    size_t per = (scratch_floats(T, HS) + 15) & ~(size_t)15;
    return cpu_scratch(be, (size_t)cpu_threads(be) * per * sizeof(float));
}

static row_scratch scratch_mine(float *all, int T, int HS) {
    size_t per = (scratch_floats(T, HS) + 15) & ~(size_t)15;
    float *f = all + (size_t)omp_get_thread_num() * per;
    row_scratch r = {f, f + T, f + 2 * (size_t)T, f + (size_t)(2 + HS) * T, NULL, NULL, NULL, NULL};
    r.xr = f + (size_t)(2 + 2 * HS) * T;
    r.qr = r.xr + (size_t)T * HS;
    r.dyr = r.qr + HS;
    r.keep = (uint8_t *)(r.dyr + HS);
    return r;
}

void cpu_attention_forward(ts_backend *be, ts_tensor out, ts_tensor lse, ts_tensor q, ts_tensor k,
                           ts_tensor v, int BH, int T, int HS, float scale, float p,
                           ts_dropout_key key) {
    const char *op = "attention_forward";
    if (be->error != TS_OK || !shape_ok(be, op, BH, T, HS)) return;
    drop_mask dm;
    if (!drop_init(be, &dm, p, key, op)) return;
    float *po = cpu_f32(out), *pl = cpu_f32(lse);
    const float *pq = cpu_f32(q), *pk = cpu_f32(k);
    const float *pv = cpu_f32(v);
    if (be->error != TS_OK) return;
    float *all = scratch_all(be, T, HS);
    if (!all) return;
    const ts_precision prec = be->precision;
    size_t work = (size_t)BH * T * T * HS / 2;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (int bh = 0; bh < BH; bh++) {
        const size_t base = (size_t)bh * T * HS;
        const float *Q = pq + base, *K = pk + base;
        float *O = po + base;
        row_scratch r = scratch_mine(all, T, HS);
        float *sc = r.sc;
        uint8_t *keep = r.keep;
        transpose(r.kt, K, T, HS, prec);
        const float *V = rounded(prec, r.xr, pv + base, (size_t)T * HS);
        for (int t = 0; t < T; t++) {
            const float *qt = rounded(prec, r.qr, Q + (size_t)t * HS, (size_t)HS);
            row_times(sc, qt, r.kt, t + 1, T, HS); /* keys after t are masked: never computed */
            float mx = -INFINITY;
            for (int s = 0; s <= t; s++) {
                sc[s] *= scale;
                mx = fmaxf(mx, sc[s]);
            }
            double sum = 0;
            for (int s = 0; s <= t; s++) {
                sc[s] = expf(sc[s] - mx);
                sum += sc[s];
            }
            pl[(size_t)bh * T + t] = mx + (float)log(sum);
            float inv = (float)(1.0 / sum);
            if (dm.on) mask_row(&dm, ((size_t)bh * T + t) * T, t + 1, keep);
            float *ot = O + (size_t)t * HS;
            memset(ot, 0, (size_t)HS * sizeof *ot);
            for (int s = 0; s <= t; s++) {
                float w = sc[s] * inv; /* softmax_causal_forward's att, then dropout's scale */
                if (dm.on) w = keep[s] ? w * dm.scale : 0.0f;
                if (prec != TS_PREC_FP32) w = ts_precision_round(prec, w);
                if (w != 0.0f) axpy(ot, w, V + (size_t)s * HS, HS);
            }
        }
    }
}

/*
 * With P the probabilities, M the mask times 1/(1-p) and dy = dout:
 *   dv[s] = sum_t P[t,s] M[t,s] dy[t]
 *   dP[t,s] = M[t,s] (dy[t] . v[s]),  D[t] = sum_s dP[t,s] P[t,s] = dy[t] . out[t]
 *   dS[t,s] = scale P[t,s] (dP[t,s] - D[t]),  dq[t] = sum_s dS k[s],  dk[s] = sum_t dS q[t]
 */
void cpu_attention_backward(ts_backend *be, ts_tensor dq, ts_tensor dk, ts_tensor dv,
                            ts_tensor delta, ts_tensor dout, ts_tensor out, ts_tensor q,
                            ts_tensor k, ts_tensor v, ts_tensor lse, int BH, int T, int HS,
                            float scale, float p, ts_dropout_key key) {
    const char *op = "attention_backward";
    if (be->error != TS_OK || !shape_ok(be, op, BH, T, HS)) return;
    drop_mask dm;
    if (!drop_init(be, &dm, p, key, op)) return;
    float *pdq = cpu_f32(dq), *pdk = cpu_f32(dk);
    float *pdv = cpu_f32(dv), *pD = cpu_f32(delta);
    const float *pdy = cpu_f32(dout), *po = cpu_f32(out);
    const float *pq = cpu_f32(q), *pk = cpu_f32(k);
    const float *pv = cpu_f32(v), *pl = cpu_f32(lse);
    if (be->error != TS_OK) return;
    float *all = scratch_all(be, T, HS);
    if (!all) return;
    const ts_precision prec = be->precision;
    size_t work = (size_t)BH * T * T * HS;
#pragma omp parallel for num_threads(cpu_threads(be)) schedule(static) if (work >= CPU_PAR_MIN)
    for (int bh = 0; bh < BH; bh++) {
        const size_t base = (size_t)bh * T * HS;
        const float *Q = pq + base, *K = pk + base, *V = pv + base, *DY = pdy + base;
        const float *O = po + base;
        float *DQ = pdq + base, *DK = pdk + base, *DV = pdv + base;
        row_scratch r = scratch_mine(all, T, HS);
        float *P = r.sc, *DPV = r.dp;
        uint8_t *keep = r.keep;
        transpose(r.kt, K, T, HS, prec);
        transpose(r.vt, V, T, HS, prec);
        const float *KR = rounded(prec, r.xr, K, (size_t)T * HS);
        memset(DK, 0, (size_t)T * HS * sizeof *DK);
        memset(DV, 0, (size_t)T * HS * sizeof *DV);
        for (int t = 0; t < T; t++) {
            const float *qt = Q + (size_t)t * HS, *dyt = DY + (size_t)t * HS;
            const float *ot = O + (size_t)t * HS;
            float L = pl[(size_t)bh * T + t];
            /* the products' inputs (dy also in delta, which stands for sum_s P dP) */
            const float *qr = rounded(prec, r.qr, qt, (size_t)HS);
            const float *dyr = rounded(prec, r.dyr, dyt, (size_t)HS);
            double Dd = 0;
            for (int d = 0; d < HS; d++)
                Dd += (double)dyr[d] * ot[d];
            float D = (float)Dd;
            pD[(size_t)bh * T + t] = D;
            if (dm.on) mask_row(&dm, ((size_t)bh * T + t) * T, t + 1, keep);
            float *dqt = DQ + (size_t)t * HS;
            memset(dqt, 0, (size_t)HS * sizeof *dqt);
            row_times(P, qr, r.kt, t + 1, T, HS);
            for (int s = 0; s <= t; s++)
                P[s] = expf(scale * P[s] - L);
            row_times(DPV, dyr, r.vt, t + 1, T, HS); /* dy[t] . v[s] */
            for (int s = 0; s <= t; s++) {
                float m = dm.on ? (keep[s] ? dm.scale : 0.0f) : 1.0f;
                float pm = P[s] * m;
                if (prec != TS_PREC_FP32) pm = ts_precision_round(prec, pm);
                if (m != 0.0f) axpy(DV + (size_t)s * HS, pm, dyr, HS);
                float dP = m * DPV[s];
                float dS = scale * P[s] * (dP - D);
                if (prec != TS_PREC_FP32) dS = ts_precision_round(prec, dS);
                axpy(dqt, dS, KR + (size_t)s * HS, HS);
                axpy(DK + (size_t)s * HS, dS, qr, HS);
            }
        }
    }
}
