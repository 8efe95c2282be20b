/*
 * philox.glsl — Philox4x32-10 (Salmon et al., SC'11), the same function as util/philox.c: ten
 * rounds of two 32x32->64 multiplies with a Weyl-sequence key schedule. Included by dropout
 * and by the fused attention's mask.
 */
uvec4 ts_philox(uvec4 x, uvec2 key) {
    for (int r = 0; r < 10; r++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, x.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, x.z, hi1, lo1);
        x = uvec4(hi1 ^ x.y ^ key.x, lo1, hi0 ^ x.w ^ key.y, lo0);
        key += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return x;
}
