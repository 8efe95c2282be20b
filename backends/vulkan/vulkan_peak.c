/*
 * vulkan_peak.c — the host side of `bench peak`'s kernels (shaders/peak_fma.comp,
 * shaders/peak_copy.comp). Recorded like any op; the frontend times them between syncs.
 */
#include "backends/vulkan/vulkan_internal.h"

void vk_peak_fma(ts_backend *be, ts_tensor out, size_t items, int iters) {
    if (items == 0) return;
    if (iters < 0) return;
    struct {
        uint32_t oo, items, iters;
    } p = {(uint32_t)out.off, (uint32_t)items, (uint32_t)iters};
    vk_arg args[] = {VK_ARG(out.buf, p.oo, items)};
    vk_dispatch_items(be, VK_K_peak_fma, args, 1, &p, sizeof p, items);
}

void vk_peak_copy(ts_backend *be, ts_tensor dst, ts_tensor src, size_t n) {
    if (n == 0) return;
    /* The shader moves vec4s, so views must start and end on whole vec4s. */
    if (n % 4 || dst.off % 4 || src.off % 4) {
        vk_fail(be, 0, "peak_copy: n and the offsets must be multiples of 4 (n=%zu)", n);
        return;
    }
    struct {
        uint32_t do4, so4, n4;
    } p = {(uint32_t)(dst.off / 4), (uint32_t)(src.off / 4), (uint32_t)(n / 4)};
    /* offsets in vec4s */
    vk_arg args[] = {{dst.buf, &p.do4, n / 4, 16}, {src.buf, &p.so4, n / 4, 16}};
    vk_dispatch_items(be, VK_K_peak_copy, args, 2, &p, sizeof p, n / 4);
}
