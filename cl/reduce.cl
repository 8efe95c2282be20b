/*
 * reduce.cl — deterministic sum and sum of squares of a flat array (the loss mean and the
 * gradient norm for clipping).
 *
 * Two passes with a shape fixed on every device: TS_RED_GROUPS work-groups of TS_RED_WG items;
 * item g sums elements g, g + G, g + 2G, ... (G = all items) with Kahan compensation, each
 * group adds its items by a fixed tree, and one group adds the TS_RED_GROUPS partials by the
 * same tree. The order of every addition is a function of n alone.
 */

__kernel void ts_reduce_partial(__global float *part, __global const float *x, ulong xo, uint n,
                                int squares) {
    __local float tmp[TS_RED_WG];
    uint g = get_global_id(0), G = TS_RED_WG * TS_RED_GROUPS;
    float s = 0.0f, comp = 0.0f;
    for (uint i = g; i < n; i += G) {
        float v = x[xo + i];
        float y = (squares ? v * v : v) - comp;
        float t = s + y;
        comp = (t - s) - y;
        s = t;
    }
    s = ts_group_sum(s, tmp, TS_RED_WG);
    if (get_local_id(0) == 0) part[get_group_id(0)] = s;
}

/* One work-group of TS_RED_WG items: out[0] = the tree sum of the partials. */
__kernel void ts_reduce_finish(__global float *out, ulong oo, __global const float *part) {
    __local float tmp[TS_RED_WG];
    uint lid = get_local_id(0);
    float s = 0.0f;
    for (uint k = lid; k < TS_RED_GROUPS; k += TS_RED_WG)
        s += part[k];
    s = ts_group_sum(s, tmp, TS_RED_WG);
    if (lid == 0) out[oo] = s;
}
