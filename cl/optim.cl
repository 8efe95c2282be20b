/*
 * optim.cl — the step's gate (clip coefficient and non-finite skip) and the AdamW update
 * (torch.optim.AdamW, single-tensor form), one item per element. The derived AdamW scalars are
 * formed in double on the host and rounded once to float, exactly as the CPU backend does, so
 * both backends apply the same float arithmetic. The gate stays on the device: AdamW reads it
 * there, so the host never has to see the norm before the update.
 */
__kernel void ts_grad_gate(__global float *gate, ulong go, __global float *norm, ulong no,
                           __global const float *sums, ulong so, float clip) {
    if (get_global_id(0) != 0) return;
    float loss_sum = sums[so], nrm = sqrt(sums[so + 1]);
    /* the cpu forms clip / (norm + 1e-6) in double; float here (devices may lack doubles) */
    float coef = clip / (nrm + 1e-6f);
    norm[no] = nrm;
    gate[go] = coef < 1.0f ? coef : 1.0f;
    gate[go + 1] = isfinite(loss_sum) && isfinite(nrm) ? 0.0f : 1.0f;
}

/* gate[0] scales the gradient, gate[1] != 0 skips the update; the gradient is zeroed either
 * way (the next step's zero-grad). */
__kernel void ts_adamw(__global float *param, ulong po, __global float *grad, ulong go,
                       __global float *m, ulong mo, __global float *v, ulong vo,
                       __global const float *gate, ulong gto, uint n, float decay, float b1,
                       float b2, float eps, float a1, float a2, float neg_step, float bc2_sqrt) {
    uint i = get_global_id(0);
    if (i >= n) return;
    float g = grad[go + i] * gate[gto];
    grad[go + i] = 0.0f;
    if (gate[gto + 1] != 0.0f) return;
    float mi = m[mo + i] * b1 + a1 * g;
    float vi = v[vo + i] * b2 + a2 * g * g;
    float denom = sqrt(vi) / bc2_sqrt + eps;
    m[mo + i] = mi;
    v[vo + i] = vi;
    param[po + i] = param[po + i] * decay + neg_step * mi / denom;
}
