/* fuzz_train_state.c — the training state a checkpoint carries ("tunescale_state" JSON) as
 * --resume reads it: arbitrary JSON through ts_train_state_take. Accepted states must hold
 * what the trainer relies on (counts in range, a curve of 5-number rows), else abort. */
#include "fuzz_common.h"

#include <math.h>

#include "train/train_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    char *text = fuzz_copy(data, size);
    if (!text) return 0;
    cJSON *state = cJSON_ParseWithLength(text, size);
    free(text);
    ts_train_state ts;
    if (ts_train_state_take(state, "fuzz.safetensors", &ts) == TS_OK) {
        if (ts.step < 0 || ts.nonfinite_skipped < 0 || ts.nonfinite_skipped > ts.step ||
            !(ts.tokens_seen >= 0) || !isfinite(ts.train_time_s) || !cJSON_IsArray(ts.curve))
            abort();
        int rows = cJSON_GetArraySize(ts.curve);
        if (rows > ts.step) abort();
        /* what the result writer reads: item 2 (the loss) of every row */
        double sum = 0;
        for (int i = 0; i < rows; i++)
            sum += cJSON_GetArrayItem(cJSON_GetArrayItem(ts.curve, i), 2)->valuedouble;
        (void)sum;
        cJSON_Delete(ts.curve);
    }
    cJSON_Delete(state);
    return 0;
}
