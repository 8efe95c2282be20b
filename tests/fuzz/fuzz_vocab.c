/* fuzz_vocab.c — the vocabulary loader (vocab.json) on arbitrary files; a vocabulary that loads
 * is used to encode and decode a short text. */
#include "fuzz_common.h"

#include "data/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    const char *path = fuzz_file(data, size, ".json");
    ts_vocab v = {0};
    if (ts_vocab_load(&v, path) == TS_OK) {
        static const char text[] = "X:1\nK:D\nABc|\xc3\xa9";
        uint16_t ids[sizeof text];
        size_t n = ts_vocab_encode(&v, text, sizeof text - 1, ids);
        char out[64];
        ts_vocab_decode(&v, ids, n, out, sizeof out);
    }
    ts_vocab_free(&v);
    return 0;
}
