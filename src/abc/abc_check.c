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

/* The notebook's test: a line starting "X:" or "T:", a line starting "K:", and a note letter
 * somewhere after the K: line. */
int ts_abc_loose_valid(const char *text, size_t len) {
    int head = 0, key = 0;
    size_t i = 0;
    while (i < len) {
        size_t b = i;
        while (i < len && text[i] != '\n')
            i++;
        if (i - b >= 2 && text[b + 1] == ':') {
            if (text[b] == 'X' || text[b] == 'T') head = 1;
            if (text[b] == 'K') {
                key = 1;
                i++;
                continue;
            }
        }
        if (key && head && !(i - b >= 2 && text[b + 1] == ':'))
            for (size_t k = b; k < i; k++)
                if ((text[k] >= 'A' && text[k] <= 'G') || (text[k] >= 'a' && text[k] <= 'g'))
                    return 1;
        i++;
    }
    return 0;
}
