/* lstm_variant.c — see lstm_variant.h. */
#include "backends/lstm_variant.h"

#include <stdlib.h>
#include <string.h>

int ts_lstm_step_tiled(int device_is_cpu) {
    /* read per launch, so a test can switch forms between cases */
    const char *env = getenv("TUNESCALE_LSTM_STEP");
    if (env && !strcmp(env, "tiled")) return 1;
    if (env && !strcmp(env, "items")) return 0;
    return !device_is_cpu;
}
