/* fuzz_ingest.c — the tune-record readers (JSON arrays and CSV tables, src/data/ingest_records.c)
 * and the ABC tune-book splitter on arbitrary bytes, decoded first as ts_ingest_path does (UTF-8,
 * else Latin-1; binary refused), and also raw, since the readers take lengths, not strings. */
#include "fuzz_common.h"

#include "data/ingest.h"
#include "data/text.h"
#include "data/tunes.h"

static void ingest(const char *text, size_t len) {
    ts_tune_list l = {0};
    uint32_t added = 0, without = 0;
    ts_ingest_json(text, len, "fuzz.json", &l, &added, &without);
    ts_ingest_csv(text, len, "fuzz.csv", &l, &added, &without);
    ts_ingest_abc(text, len, "fuzz.abc", &l, &added);
    ts_tunes_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    char *raw = fuzz_copy(data, size);
    if (!raw) return 0;
    ingest(raw, size);
    free(raw);
    char *text = NULL;
    size_t len = 0;
    ts_decoded_as how;
    if (ts_decode_text("fuzz", data, size, TS_ENC_AUTO, &text, &len, &how) == TS_OK)
        ingest(text, len);
    free(text);
    return 0;
}
