/* crossentropy_backward.comp — dlogits = scale * (probs - onehot(target)), zero rows for
 * ignored targets; one item per element (dlogits may alias probs). */
#version 450
#include "common.glsl"
BUF(0, d_) BUF(1, pr_) IBUF(2, tg_) IBUF(3, status_)
layout(push_constant) uniform P { uint dlo, po, to, N, V; int ignore_index; float scale; } p;
void main() {
    uint e = ts_flat();
    if (e >= p.N * p.V) return;
    uint r = e / p.V, j = e % p.V;
    int tg = tg_[p.to + r];
    if (tg == p.ignore_index) {
        d_[p.dlo + e] = 0.0;
        return;
    }
    if (tg < 0 || uint(tg) >= p.V) {
        status_[0] = TS_BAD_TARGET;
        d_[p.dlo + e] = 0.0;
        return;
    }
    d_[p.dlo + e] = p.scale * (pr_[p.po + e] - (int(j) == tg ? 1.0 : 0.0));
}
