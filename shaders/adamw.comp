/* adamw.comp — the AdamW update, one item per element; the derived scalars come from the
 * host, formed in double and rounded once, exactly as the CPU backend does. gate[0] (from
 * grad_gate) scales the gradient, gate[1] != 0 skips the update; the gradient is zeroed either
 * way, which is the next step's zero-grad. */
#version 450
#include "common.glsl"
BUF(0, p_) BUF(1, g_) BUF(2, m_) BUF(3, v_) BUF(4, gate_)
layout(push_constant) uniform P {
    uint po, go, mo, vo, gto, n;
    float decay, b1, b2, eps, a1, a2, neg_step, bc2_sqrt;
} p;
void main() {
    uint i = ts_flat();
    if (i >= p.n) return;
    float g = g_[p.go + i] * gate_[p.gto];
    g_[p.go + i] = 0.0;
    if (gate_[p.gto + 1u] != 0.0) return;
    float mi = m_[p.mo + i] * p.b1 + p.a1 * g;
    float vi = v_[p.vo + i] * p.b2 + p.a2 * g * g;
    float denom = sqrt(vi) / p.bc2_sqrt + p.eps;
    m_[p.mo + i] = mi;
    v_[p.vo + i] = vi;
    p_[p.po + i] = p_[p.po + i] * p.decay + p.neg_step * mi / denom;
}
