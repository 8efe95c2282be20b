/*
 * lstm_persistent.cl — all T steps of one LSTM layer in one launch (ops.def:
 * lstm_sequence_forward/backward; host: backends/opencl/opencl_lstm_persistent.c).
 *
 * Work-group g owns hidden units [g*U, g*U + U): all four gates of them, so its cell update
 * needs nothing from other groups. Its W_hh rows (forward) or columns (backward) are copied
 * into local memory once when `wl_on` (they fit), else read from global memory every step.
 * Between steps the groups meet at a device-wide barrier: every group must be resident at
 * once, which the host checks before it launches (and a one-time self-test confirms). The
 * barrier's spin is bounded: on expiry it raises sync[2] and every group writes NaN over what
 * it owns from that step on, so a hang becomes a non-finite loss, never wrong numbers.
 *
 * sync (3 ints, zeroed by the host before each launch): [0] groups arrived, [1] generation,
 * [2] failure flag. Values other groups wrote (h_t, dpre_t) are read through volatile
 * pointers so that no stale copy is kept in a non-coherent cache or a register.
 */

inline float tsp_sigmoid(float x) {
    return 1.0f / (1.0f + exp(-x));
}

/* Device-wide barrier: 1 when every group arrived, 0 when the wait timed out or another group
 * failed. Item 0 of the group does the counting; the local barrier shares its verdict. */
int tsp_grid_sync(volatile __global int *sync, uint spin_cap, __local int *verdict) {
    barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
    if (get_local_id(0) == 0) {
        int ok = 1;
        mem_fence(CLK_GLOBAL_MEM_FENCE); /* this group's writes before its arrival */
        /* read the generation before arriving: it cannot advance until this group has */
        int gen = atomic_add(&sync[1], 0);
        if (atomic_add(&sync[2], 0) != 0) {
            ok = 0;
        } else if (atomic_inc(&sync[0]) == (int)get_num_groups(0) - 1) {
            atomic_xchg(&sync[0], 0); /* reset before releasing anyone */
            atomic_inc(&sync[1]);
        } else {
            uint polls = 0;
            while (atomic_add(&sync[1], 0) == gen && atomic_add(&sync[2], 0) == 0 &&
                   polls <= spin_cap)
                polls++;
            /* only a generation that moved on is a pass (shaders/lstm_persistent.glsl) */
            if (atomic_add(&sync[1], 0) == gen) {
                atomic_xchg(&sync[2], 1);
                ok = 0;
            }
        }
        mem_fence(CLK_GLOBAL_MEM_FENCE);
        *verdict = ok;
    }
    barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
    return *verdict;
}

/* This group's first hidden unit (*j0) and how many it owns (0 for a spare group). */
uint tsp_units(uint U, uint H, uint *j0) {
    *j0 = get_group_id(0) * U;
    return *j0 < H ? min(U, H - *j0) : 0;
}

/* Forward: h, c (T, B, H), act, pre (T, B, 4H); h0, c0 (B, H) read when has_init. wl holds
 * 4*U*H floats when wl_on: row (q*U + u) is W_hh row q*H + g*U + u. */
__kernel void ts_lstm_persistent_forward(
    __global float *h, ulong ho, __global float *c, ulong co, __global float *act, ulong ao,
    __global const float *pre, ulong po, __global const float *h0, ulong h0o,
    __global const float *c0, ulong c0o, __global const float *w, ulong wo,
    __global const float *bi, ulong bio, __global const float *bh, ulong bho,
    volatile __global int *sync, uint T, uint B, uint H, uint has_init, uint U, uint wl_on,
    uint spin_cap, __local float *wl) {
    __local int verdict;
    uint j0, units = tsp_units(U, H, &j0), lid = get_local_id(0), wg = get_local_size(0);
    ulong BH = (ulong)B * H;
    w += wo;
    if (wl_on) {
        for (uint e = lid; e < 4 * units * H; e += wg) {
            uint r = e / H, k = e % H, q = r / units, u = r % units;
            wl[(q * U + u) * H + k] = w[((ulong)q * H + j0 + u) * H + k];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    uint t = 0;
    for (; t < T; t++) {
        int prev = t > 0 || has_init;
        volatile __global const float *hp = t ? (volatile __global const float *)(h + ho + (t - 1) * BH)
                                              : (volatile __global const float *)(h0 + h0o);
        __global const float *cp = t ? c + co + (t - 1) * BH : c0 + c0o;
        for (uint p = lid; p < B * units; p += wg) {
            uint b = p / units, u = p % units, j = j0 + u;
            __global const float *g4 = pre + po + (t * BH + (ulong)b * H) * 4;
            float gi = g4[j] + bi[bio + j] + bh[bho + j];
            float gf = g4[H + j] + bi[bio + H + j] + bh[bho + H + j];
            float gg = g4[2 * H + j] + bi[bio + 2 * H + j] + bh[bho + 2 * H + j];
            float go = g4[3 * H + j] + bi[bio + 3 * H + j] + bh[bho + 3 * H + j];
            float cprev = 0.0f;
            if (prev) {
                volatile __global const float *hb = hp + (ulong)b * H;
                /* the four gates' sums side by side, each over k in order */
                float4 sum = (float4)(0.0f);
                if (wl_on) {
                    __local const float *wr = wl + u * H; /* gate q's row: wr + q * U * H */
                    for (uint k = 0; k < H; k++)
                        sum += hb[k] * (float4)(wr[k], wr[U * H + k], wr[2 * U * H + k],
                                                wr[3 * U * H + k]);
                } else {
                    __global const float *wr = w + (ulong)j * H; /* gate q's: wr + q * H * H */
                    ulong HH = (ulong)H * H;
                    for (uint k = 0; k < H; k++)
                        sum += hb[k] * (float4)(wr[k], wr[HH + k], wr[2 * HH + k], wr[3 * HH + k]);
                }
                gi += sum.x, gf += sum.y, gg += sum.z, go += sum.w;
                cprev = cp[(ulong)b * H + j];
            }
            float4 a = (float4)(tsp_sigmoid(gi), tsp_sigmoid(gf), tanh(gg), tsp_sigmoid(go));
            __global float *a4 = act + ao + (t * BH + (ulong)b * H) * 4 + j;
            a4[0] = a.x, a4[H] = a.y, a4[2 * H] = a.z, a4[3 * H] = a.w;
            float cn = a.y * cprev + a.x * a.z, og = a.w;
            c[co + t * BH + (ulong)b * H + j] = cn;
            h[ho + t * BH + (ulong)b * H + j] = og * tanh(cn);
        }
        if (t + 1 < T && !tsp_grid_sync(sync, spin_cap, &verdict)) break;
    }
    /* a failed barrier: poison this group's units from the step it could not finish on */
    for (uint s = t; s < T; s++)
        for (uint p = lid; p < B * units; p += wg) {
            uint b = p / units, j = j0 + p % units;
            h[ho + s * BH + (ulong)b * H + j] = NAN;
            c[co + s * BH + (ulong)b * H + j] = NAN;
        }
}

/* Backward, from t = T-1 down: dh (T, B, H) gains dpre_{t+1} W_hh, dpre (T, B, 4H) is written,
 * dc (B, H) carries the cell gradient and ends as the gradient into c0. wl holds 4*U*H floats
 * when wl_on: row u is column g*U + u of W_hh (4H values). */
__kernel void ts_lstm_persistent_backward(
    __global float *dpre, ulong dpo, __global float *dc, ulong dco, __global float *dh,
    ulong dho, __global const float *w, ulong wo, __global const float *act, ulong ao,
    __global const float *c, ulong co, __global const float *c0, ulong c0o,
    volatile __global int *sync, uint T, uint B, uint H, uint has_init, uint U, uint wl_on,
    uint spin_cap, __local float *wl) {
    __local int verdict;
    ulong BH = (ulong)B * H, H4 = 4 * (ulong)H;
    uint lid = get_local_id(0), wg = get_local_size(0), j0, units = tsp_units(U, H, &j0);
    w += wo;
    if (wl_on) {
        for (uint e = lid; e < units * 4 * H; e += wg) {
            uint u = e / (4 * H), n = e % (4 * H);
            wl[u * 4 * H + n] = w[(ulong)n * H + j0 + u];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    uint done = 0; /* steps finished, counted from the last */
    for (; done < T; done++) {
        uint t = T - 1 - done;
        int next = done > 0, prev = t > 0 || has_init;
        for (uint p = lid; p < B * units; p += wg) {
            uint b = p / units, u = p % units, j = j0 + u;
            ulong s = t * BH + (ulong)b * H + j, sb = (ulong)b * H + j;
            float dhv = dh[dho + s], dcv = 0.0f;
            if (next) {
                volatile __global const float *dn =
                    (volatile __global const float *)(dpre + dpo + (t + 1) * BH * 4 + (ulong)b * H4);
                float acc = 0.0f;
                if (wl_on) {
                    __local const float *wj = wl + u * 4 * H;
                    for (uint n = 0; n < 4 * H; n++)
                        acc += dn[n] * wj[n];
                } else {
                    for (uint n = 0; n < 4 * H; n++)
                        acc += dn[n] * w[(ulong)n * H + j];
                }
                dhv += acc;
                dh[dho + s] = dhv;
                dcv = dc[dco + sb];
            }
            __global const float *a4 = act + ao + t * BH * 4 + (ulong)b * H4;
            __global float *d4 = dpre + dpo + t * BH * 4 + (ulong)b * H4;
            float ig = a4[j], fg = a4[H + j], gg = a4[2 * H + j], og = a4[3 * H + j];
            float tc = tanh(c[co + s]);
            float dct = dcv + dhv * og * (1.0f - tc * tc);
            float cprev = !prev ? 0.0f : t ? c[co + s - BH] : c0[c0o + sb];
            dc[dco + sb] = dct * fg;
            d4[j] = dct * gg * ig * (1.0f - ig);
            d4[H + j] = dct * cprev * fg * (1.0f - fg);
            d4[2 * H + j] = dct * ig * (1.0f - gg * gg);
            d4[3 * H + j] = dhv * tc * og * (1.0f - og);
        }
        if (done + 1 < T && !tsp_grid_sync(sync, spin_cap, &verdict)) break;
    }
    /* a failed barrier: poison this group's gradients from the step it could not finish on */
    for (; done < T; done++)
        for (uint p = lid; p < B * units; p += wg) {
            uint t = T - 1 - done, b = p / units, j = j0 + p % units;
            for (uint q = 0; q < 4; q++)
                dpre[dpo + t * BH * 4 + (ulong)b * H4 + q * H + j] = NAN;
            dh[dho + t * BH + (ulong)b * H + j] = NAN;
            dc[dco + (ulong)b * H + j] = NAN;
        }
}
