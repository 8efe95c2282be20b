/* nearest.c — the closest valid name to a mistyped one (see nearest.h). */
#include "util/nearest.h"

#include <ctype.h>
#include <string.h>

/* Edit distance with one row of the table; names longer than 63 characters are cut there. */
static size_t distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diag + !same;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *ts_nearest_name(const char *s, const char *const *names, size_t n) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(s, names[i]);
        if (d < best_d) best_d = d, best = names[i];
    }
    if (!best) return NULL;
    size_t allowed = strlen(best) / 3 > 2 ? strlen(best) / 3 : 2;
    return best_d <= allowed ? best : NULL;
}
