/* adamw.comp — the AdamW update, one item per element; the derived scalars come from the
 * host, formed in double and rounded once, exactly as the CPU backend does. */
#version 450
#include "common.glsl"
BUF(0, p_) BUF(1, g_) BUF(2, m_) BUF(3, v_)
layout(push_constant) uniform P {
    uint po, go, mo, vo, n;
    float decay, b1, b2, eps, a1, a2, neg_step, bc2_sqrt, grad_scale;
} p;
void main() {
    uint i = ts_flat();
    if (i >= p.n) return;
    float g = g_[p.go + i] * p.grad_scale;
    float mi = m_[p.mo + i] * p.b1 + p.a1 * g;
    float vi = v_[p.vo + i] * p.b2 + p.a2 * g * g;
    float denom = sqrt(vi) / p.bc2_sqrt + p.eps;
    m_[p.mo + i] = mi;
    v_[p.vo + i] = vi;
    p_[p.po + i] = p_[p.po + i] * p.decay + p.neg_step * mi / denom;
}
