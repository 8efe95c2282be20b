/* embedding_forward.comp — out[i, c] = (acc ? out[i, c] : 0) + table[ids[i], c]; a bad id is
 * skipped and reported through the status word. */
#version 450
#include "common.glsl"
BUF(0, o_) BUF(1, t_) IBUF(2, ids_) IBUF(3, status_)
layout(push_constant) uniform P { uint oo, to, io, n, C; int V, accumulate; } p;
void main() {
    uint e = ts_flat();
    if (e >= p.n * p.C) return;
    uint i = e / p.C, c = e % p.C;
    int id = ids_[p.io + i];
    if (id < 0 || id >= p.V) {
        status_[0] = TS_BAD_EMBEDDING_ID;
        return;
    }
    float v = t_[p.to + uint(id) * p.C + c];
    uint k = p.oo + e;
    o_[k] = p.accumulate != 0 ? o_[k] + v : v;
}
