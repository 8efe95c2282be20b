/*
 * elementwise.cl — flat-array ops: add, scale, a 2-D scale for gemm's beta, exact GELU and
 * Philox inverted dropout. (Fill and copy are clEnqueueFillBuffer / clEnqueueCopyBuffer.)
 * One work-item per element; the global size is rounded up, hence the bounds checks.
 */

__kernel void ts_add(__global float *out, ulong oo, __global const float *a, ulong ao,
                     __global const float *b, ulong bo, uint n) {
    uint i = get_global_id(0);
    if (i < n) out[oo + i] = a[ao + i] + b[bo + i];
}

__kernel void ts_scale(__global float *x, ulong xo, float s, uint n) {
    uint i = get_global_id(0);
    if (i < n) x[xo + i] *= s;
}

/* C[i, j] = beta * C[i, j] over an M x N block with row stride ldc, one block per batch entry
 * (global dim 2); beta == 0 writes zeros without reading C (BLAS convention: NaN does not
 * survive). */
__kernel void ts_scale2d(__global float *c, ulong co, uint M, uint N, uint ldc, ulong stride,
                         float beta) {
    uint j = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
    if (i >= M || j >= N) return;
    ulong k = co + b * stride + (ulong)i * ldc + j;
    c[k] = beta == 0.0f ? 0.0f : beta * c[k];
}

#define TS_SQRT1_2      0.70710678118654752440f
#define TS_INV_SQRT_2PI 0.39894228040143267794f

__kernel void ts_gelu_forward(__global float *out, ulong oo, __global const float *inp, ulong io,
                              uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    float x = inp[io + i];
    out[oo + i] = 0.5f * x * (1.0f + erf(x * TS_SQRT1_2));
}

__kernel void ts_gelu_backward(__global float *dinp, ulong dio, __global const float *inp,
                               ulong io, __global const float *dout, ulong doo, uint n) {
    uint i = get_global_id(0);
    if (i >= n) return;
    float x = inp[io + i];
    float cdf = 0.5f * (1.0f + erf(x * TS_SQRT1_2));
    float pdf = exp(-0.5f * x * x) * TS_INV_SQRT_2PI;
    dinp[dio + i] = dout[doo + i] * (cdf + x * pdf);
}

/*
 * Inverted dropout: element i keeps iff (w >> 8) >= thr, w = word (g & 3) of Philox(counter
 * {g >> 2, 0, step, tensor id}, key {seed_lo, seed_hi}), thr = ceil(p * 2^24) (so the test is
 * exactly u >= p); kept elements are multiplied by scale = 1/(1-p), computed on the host as the
 * CPU backend does. g = offset + (i / span) * stride + i % span (span 0: offset + i) places a
 * data-parallel slice in the global tensor. Aligned contiguous tensors (span 0, offset % 4 == 0)
 * take one work-item per Philox block of four elements; others one work-item per element.
 */
__kernel void ts_dropout(__global float *out, ulong oo, __global const float *inp, ulong io,
                         uint n, uint thr, float scale, uint seed_lo, uint seed_hi, uint step,
                         uint tensor_id, ulong offset, uint span, uint stride) {
    uint2 key = (uint2)(seed_lo, seed_hi);
    if (span == 0 && (offset & 3) == 0) {
        uint blk = get_global_id(0);
        uint i0 = blk * 4;
        if (i0 >= n) return;
        uint4 w = ts_philox((uint4)((uint)(offset >> 2) + blk, 0, step, tensor_id), key);
        uint ws[4] = {w.s0, w.s1, w.s2, w.s3};
        for (uint j = 0; j < 4 && i0 + j < n; j++) {
            float x = inp[io + i0 + j];
            out[oo + i0 + j] = (ws[j] >> 8) >= thr ? x * scale : 0.0f;
        }
        return;
    }
    uint i = get_global_id(0);
    if (i >= n) return;
    ulong g = span ? offset + (ulong)(i / span) * stride + i % span : offset + i;
    uint4 w = ts_philox((uint4)((uint)(g >> 2), 0, step, tensor_id), key);
    uint ws[4] = {w.s0, w.s1, w.s2, w.s3};
    float x = inp[io + i];
    out[oo + i] = (ws[g & 3] >> 8) >= thr ? x * scale : 0.0f;
}
