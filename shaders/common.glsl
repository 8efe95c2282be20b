/*
 * common.glsl — included by every compute shader: buffer-binding macros, the flat 1-D index
 * (dispatches are folded into 2-D grids because a grid dimension may hold only 65535 groups),
 * and fixed-tree work-group reductions, so sums round identically on every run.
 *
 * Views arrive as a binding plus an element offset in the push constants; sizes are checked
 * on the host, so shaders only guard against the rounded-up grid.
 */
#define BUF(i, name)                                                                               \
    layout(std430, set = 0, binding = i) buffer Buf##i {                                           \
        float name[];                                                                              \
    };
#define IBUF(i, name)                                                                              \
    layout(std430, set = 0, binding = i) buffer Buf##i {                                           \
        int name[];                                                                                \
    };

#ifndef TS_NO_WG
/* Work-group size (a power of two): a specialization constant set by the host. */
layout(constant_id = 0) const uint WG = 64;
layout(local_size_x_id = 0) in;

uint ts_group() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}
uint ts_flat() {
    return ts_group() * WG + gl_LocalInvocationID.x;
}
#endif

#ifdef TS_GROUP_REDUCE
shared float ts_tmp[WG];

/* Sum over the work-group by a fixed tree: every item gets the same total. */
float ts_group_sum(float v) {
    uint lid = gl_LocalInvocationID.x;
    ts_tmp[lid] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) ts_tmp[lid] += ts_tmp[lid + s];
        barrier();
    }
    float total = ts_tmp[0];
    barrier(); /* the caller may reuse ts_tmp at once */
    return total;
}

float ts_group_max(float v) {
    uint lid = gl_LocalInvocationID.x;
    ts_tmp[lid] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) ts_tmp[lid] = max(ts_tmp[lid], ts_tmp[lid + s]);
        barrier();
    }
    float m = ts_tmp[0];
    barrier();
    return m;
}
#endif

/* Codes written to the status word (binding of the shader's choosing) on bad device data;
 * they match VK_BAD_* in backends/vulkan/vulkan_internal.h. */
#define TS_BAD_EMBEDDING_ID 1
#define TS_BAD_TARGET       2

/* GLSL's tanh may overflow to NaN through exp for large |x| on some drivers: beyond 15 it is
 * +-1 in float anyway. */
float ts_tanh(float x) {
    return tanh(clamp(x, -15.0, 15.0));
}
