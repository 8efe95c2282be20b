/* train_state.c — the checked reading of a checkpoint's training state (see train_state.h). */
#include "train/train_state.h"

#include <math.h>
#include <string.h>

/* 2^53: the largest count a JSON number (a double) still holds exactly. */
static const double max_count = 9007199254740992.0;

/* A whole number in [0, max_count], else an error naming the key. */
static ts_status count_field(const cJSON *state, const char *key, const char *path, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(state, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= max_count) ||
        floor(v->valuedouble) != v->valuedouble)
        return ts_set_error(
            "%s: training state \"%s\" is %s (it must be a whole number of 0 or more; "
            "damaged checkpoint: drop --resume or use another --out)",
            path, key, v ? "out of range or not a number" : "missing");
    *out = v->valuedouble;
    return TS_OK;
}

/* A row [step, tokens, loss, lr, grad_norm]: numbers, or null where a value was not finite
 * (cJSON writes NaN and infinities as null). */
static int curve_row_ok(const cJSON *row) {
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 5) return 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, row) if (!cJSON_IsNumber(v) && !cJSON_IsNull(v)) return 0;
    return 1;
}

ts_status ts_train_state_take(cJSON *state, const char *path, ts_train_state *out) {
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(state))
        return ts_set_error("%s: no training state in the checkpoint (drop --resume or use "
                            "another --out)",
                            path);
    double step, nonfinite, tokens;
    if (count_field(state, "step", path, &step) != TS_OK ||
        count_field(state, "nonfinite_skipped", path, &nonfinite) != TS_OK ||
        count_field(state, "tokens_seen", path, &tokens) != TS_OK)
        return TS_ERR;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(state, "train_time_s");
    if (!cJSON_IsNumber(t) || !(t->valuedouble >= 0 && isfinite(t->valuedouble)))
        return ts_set_error("%s: training state \"train_time_s\" is %s, not a number of 0 or more "
                            "(damaged checkpoint: drop --resume or use another --out)",
                            path, t ? "out of range or not a number" : "missing");
    if (nonfinite > step)
        return ts_set_error("%s: training state \"nonfinite_skipped\" (%.0f) exceeds \"step\" "
                            "(%.0f) (damaged checkpoint)",
                            path, nonfinite, step);
    const cJSON *curve = cJSON_GetObjectItemCaseSensitive(state, "curve");
    if (!cJSON_IsArray(curve))
        return ts_set_error(
            "%s: training state \"curve\" is %s (it must be a list of rows; damaged "
            "checkpoint)",
            path, curve ? "something else" : "missing");
    double rows = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, curve) {
        if (!curve_row_ok(row))
            return ts_set_error("%s: training state \"curve\" row %.0f is not [step, tokens, "
                                "loss, lr, grad_norm] (damaged checkpoint)",
                                path, rows + 1);
        rows++;
    }
    if (rows > step)
        return ts_set_error("%s: training state \"curve\" has %.0f rows for %.0f steps (damaged "
                            "checkpoint)",
                            path, rows, step);
    out->step = (long)step;
    out->nonfinite_skipped = (long)nonfinite;
    out->tokens_seen = tokens;
    out->train_time_s = t->valuedouble;
    out->curve = cJSON_DetachItemFromObjectCaseSensitive(state, "curve");
    return TS_OK;
}
