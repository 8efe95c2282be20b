/*
 * embedding_backward.comp — dtable[r, :] += dout[i, :] for every i with ids[i] == r, added in
 * increasing i (the CPU backend's order): bit-for-bit reproducible without atomics.
 *
 * One work-group owns table row r. It scans the ids in tiles of WG: each item tests one id,
 * an inclusive scan of the hit flags gives every match its slot, the matching positions land
 * in shared memory in order, then each item adds those rows of dout for its columns (four
 * per item per pass, so one scan covers 4 * WG columns).
 */
#version 450
#include "common.glsl"
BUF(0, dt_) BUF(1, g_) IBUF(2, ids_) IBUF(3, status_)
layout(push_constant) uniform P { uint dto, go, io, n, C; int V; } p;
shared uint scan_[WG];
shared uint pos_[WG];
void main() {
    uint r = ts_group(), lid = gl_LocalInvocationID.x;
    if (r >= uint(p.V)) return; /* a folded grid may hold spare groups */
    for (uint c0 = 0u; c0 < p.C; c0 += WG * 4u) {
        float acc[4];
        for (uint q = 0u; q < 4u; q++) {
            uint c = c0 + lid + q * WG;
            acc[q] = c < p.C ? dt_[p.dto + r * p.C + c] : 0.0;
        }
        for (uint t0 = 0u; t0 < p.n; t0 += WG) {
            uint i = t0 + lid;
            int id = i < p.n ? ids_[p.io + i] : -1;
            if (i < p.n && (id < 0 || id >= p.V) && r == 0u && c0 == 0u)
                status_[0] = TS_BAD_EMBEDDING_ID;
            uint hit = id == int(r) ? 1u : 0u;
            scan_[lid] = hit;
            barrier();
            for (uint s = 1u; s < WG; s <<= 1) {
                uint add = lid >= s ? scan_[lid - s] : 0u;
                barrier();
                scan_[lid] += add;
                barrier();
            }
            if (hit != 0u) pos_[scan_[lid] - 1u] = i;
            uint count = scan_[WG - 1u];
            barrier();
            for (uint k = 0u; k < count; k++) {
                uint row = p.go + pos_[k] * p.C;
                for (uint q = 0u; q < 4u; q++) {
                    uint c = c0 + lid + q * WG;
                    if (c < p.C) acc[q] += g_[row + c];
                }
            }
            barrier(); /* scan_ and pos_ are rewritten by the next tile */
        }
        for (uint q = 0u; q < 4u; q++) {
            uint c = c0 + lid + q * WG;
            if (c < p.C) dt_[p.dto + r * p.C + c] = acc[q];
        }
    }
}
