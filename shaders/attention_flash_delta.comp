/* attention_flash_delta.comp — delta[r] = dot(dout[r], out[r]) for each of BH*T rows, one item
 * per row: the row sums the attention backward subtracts. They stand for sum_s P dP, whose dP
 * reads dout rounded (--precision fp16): so does this sum (attention_flash.glsl). */
#version 450
#include "common.glsl"
#include "attention_flash.glsl"
BUF(0, dl_) BUF(1, dy_) BUF(2, o_)
layout(push_constant) uniform P { uint dlo, dyo, oo, rows, HS; } p;
void main() {
    uint r = ts_flat();
    if (r >= p.rows) return;
    float s = 0.0;
    for (uint d = 0u; d < p.HS; d++)
        s += ts_att_in(dy_[p.dyo + r * p.HS + d]) * o_[p.oo + r * p.HS + d];
    dl_[p.dlo + r] = s;
}
