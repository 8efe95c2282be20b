/* clean.c — default and seed-compatible tune cleaning (see clean.h). */
#include "data/clean.h"

#include <stdint.h>
#include <string.h>

#include "data/text.h"

/* Python's str.isspace() set, which str.split() splits on. */
static int py_isspace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static size_t clean_seed(char *s) {
    size_t len = strlen(s), w = 0;
    int pending_space = 0;
    for (size_t r = 0; r < len;) {
        uint32_t cp;
        int n = ts_utf8_decode((const unsigned char *)s + r, &cp);
        if (py_isspace(cp)) {
            pending_space = w > 0;
        } else {
            if (pending_space) s[w++] = ' ';
            pending_space = 0;
            memmove(s + w, s + r, (size_t)n);
            w += (size_t)n;
        }
        r += (size_t)n;
    }
    s[w] = '\0';
    /* The notebook then keeps only lines shorter than 500 characters: one line remains. */
    if (ts_utf8_length(s, w) >= 500) w = 0, s[0] = '\0';
    return w;
}

static size_t clean_default(char *s) {
    size_t len = strlen(s), r = 0, w = 0;
    while (r < len) {
        size_t end = r;
        while (end < len && s[end] != '\n' && s[end] != '\r')
            end++;
        size_t a = r, b = end;
        while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\f' || s[a] == '\v'))
            a++;
        while (b > a &&
               (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\f' || s[b - 1] == '\v'))
            b--;
        if (b > a && s[a] != '%') {
            if (w > 0) s[w++] = '\n';
            int in_space = 0;
            for (size_t i = a; i < b; i++) {
                char c = s[i];
                if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
                    if (!in_space) s[w++] = ' ';
                    in_space = 1;
                } else {
                    s[w++] = c;
                    in_space = 0;
                }
            }
        }
        r = end;
        if (r < len && s[r] == '\r') r++;
        if (r < len && s[r] == '\n') r++;
    }
    s[w] = '\0';
    return w;
}

size_t ts_clean_tune(char *text, ts_clean_mode mode) {
    return mode == TS_CLEAN_SEED ? clean_seed(text) : clean_default(text);
}
