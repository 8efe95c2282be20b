/* abc_check.c — the public checker: ts_abc_check, ts_abc_result_free, ts_abc_loose_valid. */
#include <stdlib.h>
#include <string.h>

#include "abc/abc_internal.h"

int ts_abc_check(const char *text, size_t len, ts_abc_result *out) {
    memset(out, 0, sizeof *out);
    abc_tune t;
    if (abc_parse_tune(text, len, &t) != 0) return -1;
    out->n_errors = t.n_errors;
    out->n_warnings = t.n_warnings;
    out->n_extensions = t.n_extensions;
    out->verdict = t.n_errors ? TS_ABC_INVALID : t.n_warnings ? TS_ABC_WARNINGS : TS_ABC_VALID;
    out->diags = t.diag; /* ownership moves to the result */
    out->n_diags = t.n_diag;
    t.diag = NULL;
    memcpy(out->title, t.title, sizeof out->title);
    out->bars_total = t.bars_total;
    out->bars_consistent = t.bars_consistent;
    abc_tune_free(&t);
    return 0;
}

void ts_abc_result_free(ts_abc_result *r) {
    if (!r) return;
    free(r->diags);
    r->diags = NULL;
    r->n_diags = 0;
}

/* The notebook's is_syntactically_valid_abc, exactly: "X:" or "T:" anywhere in the text, "K:"
 * anywhere, and an upper-case A-G anywhere (it does not look at lines, so a title's capitals
 * count as notes; that looseness is the point of reporting it next to the real check). */
static int contains(const char *text, size_t len, const char *pat) {
    size_t n = strlen(pat);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(text + i, pat, n)) return 1;
    return 0;
}

int ts_abc_loose_valid(const char *text, size_t len) {
    int head = contains(text, len, "X:") || contains(text, len, "T:");
    int key = contains(text, len, "K:");
    int notes = 0;
    for (size_t i = 0; i < len && !notes; i++)
        notes = text[i] >= 'A' && text[i] <= 'G';
    return head && key && notes;
}
