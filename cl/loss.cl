/*
 * loss.cl — softmax cross-entropy per row of logits (N, V) against int32 targets with an
 * ignore index, and its backward. A target outside [0, V) that is not the ignore index sets
 * the status word (sync reports it) and the row is treated as ignored.
 */

/*
 * One work-group per row: mx = max x, sum = sum exp(x - mx), probs = exp(x - mx) / sum,
 * loss = log(sum) + mx - x[target]. probs may alias logits: the target logit is read before
 * the first barrier, and every item writes only the columns it read.
 */
__kernel void ts_crossentropy_forward(__global float *losses, ulong lo, __global float *probs,
                                      ulong po, __global const float *logits, ulong xo,
                                      __global const int *targets, ulong to, uint N, uint V,
                                      int ignore_index, __global int *status) {
    __local float tmp[TS_ROW_WG];
    uint r = get_group_id(0), lid = get_local_id(0);
    if (r >= N) return;
    __global const float *x = logits + xo + (ulong)r * V;
    __global float *p = probs + po + (ulong)r * V;
    int tg = ts_row_target(targets, to, r, V, ignore_index, status);
    int ignored = tg < 0;
    float xt = ignored ? 0.0f : x[tg];
    float mx = ts_row_max(x, V, tmp);
    float sum = 0.0f;
    for (uint j = lid; j < V; j += TS_ROW_WG) {
        float e = exp(x[j] - mx);
        p[j] = e;
        sum += e;
    }
    sum = ts_group_sum(sum, tmp, TS_ROW_WG);
    float inv = 1.0f / sum;
    for (uint j = lid; j < V; j += TS_ROW_WG)
        p[j] *= inv;
    if (lid == 0) losses[lo + r] = ignored ? 0.0f : log(sum) + mx - xt;
}

/* dlogits = scale * (probs - onehot(target)), zero rows for ignored targets; global (V, N).
 * dlogits may alias probs (one element per item). */
__kernel void ts_crossentropy_backward(__global float *dlogits, ulong dlo,
                                       __global const float *probs, ulong po,
                                       __global const int *targets, ulong to, uint N, uint V,
                                       int ignore_index, float scale, __global int *status) {
    uint j = get_global_id(0), r = get_global_id(1);
    if (j >= V || r >= N) return;
    int tg = targets[to + r];
    ulong e = (ulong)r * V + j;
    if (tg == ignore_index) {
        dlogits[dlo + e] = 0.0f;
        return;
    }
    if (tg < 0 || (uint)tg >= V) {
        *status = TS_BAD_TARGET;
        dlogits[dlo + e] = 0.0f;
        return;
    }
    dlogits[dlo + e] = scale * (probs[po + e] - ((int)j == tg ? 1.0f : 0.0f));
}
