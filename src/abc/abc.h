/*
 * abc.h — the public face of src/abc: an ABC 2.1 checker and an ABC → Standard MIDI converter.
 *
 * Everything outside src/abc (the `abc` command, `eval`, `finalize`) uses only these calls, so
 * the parser's internals can change freely. Texts are UTF-8, one or more tunes (split at X:).
 */
#ifndef TS_ABC_ABC_H
#define TS_ABC_ABC_H

#include <stddef.h>

typedef enum { TS_ABC_VALID = 0, TS_ABC_WARNINGS = 1, TS_ABC_INVALID = 2 } ts_abc_verdict;

typedef struct {
    int line, column; /* 1-based, in the text given */
    int is_error;     /* 0: warning */
    /* a warning about syntax outside ABC 2.1 that abcm2ps or abc2midi read: the extension's
     * name ("slur direction mark", ...); "" for every other diagnostic */
    char extension[40];
    char message[160];
} ts_abc_diag;

/* The outcome of checking one tune. `verdict` is the reference-tool reading: errors only for
 * what abcm2ps and abc2midi cannot read either; their extensions are warnings. Strict ABC 2.1
 * validity is n_errors == 0 && n_extensions == 0. */
typedef struct {
    ts_abc_verdict verdict;
    int n_errors, n_warnings;
    int n_extensions;   /* of the warnings, those naming an extension */
    ts_abc_diag *diags; /* n_diags entries, errors and warnings in text order */
    int n_diags;
    char title[128];     /* first T:, "" when absent */
    int bars_total;      /* complete bars whose expected length is known from M: */
    int bars_consistent; /* of those, bars whose duration matches M: (pickups/endings allowed) */
} ts_abc_result;

/* Checks the first tune in text[0..len). Returns 0, or -1 when out of memory. */
int ts_abc_check(const char *text, size_t len, ts_abc_result *out);
void ts_abc_result_free(ts_abc_result *r);

/* The notebook's loose check (has "X:" or "T:", has "K:", has a note letter): 1 or 0. */
int ts_abc_loose_valid(const char *text, size_t len);

/* Converts the first tune in text[0..len) to a Standard MIDI File (format 1) written atomically
 * at path. Returns 0, or -1 with a one-line reason in err. */
int ts_abc_to_midi_file(const char *text, size_t len, const char *path, char *err, size_t errlen);

#endif
