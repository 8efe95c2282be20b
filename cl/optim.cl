/*
 * optim.cl — the AdamW update (torch.optim.AdamW, single-tensor form), one item per element.
 * The derived scalars are formed in double on the host and rounded once to float, exactly as
 * the CPU backend does, so both backends apply the same float arithmetic.
 */
__kernel void ts_adamw(__global float *param, ulong po, __global const float *grad, ulong go,
                       __global float *m, ulong mo, __global float *v, ulong vo, uint n,
                       float decay, float b1, float b2, float eps, float a1, float a2,
                       float neg_step, float bc2_sqrt, float grad_scale) {
    uint i = get_global_id(0);
    if (i >= n) return;
    float g = grad[go + i] * grad_scale;
    float mi = m[mo + i] * b1 + a1 * g;
    float vi = v[vo + i] * b2 + a2 * g * g;
    float denom = sqrt(vi) / bc2_sqrt + eps;
    m[mo + i] = mi;
    v[vo + i] = vi;
    param[po + i] = param[po + i] * decay + neg_step * mi / denom;
}
