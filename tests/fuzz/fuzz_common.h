/* fuzz_common.h — helpers shared by the libFuzzer harnesses (tests/fuzz/, scripts/fuzz.sh). */
#ifndef TS_FUZZ_COMMON_H
#define TS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

/* The input as an exact-size heap copy (no terminating NUL), so ASan sees any read past len. */
static inline char *fuzz_copy(const uint8_t *data, size_t size) {
    char *p = malloc(size ? size : 1);
    if (p && size) memcpy(p, data, size);
    return p;
}

/* The input written to one scratch file per process (readers that take a path). Plain fwrite:
 * no fsync, so the harness stays fast. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix) {
    static char path[256];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/ts_fuzz_%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(),
                 suffix);
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    return path;
}

/* Error messages are expected on bad input: keep them off stderr. */
static inline void fuzz_quiet(void) {
    ts_quiet = 1;
}

#endif
