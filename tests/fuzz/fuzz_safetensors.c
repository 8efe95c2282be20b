/* fuzz_safetensors.c — the safetensors reader (header JSON, offsets, dtypes, checksum) on
 * arbitrary files, then every tensor's bytes are touched so a bad offset shows up in ASan. */
#include "fuzz_common.h"

#include "util/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    const char *path = fuzz_file(data, size, ".safetensors");
    ts_safetensors st;
    if (ts_st_open(&st, path) == TS_OK) {
        unsigned sum = 0;
        for (size_t i = 0; i < st.n; i++) {
            const unsigned char *p = ts_st_data(&st, &st.tensors[i]);
            for (size_t b = 0; b < st.tensors[i].nbytes; b++)
                sum += p[b];
            ts_st_find(&st, st.tensors[i].name);
        }
        ts_st_meta(&st, TS_ST_CHECKSUM_KEY);
        (void)sum;
    }
    ts_st_close(&st);
    return 0;
}
