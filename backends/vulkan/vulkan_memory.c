/*
 * vulkan_memory.c — buffers sub-allocated from a few large VkDeviceMemory blocks.
 *
 * Drivers cap the number of live allocations (maxMemoryAllocationCount, 4096 on many GPUs) and
 * each vkAllocateMemory is slow, so a model's hundreds of tensors must not each own one. Every
 * ts_buffer keeps its own VkBuffer (descriptors and copies stay as they were), bound at an
 * offset inside a block of VK_BLOCK_BYTES (or the buffer's size when larger). Each block keeps
 * a free list sorted by offset: first fit, coalesced on free; a block is released as soon as
 * its last buffer is. Blocks are per (memory type, mapped); mapped blocks are mapped once for
 * their lifetime, so a buffer's host pointer is the block's plus its offset.
 *
 * Not a goal: defragmentation, or buddy/slab classes. A model allocates its tensors up front
 * and frees them at the end, so first fit stays compact.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdlib.h>
#include <string.h>

#define VK_BLOCK_BYTES ((VkDeviceSize)64 << 20)

typedef struct {
    VkDeviceSize off, size;
} vk_range;

struct vk_block {
    VkDeviceMemory mem;
    VkDeviceSize size;
    uint32_t type;
    int want_map;
    void *mapped;
    vk_range *free; /* sorted by offset, never adjacent (coalesced) */
    size_t n_free, cap_free;
    size_t n_live;
    vk_block *next;
};

static VkDeviceSize align_up(VkDeviceSize x, VkDeviceSize a) {
    return (x + a - 1) & ~(a - 1);
}

void vk_mem_init(vk_ctx *ctx) {
    /* maxMemoryAllocationSize: Vulkan 1.1 core, read through properties2 (1.2 is required) */
    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &m3};
    vkGetPhysicalDeviceProperties2(ctx->phys, &p2);
    ctx->max_alloc_bytes = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : UINT64_MAX;
    ctx->block_bytes =
        VK_BLOCK_BYTES < ctx->max_alloc_bytes ? VK_BLOCK_BYTES : ctx->max_alloc_bytes;
}

/* Ensures room for `need` free ranges, so carving and freeing never fail halfway. */
static int reserve_ranges(vk_block *k, size_t need) {
    if (k->cap_free >= need) return 1;
    size_t cap = k->cap_free ? 2 * k->cap_free : 16;
    while (cap < need)
        cap *= 2;
    vk_range *r = realloc(k->free, cap * sizeof *r);
    if (!r) return 0;
    k->free = r;
    k->cap_free = cap;
    return 1;
}

/* First fit in block k: the offset of `size` bytes aligned to `align`, or UINT64_MAX. */
static VkDeviceSize carve(vk_block *k, VkDeviceSize size, VkDeviceSize align) {
    /* Free ranges never exceed live buffers + 1; one more may come from this split. */
    if (!reserve_ranges(k, k->n_live + 3)) return UINT64_MAX;
    for (size_t i = 0; i < k->n_free; i++) {
        vk_range r = k->free[i];
        VkDeviceSize at = align_up(r.off, align);
        if (at < r.off || at + size > r.off + r.size || at + size < at) continue;
        VkDeviceSize left = at - r.off, right = r.off + r.size - (at + size);
        if (left && right) {
            memmove(&k->free[i + 2], &k->free[i + 1], (k->n_free - i - 1) * sizeof *k->free);
            k->free[i] = (vk_range){r.off, left};
            k->free[i + 1] = (vk_range){at + size, right};
            k->n_free++;
        } else if (left) {
            k->free[i].size = left;
        } else if (right) {
            k->free[i] = (vk_range){at + size, right};
        } else {
            memmove(&k->free[i], &k->free[i + 1], (k->n_free - i - 1) * sizeof *k->free);
            k->n_free--;
        }
        k->n_live++;
        return at;
    }
    return UINT64_MAX;
}

/* Returns [off, off + size) to k's free list, merging with its neighbours. */
static void give_back(vk_block *k, VkDeviceSize off, VkDeviceSize size) {
    size_t i = 0;
    while (i < k->n_free && k->free[i].off < off)
        i++;
    int merge_prev = i > 0 && k->free[i - 1].off + k->free[i - 1].size == off;
    int merge_next = i < k->n_free && off + size == k->free[i].off;
    if (merge_prev && merge_next) {
        k->free[i - 1].size += size + k->free[i].size;
        memmove(&k->free[i], &k->free[i + 1], (k->n_free - i - 1) * sizeof *k->free);
        k->n_free--;
    } else if (merge_prev) {
        k->free[i - 1].size += size;
    } else if (merge_next) {
        k->free[i].off = off;
        k->free[i].size += size;
    } else { /* room was reserved by carve */
        memmove(&k->free[i + 1], &k->free[i], (k->n_free - i) * sizeof *k->free);
        k->free[i] = (vk_range){off, size};
        k->n_free++;
    }
    k->n_live--;
}

static void block_release(vk_ctx *ctx, vk_block *k) {
    vk_block **p = &ctx->blocks;
    while (*p && *p != k)
        p = &(*p)->next;
    if (*p) *p = k->next;
    if (k->mapped) vkUnmapMemory(ctx->device, k->mem);
    vkFreeMemory(ctx->device, k->mem, NULL);
    ctx->n_allocations--;
    free(k->free);
    free(k);
}

static VkResult block_new(vk_ctx *ctx, uint32_t type, int want_map, VkDeviceSize size,
                          vk_block **out, const char **call) {
    *out = NULL;
    *call = "vkAllocateMemory";
    /* Past the driver's allocation count the next vkAllocateMemory may fail anyway: say so
     * as out of memory, which is what running out of blocks means here. */
    if (ctx->n_allocations >= ctx->props.limits.maxMemoryAllocationCount) {
        *call = "vkAllocateMemory (maxMemoryAllocationCount reached)";
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    vk_block *k = calloc(1, sizeof *k);
    if (!k || !reserve_ranges(k, 4)) {
        free(k);
        return VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = size,
                               .memoryTypeIndex = type};
    VkResult r = vkAllocateMemory(ctx->device, &ai, NULL, &k->mem);
    if (r == VK_SUCCESS && want_map) {
        *call = "vkMapMemory";
        r = vkMapMemory(ctx->device, k->mem, 0, VK_WHOLE_SIZE, 0, &k->mapped);
        if (r != VK_SUCCESS) vkFreeMemory(ctx->device, k->mem, NULL);
    }
    if (r != VK_SUCCESS) {
        free(k->free);
        free(k);
        return r;
    }
    k->size = size;
    k->type = type;
    k->want_map = want_map;
    k->free[0] = (vk_range){0, size};
    k->n_free = 1;
    k->next = ctx->blocks;
    ctx->blocks = k;
    ctx->n_allocations++;
    *out = k;
    return VK_SUCCESS;
}

VkResult vk_mem_buffer(vk_ctx *ctx, size_t bytes, int staging, ts_buffer **out, const char **call) {
    *out = NULL;
    ts_buffer *b = calloc(1, sizeof *b);
    if (!b) return VK_ERROR_OUT_OF_HOST_MEMORY;
    b->bytes = bytes;
    b->size = bytes + 3 < bytes ? 0 : (bytes + 3) & ~(size_t)3;
    if (b->size == 0) b->size = 4;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = b->size,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    *call = "vkCreateBuffer";
    VkResult r = vkCreateBuffer(ctx->device, &bi, NULL, &b->buf);
    if (r != VK_SUCCESS) {
        free(b);
        return r;
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, b->buf, &req);
    uint32_t type = staging ? ctx->staging_type : ctx->mem_type;
    if (!(req.memoryTypeBits & (1u << type))) {
        type = UINT32_MAX;
        for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount && type == UINT32_MAX; i++)
            if (req.memoryTypeBits & (1u << i)) type = i;
        if (type == UINT32_MAX) type = 0;
    }
    VkMemoryPropertyFlags hv =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int want_map =
        (staging || ctx->direct_map) && (ctx->mem_props.memoryTypes[type].propertyFlags & hv) == hv;
    /* Mapped blocks: keep buffers on separate nonCoherentAtomSize atoms, so a later
     * flush/invalidate of one never touches its neighbour. */
    VkDeviceSize align = req.alignment ? req.alignment : 1;
    if (want_map && ctx->props.limits.nonCoherentAtomSize > align)
        align = ctx->props.limits.nonCoherentAtomSize;
    VkDeviceSize span = align_up(req.size, align);
    vk_block *k = NULL;
    VkDeviceSize off = UINT64_MAX;
    for (vk_block *it = ctx->blocks; it && off == UINT64_MAX; it = it->next)
        if (it->type == type && it->want_map == want_map &&
            (off = carve(it, span, align)) != UINT64_MAX)
            k = it;
    if (!k) {
        /* The staging buffer gets a block of its own size: nothing else shares its type. */
        VkDeviceSize size = staging || span > ctx->block_bytes ? span : ctx->block_bytes;
        r = block_new(ctx, type, want_map, size, &k, call);
        /* A full block may not fit where the buffer alone does. */
        if (is_vk_oom(r) && size > span) r = block_new(ctx, type, want_map, span, &k, call);
        if (r == VK_SUCCESS) off = carve(k, span, align);
        if (r == VK_SUCCESS && off == UINT64_MAX) r = VK_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (r == VK_SUCCESS) {
        *call = "vkBindBufferMemory";
        r = vkBindBufferMemory(ctx->device, b->buf, k->mem, off);
        if (r != VK_SUCCESS) give_back(k, off, span);
    }
    if (r != VK_SUCCESS) {
        if (k && k->n_live == 0) block_release(ctx, k);
        vkDestroyBuffer(ctx->device, b->buf, NULL);
        free(b);
        return r;
    }
    b->block = k;
    b->offset = off;
    b->span = span;
    b->mapped = k->mapped ? (char *)k->mapped + off : NULL;
    b->id = ++ctx->next_buffer_id;
    *out = b;
    return VK_SUCCESS;
}

void vk_mem_free(vk_ctx *ctx, ts_buffer *b) {
    if (!b) return;
    vkDestroyBuffer(ctx->device, b->buf, NULL);
    vk_block *k = b->block;
    give_back(k, b->offset, b->span);
    if (k->n_live == 0) block_release(ctx, k); /* empty blocks go back to the driver */
    free(b);
}

void vk_mem_destroy(vk_ctx *ctx) {
    while (ctx->blocks)
        block_release(ctx, ctx->blocks);
}
