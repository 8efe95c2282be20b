/*
 * peak_copy.comp — `bench peak`'s bandwidth kernel: one vec4 per invocation, the widest plain
 * load every device has. The views' offsets are in vec4s (the host checks they are whole).
 */
#version 450
#include "common.glsl"
layout(std430, set = 0, binding = 0) buffer Dst {
    vec4 dst_[];
};
layout(std430, set = 0, binding = 1) readonly buffer Src {
    vec4 src_[];
};
layout(push_constant) uniform P {
    uint do4, so4, n4;
} p;

void main() {
    uint i = ts_flat();
    if (i < p.n4) dst_[p.do4 + i] = src_[p.so4 + i];
}
