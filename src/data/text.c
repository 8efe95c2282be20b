/* text.c — UTF-8 validation, Latin-1 transcoding and binary detection. */
#include "data/text.h"

#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s[0..n), or 0 if it is not a valid one. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0)
        len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

int ts_utf8_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq_len(s + i, n - i);
        if (!len) return 0;
        i += len;
    }
    return 1;
}

int ts_utf8_decode(const unsigned char *s, uint32_t *cp) {
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t v = c & (0x7F >> len);
    for (int i = 1; i < len; i++)
        v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return len;
}

int ts_utf8_encode(uint32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t ts_utf8_length(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

/* Text files hold no NUL bytes and few control characters other than tab, CR, LF, FF. */
static int looks_binary(const unsigned char *s, size_t n) {
    size_t control = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == 0) return 1;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1A) control++;
    }
    return n > 0 && control * 100 > n; /* more than 1% control bytes */
}

ts_status ts_decode_text(const char *name, const unsigned char *bytes, size_t n, ts_encoding enc,
                         char **out, size_t *out_len, ts_decoded_as *how) {
    *out = NULL;
    *out_len = 0;
    if (n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) bytes += 3, n -= 3;
    if (n >= 2 &&
        ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)))
        return ts_set_error("%s: UTF-16 text is not supported; convert it to UTF-8 (e.g. iconv "
                            "-f UTF-16 -t UTF-8)",
                            name);
    if (looks_binary(bytes, n))
        return ts_set_error("%s: binary file, not ABC, JSON or CSV text", name);
    int latin1 = 0;
    if (enc == TS_ENC_LATIN1) {
        latin1 = 1;
    } else if (!ts_utf8_valid(bytes, n)) {
        if (enc == TS_ENC_UTF8)
            return ts_set_error("%s: not valid UTF-8 (use --encoding latin-1 or auto to transcode "
                                "it)",
                                name);
        latin1 = 1;
    }
    char *buf = malloc(latin1 ? 2 * n + 1 : n + 1);
    if (!buf) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", name);
    size_t len = 0;
    if (latin1) {
        for (size_t i = 0; i < n; i++)
            len += (size_t)ts_utf8_encode(bytes[i], buf + len);
    } else {
        memcpy(buf, bytes, n);
        len = n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    if (how) *how = latin1 ? TS_DECODED_LATIN1 : TS_DECODED_UTF8;
    return TS_OK;
}
