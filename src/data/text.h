/*
 * text.h — turning raw file bytes into UTF-8 text, and code-point helpers.
 *
 * Corpora arrive as UTF-8 (with or without a byte-order mark), as Latin-1 from older tune
 * books, or by mistake as binary files. The decoder accepts the first two and refuses the third
 * with a message that names the file.
 */
#ifndef TS_DATA_TEXT_H
#define TS_DATA_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum { TS_ENC_AUTO, TS_ENC_UTF8, TS_ENC_LATIN1 } ts_encoding;

typedef enum {
    TS_DECODED_UTF8 = 0,
    TS_DECODED_LATIN1 = 1, /* input was not UTF-8 and was transcoded from Latin-1 */
} ts_decoded_as;

/* Decodes bytes to a malloc'd NUL-terminated UTF-8 string (BOM removed). `name` is used in
 * error messages. Fails on binary content, and on invalid UTF-8 when enc == TS_ENC_UTF8. */
ts_status ts_decode_text(const char *name, const unsigned char *bytes, size_t n, ts_encoding enc,
                         char **out, size_t *out_len, ts_decoded_as *how);

/* 1 if bytes[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int ts_utf8_valid(const unsigned char *s, size_t n);
/* Decodes one code point at s (valid UTF-8 assumed); returns its byte length. */
int ts_utf8_decode(const unsigned char *s, uint32_t *cp);
/* Encodes cp into out (4 bytes room); returns the byte length. */
int ts_utf8_encode(uint32_t cp, char *out);
/* Number of code points in a valid UTF-8 string of n bytes. */
size_t ts_utf8_length(const char *s, size_t n);

#endif
