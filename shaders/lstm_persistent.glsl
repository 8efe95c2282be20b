/* lstm_persistent.glsl — what lstm_persistent_forward.comp and _backward.comp share: the
 * device-wide barrier between time steps (cl/lstm_persistent.cl says how it works) and the
 * W_hh slice a work-group keeps in shared memory.
 *
 * sync_ (3 ints, zeroed by the host before each dispatch): [0] groups arrived, [1] generation,
 * [2] failure flag. Buffers other groups write during the dispatch are declared coherent, so
 * their values are read after the barrier, not from a stale cache. The including shader
 * defines SYNC_BINDING: the binding after its own. */
layout(std430, set = 0, binding = SYNC_BINDING) coherent buffer Sync {
    int sync_[];
};
/* 4 * units * H floats of W_hh when wl_on; 16000 bytes keeps the shader (with the verdict)
 * within the 16 KiB of shared memory every Vulkan device has. */
const uint WL_MAX = 4000u;
shared float wl[WL_MAX];
shared int verdict;

/* The current value of a barrier word, read as an atomic. */
int sync_read(uint i) {
    return atomicOr(sync_[i], 0);
}

/* true when every group arrived; false when the wait timed out or another group failed. */
bool grid_sync(uint spin_cap) {
    memoryBarrierBuffer();
    barrier();
    if (gl_LocalInvocationID.x == 0u) {
        int ok = 1;
        memoryBarrierBuffer(); /* this group's writes before its arrival */
        /* read the generation before arriving: it cannot advance until this group has */
        int gen = sync_read(1u);
        if (sync_read(2u) != 0) {
            ok = 0;
        } else if (atomicAdd(sync_[0], 1) == int(gl_NumWorkGroups.x) - 1) {
            atomicExchange(sync_[0], 0); /* reset before releasing anyone */
            atomicAdd(sync_[1], 1);
        } else {
            uint polls = 0u;
            while (sync_read(1u) == gen && sync_read(2u) == 0 && polls <= spin_cap)
                polls++;
            /* Only a generation that moved on is a pass. A wait that ended any other way
             * fails: a timeout, another group's failure, or a driver that cuts long loops
             * short (llvmpipe stops them after 65535 iterations, which once let item 0
             * through a barrier the other groups had not reached). */
            if (sync_read(1u) == gen) {
                atomicExchange(sync_[2], 1);
                ok = 0;
            }
        }
        memoryBarrierBuffer();
        verdict = ok;
    }
    memoryBarrierShared();
    barrier();
    bool passed = verdict != 0;
    barrier(); /* nobody may still read verdict when item 0 writes it at the next step */
    return passed;
}

float tsp_sigmoid(float x) {
    return 1.0 / (1.0 + exp(-x));
}
