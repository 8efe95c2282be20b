/* midi_file.c — ts_abc_to_midi_file: parse, render, write atomically. */
#include <stdio.h>
#include <stdlib.h>

#include "abc/abc_internal.h"
#include "util/fsutil.h"

int ts_abc_to_midi_file(const char *text, size_t len, const char *path, char *err, size_t errlen) {
    (void)text, (void)len, (void)path;
    snprintf(err, errlen, "not yet");
    return -1;
}
