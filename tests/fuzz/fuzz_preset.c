/* fuzz_preset.c — sweep presets and model files: the input as a preset (ts_preset_parse) and as
 * a model shape (ts_model_config_from_json + validate). Whatever is accepted must have a name
 * that stays inside a folder and a shape whose parameter table can be built. */
#include "fuzz_common.h"

#include "model/config.h"
#include "sweep/preset.h"
#include "util/fsutil.h"

static void check_shape(const ts_model_config *c) {
    if (!ts_safe_name(c->name)) abort();
    size_t n = ts_param_specs(c, NULL, 0);
    if (n == 0 || n > 4 * (size_t)TS_MAX_LAYERS * 12 + 8) abort();
    if (ts_param_count(c) == 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) fuzz_quiet(), init = 1;
    char *text = fuzz_copy(data, size);
    if (!text) return 0;
    ts_preset p;
    if (ts_preset_parse(text, size, "fuzz.json", &p) == TS_OK) {
        if (p.n_entries < 1 || p.n_entries > TS_PRESET_MAX_RUNS) abort();
        for (int i = 0; i < p.n_entries; i++) {
            const ts_preset_entry *e = &p.entries[i];
            if (e->hp.batch < 0 || e->hp.seq_len < 0 || e->hp.stride < 0 || e->hp.steps < 0)
                abort();
            /* seeds repeat an entry's shape: its table is built once (4096 copies of a
             * 4096-layer table made the check, not the reader, the slow part) */
            if (e->shape && (i == 0 || !p.entries[i - 1].shape ||
                             memcmp(&e->cfg, &p.entries[i - 1].cfg, sizeof e->cfg)))
                check_shape(&e->cfg);
        }
        ts_preset_free(&p);
    }
    cJSON *j = cJSON_ParseWithLength(text, size);
    ts_model_config c;
    if (ts_model_config_from_json(j, "fuzz.json", &c) == TS_OK) {
        if (!c.vocab_size) c.vocab_size = 100;
        if (ts_model_config_validate(&c) == TS_OK) check_shape(&c);
    }
    cJSON_Delete(j);
    free(text);
    return 0;
}
