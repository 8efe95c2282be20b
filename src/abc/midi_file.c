/* midi_file.c — ts_abc_to_midi_file: parse, play, write the Standard MIDI File atomically.
 *
 * A tune converts when it has a K: field and at least one note; other errors do not stop it
 * (best effort, as abc2midi). The reason for a failure is one line in err. */
#include <stdio.h>
#include <stdlib.h>

#include "abc/abc_internal.h"
#include "util/fsutil.h"

int ts_abc_to_midi_file(const char *text, size_t len, const char *path, char *err, size_t errlen) {
    abc_tune t;
    if (abc_parse_tune(text, len, &t) != 0) {
        snprintf(err, errlen, "out of memory parsing the tune");
        return -1;
    }
    if (!t.has_key) {
        snprintf(err, errlen, "no K: field, so no key and no tune body");
        abc_tune_free(&t);
        return -1;
    }
    if (t.hornpipe) abc_hornpipe_swing(&t); /* 2/4 and 4/4 only, as abc2midi */
    size_t n;
    int64_t end;
    int oom;
    abc_midi_note *notes = abc_render(&t, &n, &end, &oom);
    if (!notes) {
        snprintf(err, errlen, "%s", oom ? "out of memory playing the tune" : "no notes to play");
        abc_tune_free(&t);
        return -1;
    }
    size_t bytes;
    unsigned char *smf = abc_smf_build(&t, notes, n, end, &bytes);
    free(notes);
    abc_tune_free(&t);
    if (!smf) {
        snprintf(err, errlen, "out of memory writing MIDI");
        return -1;
    }
    ts_status st = ts_write_file_atomic(path, smf, bytes);
    free(smf);
    if (st != TS_OK) {
        snprintf(err, errlen, "%s", ts_last_error());
        return -1;
    }
    return 0;
}
