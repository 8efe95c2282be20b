/*
 * vulkan_reflect.c — which storage-buffer bindings a SPIR-V module may write.
 *
 * The stream (vulkan_stream.c) puts a barrier between two dispatches only when one writes what
 * the other touches, so it needs each kernel's written bindings. The shaders do not all say
 * `readonly`, so this reads the SPIR-V instead: a binding is written when a store or an atomic
 * that writes goes through a pointer derived (access chains, copies) from its variable. Any
 * other use of such a pointer that is not a plain load counts as a write too, so an unknown
 * construct only costs a barrier, never a missed one.
 */
#include "backends/vulkan/vulkan_internal.h"

#include <stdlib.h>

enum {
    OP_NAME = 5,
    OP_MEMBER_NAME = 6,
    OP_ENTRY_POINT = 15,
    OP_VARIABLE = 59,
    OP_LOAD = 61,
    OP_STORE = 62,
    OP_COPY_MEMORY = 63,
    OP_ACCESS_CHAIN = 65,
    OP_IN_BOUNDS_ACCESS_CHAIN = 66,
    OP_PTR_ACCESS_CHAIN = 67,
    OP_ARRAY_LENGTH = 68,
    OP_IN_BOUNDS_PTR_ACCESS_CHAIN = 70,
    OP_DECORATE = 71,
    OP_MEMBER_DECORATE = 72,
    OP_COPY_OBJECT = 83,
    OP_ATOMIC_LOAD = 227,
    DEC_BINDING = 33,
};

uint32_t vk_reflect_writes(const uint32_t *code, size_t words) {
    const uint32_t all = (1u << VK_MAX_BINDINGS) - 1;
    if (words < 5 || code[0] != 0x07230203u || code[3] == 0 || code[3] > (1u << 22)) return all;
    uint32_t bound = code[3];
    int8_t *binding = malloc(bound); /* id -> binding of its variable (decoration) */
    int8_t *root = malloc(bound);    /* id -> binding its pointer derives from, or -1 */
    if (!binding || !root) {
        free(binding);
        free(root);
        return all;
    }
    for (uint32_t i = 0; i < bound; i++)
        binding[i] = root[i] = -1;
    uint32_t written = 0;
    int bad = 0;
    for (size_t at = 5; at < words && !bad;) {
        uint32_t n = code[at] >> 16, op = code[at] & 0xffffu;
        if (n == 0 || at + n > words) {
            bad = 1;
            break;
        }
        const uint32_t *w = &code[at];
#define ID_OK(x) ((x) < bound)
        switch (op) {
        case OP_DECORATE:
            if (n >= 4 && w[2] == DEC_BINDING && ID_OK(w[1]))
                binding[w[1]] = w[3] < VK_MAX_BINDINGS ? (int8_t)w[3] : -2;
            break;
        case OP_NAME:
        case OP_MEMBER_NAME:
        case OP_MEMBER_DECORATE:
        case OP_ENTRY_POINT:
            break; /* names and interface lists only mention ids */
        case OP_VARIABLE:
            if (n >= 4 && ID_OK(w[2]) && binding[w[2]] != -1) root[w[2]] = binding[w[2]];
            break;
        case OP_ACCESS_CHAIN:
        case OP_IN_BOUNDS_ACCESS_CHAIN:
        case OP_PTR_ACCESS_CHAIN:
        case OP_IN_BOUNDS_PTR_ACCESS_CHAIN:
        case OP_COPY_OBJECT:
            if (n >= 4 && ID_OK(w[2]) && ID_OK(w[3])) root[w[2]] = root[w[3]];
            break;
        case OP_LOAD:
        case OP_ATOMIC_LOAD:
        case OP_ARRAY_LENGTH:
            break; /* reads */
        default:
            /* A store, an atomic that writes, or anything else handed a buffer pointer. */
            for (uint32_t k = 1; k < n; k++)
                if (ID_OK(w[k]) && root[w[k]] != -1)
                    written |= root[w[k]] == -2 ? all : 1u << root[w[k]];
            break;
        }
#undef ID_OK
        at += n;
    }
    free(binding);
    free(root);
    return bad ? all : written & all;
}
