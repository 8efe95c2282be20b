/* fuzz_abc.c — the ABC checker and the ABC → MIDI pipeline (parse, swing, render, SMF bytes) on
 * arbitrary text. The file write of ts_abc_to_midi_file is left out: it only fsyncs bytes. */
#include "fuzz_common.h"

#include "abc/abc.h"
#include "abc/abc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_copy(data, size);
    if (!text) return 0;
    ts_abc_result r;
    if (ts_abc_check(text, size, &r) == 0) ts_abc_result_free(&r);
    ts_abc_loose_valid(text, size);

    abc_tune t;
    if (abc_parse_tune(text, size, &t) == 0) {
        if (t.has_key) {
            if (t.hornpipe) abc_hornpipe_swing(&t); /* it keeps to 2/4 and 4/4 itself */
            size_t n = 0, bytes = 0;
            int64_t end = 0;
            int oom = 0;
            abc_midi_note *notes = abc_render(&t, &n, &end, &oom);
            if (notes) free(abc_smf_build(&t, notes, n, end, &bytes));
            free(notes);
        }
        abc_tune_free(&t);
    }
    free(text);
    return 0;
}
