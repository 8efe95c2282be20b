/*
 * vulkan_descriptors.c — descriptor sets cached per (binding count, views).
 *
 * A training step dispatches the same kernels on the same views every step, so a set written
 * once is bound again ever after: no vkUpdateDescriptorSets per dispatch and no pool reset
 * that would need the device idle. A set is never rewritten, so one that submitted work uses
 * stays valid. The key names buffers by ts_buffer.id, unique for the backend's life, never by
 * VkBuffer handle (a freed buffer's handle value may come back for a new one). Pools are added
 * when one is full, never flushed; sets of freed buffers simply stop being hit, and at an idle
 * point past VK_DESC_CACHE_MAX sets the whole cache starts again.
 *
 * Why not VK_KHR_push_descriptor: lavapipe and the big desktop drivers have it, but not every
 * device does, so the cache would be needed anyway as the fallback; one path is tested
 * everywhere, and a cache hit costs one hash lookup and a bind, as a push would.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    VkDescriptorSet set; /* VK_NULL_HANDLE: an empty slot */
    int n;
    uint64_t hash;
    uint64_t ids[VK_MAX_BINDINGS];
    VkDeviceSize start[VK_MAX_BINDINGS], range[VK_MAX_BINDINGS];
} desc_entry;

struct vk_desc_cache {
    desc_entry *slots; /* open addressing, linear probing; a power of two */
    size_t cap, count;
    VkDescriptorPool *pools;
    size_t n_pools;
    uint32_t left; /* sets left in the last pool */
};

static uint64_t key_hash(int n, ts_buffer *const *bufs, const VkDescriptorBufferInfo *infos) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)n; /* FNV-1a over the key's words */
    for (int i = 0; i < n; i++) {
        uint64_t w[3] = {bufs[i]->id, infos[i].offset, infos[i].range};
        for (int j = 0; j < 3; j++) {
            h ^= w[j];
            h *= 1099511628211ull;
        }
    }
    return h ^ (h >> 29);
}

static int key_equal(const desc_entry *e, int n, ts_buffer *const *bufs,
                     const VkDescriptorBufferInfo *infos) {
    if (e->n != n) return 0;
    for (int i = 0; i < n; i++)
        if (e->ids[i] != bufs[i]->id || e->start[i] != infos[i].offset ||
            e->range[i] != infos[i].range)
            return 0;
    return 1;
}

/* Doubles the table (at half load); 0 when out of host memory. */
static int grow(struct vk_desc_cache *c) {
    size_t cap = c->cap ? 2 * c->cap : 1024;
    desc_entry *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < c->cap; i++) {
        desc_entry *e = &c->slots[i];
        if (!e->set) continue;
        size_t k = e->hash & (cap - 1);
        while (slots[k].set)
            k = (k + 1) & (cap - 1);
        slots[k] = *e;
    }
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return 1;
}

static VkResult add_pool(vk_ctx *ctx, struct vk_desc_cache *c) {
    VkDescriptorPool *pools = realloc(c->pools, (c->n_pools + 1) * sizeof *pools);
    if (!pools) return VK_ERROR_OUT_OF_HOST_MEMORY;
    c->pools = pools;
    VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                               .descriptorCount = VK_SETS_PER_POOL * VK_MAX_BINDINGS};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .maxSets = VK_SETS_PER_POOL,
                                      .poolSizeCount = 1,
                                      .pPoolSizes = &ps};
    VkResult r = vkCreateDescriptorPool(ctx->device, &dpi, NULL, &c->pools[c->n_pools]);
    if (r != VK_SUCCESS) return r;
    c->n_pools++;
    c->left = VK_SETS_PER_POOL;
    return VK_SUCCESS;
}

VkDescriptorSet vk_desc_get(ts_backend *be, int n, ts_buffer *const *bufs,
                            const VkDescriptorBufferInfo *infos) {
    vk_ctx *ctx = vk_ctx_of(be);
    struct vk_desc_cache *c = ctx->descs;
    if (!c && !(c = ctx->descs = calloc(1, sizeof *c))) {
        vk_fail(be, 1, "out of host memory for the descriptor cache");
        return VK_NULL_HANDLE;
    }
    if (2 * (c->count + 1) > c->cap && !grow(c)) {
        vk_fail(be, 1, "out of host memory for the descriptor cache");
        return VK_NULL_HANDLE;
    }
    uint64_t hash = key_hash(n, bufs, infos);
    size_t k = hash & (c->cap - 1);
    for (; c->slots[k].set; k = (k + 1) & (c->cap - 1))
        if (c->slots[k].hash == hash && key_equal(&c->slots[k], n, bufs, infos))
            return c->slots[k].set;
    VkResult r = c->left ? VK_SUCCESS : add_pool(ctx, c);
    VkDescriptorSet set = VK_NULL_HANDLE;
    const char *call = "vkCreateDescriptorPool";
    if (r == VK_SUCCESS) {
        VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                          .descriptorPool = c->pools[c->n_pools - 1],
                                          .descriptorSetCount = 1,
                                          .pSetLayouts = &ctx->set_layouts[n]};
        call = "vkAllocateDescriptorSets";
        r = vkAllocateDescriptorSets(ctx->device, &ai, &set);
    }
    if (r != VK_SUCCESS) {
        vk_fail_call(be, call, "descriptor cache", r);
        return VK_NULL_HANDLE;
    }
    c->left--;
    VkWriteDescriptorSet writes[VK_MAX_BINDINGS];
    desc_entry *e = &c->slots[k];
    for (int i = 0; i < n; i++) {
        writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                           .dstSet = set,
                                           .dstBinding = (uint32_t)i,
                                           .descriptorCount = 1,
                                           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .pBufferInfo = &infos[i]};
        e->ids[i] = bufs[i]->id;
        e->start[i] = infos[i].offset;
        e->range[i] = infos[i].range;
    }
    vkUpdateDescriptorSets(ctx->device, (uint32_t)n, writes, 0, NULL);
    e->n = n;
    e->hash = hash;
    e->set = set;
    c->count++;
    return set;
}

void vk_desc_trim(vk_ctx *ctx) {
    struct vk_desc_cache *c = ctx->descs;
    if (!c || c->count <= VK_DESC_CACHE_MAX) return;
    for (size_t i = 0; i < c->n_pools; i++)
        vkDestroyDescriptorPool(ctx->device, c->pools[i], NULL);
    c->n_pools = 0;
    c->left = 0;
    memset(c->slots, 0, c->cap * sizeof *c->slots);
    c->count = 0;
}

void vk_desc_destroy(vk_ctx *ctx) {
    struct vk_desc_cache *c = ctx->descs;
    if (!c) return;
    for (size_t i = 0; i < c->n_pools; i++)
        vkDestroyDescriptorPool(ctx->device, c->pools[i], NULL);
    free(c->pools);
    free(c->slots);
    free(c);
    ctx->descs = NULL;
}
