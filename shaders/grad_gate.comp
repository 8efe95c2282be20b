/* grad_gate.comp — the step's gate, one invocation: norm = sqrt(sum of squared gradients),
 * the clip coefficient min(clip / (norm + 1e-6), 1) (float; the cpu forms it in double) and
 * the skip flag (1 when the loss sum or the norm is not finite). AdamW reads the gate on the
 * device, so no host round trip sits between the backward and the update. */
#version 450
#include "common.glsl"
BUF(0, gate_) BUF(1, norm_) BUF(2, sums_)
layout(push_constant) uniform P {
    uint gto, no, so;
    float clip;
} p;
void main() {
    if (ts_flat() != 0u) return;
    float loss_sum = sums_[p.so], nrm = sqrt(sums_[p.so + 1u]);
    float coef = p.clip / (nrm + 1e-6);
    norm_[p.no] = nrm;
    gate_[p.gto] = coef < 1.0 ? coef : 1.0;
    bool finite = !isnan(loss_sum) && !isinf(loss_sum) && !isnan(nrm) && !isinf(nrm);
    gate_[p.gto + 1u] = finite ? 0.0 : 1.0;
}
