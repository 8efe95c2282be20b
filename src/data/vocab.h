/*
 * vocab.h — the character vocabulary: four special tokens, then every Unicode code point of the
 * corpus in ascending order (the notebook's order: specials + sorted(set(corpus))).
 *
 *   0 <PAD>   ignored by the loss
 *   1 <UNK>   a character the vocabulary lacks
 *   2 <SOS>   start of a tune
 *   3 <EOS>   end of a tune
 */
#ifndef TS_DATA_VOCAB_H
#define TS_DATA_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum { TS_TOK_PAD = 0, TS_TOK_UNK = 1, TS_TOK_SOS = 2, TS_TOK_EOS = 3, TS_N_SPECIAL = 4 };
#define TS_VOCAB_MAX 65535 /* token ids are stored as uint16 */

typedef struct {
    uint32_t *cps; /* sorted code points; token id = TS_N_SPECIAL + index */
    size_t n_chars;
} ts_vocab;

static inline size_t ts_vocab_size(const ts_vocab *v) {
    return TS_N_SPECIAL + v->n_chars;
}

/* Collects the code points of texts[0..n). */
ts_status ts_vocab_build(ts_vocab *v, const char *const *texts, size_t n);
void ts_vocab_free(ts_vocab *v);
/* Token id of a code point (TS_TOK_UNK if absent). */
uint16_t ts_vocab_id(const ts_vocab *v, uint32_t cp);
/* Encodes UTF-8 text, appending to out (room for strlen(text) ids); returns the count. */
size_t ts_vocab_encode(const ts_vocab *v, const char *text, size_t len, uint16_t *out);
/* Decodes ids to UTF-8 into out (cap bytes); specials other than UNK are dropped, UNK becomes
 * U+FFFD. Returns the byte length, or (size_t)-1 if out is too small. */
size_t ts_vocab_decode(const ts_vocab *v, const uint16_t *ids, size_t n, char *out, size_t cap);

/* vocab.json: {"schema": "tunescale.vocab/1", "size": N, "tokens": [...], "char2idx": {...},
 * "idx2char": {...}} — char2idx/idx2char match the notebook's file. */
ts_status ts_vocab_save(const ts_vocab *v, const char *path);
ts_status ts_vocab_load(ts_vocab *v, const char *path);

#endif
