/* vocab.c — building, saving, loading and applying the character vocabulary. */
#include "data/vocab.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/text.h"
#include "util/fsutil.h"

static const char *special_names[TS_N_SPECIAL] = {"<PAD>", "<UNK>", "<SOS>", "<EOS>"};

ts_status ts_vocab_build(ts_vocab *v, const char *const *texts, size_t n) {
    memset(v, 0, sizeof *v);
    /* A bitmap over all of Unicode (136 KiB) is simpler and faster than a hash set here. */
    uint8_t *seen = calloc(0x110000 / 8, 1);
    if (!seen) return ts_set_error_status(TS_ENOMEM, "out of host memory building the vocabulary");
    for (size_t i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)texts[i];
        while (*s) {
            uint32_t cp;
            s += ts_utf8_decode(s, &cp);
            seen[cp >> 3] |= (uint8_t)(1u << (cp & 7));
        }
    }
    size_t count = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        count += (seen[cp >> 3] >> (cp & 7)) & 1;
    if (count + TS_N_SPECIAL > TS_VOCAB_MAX) {
        free(seen);
        return ts_set_error("the corpus has %zu distinct characters; at most %d fit uint16 ids",
                            count, TS_VOCAB_MAX - TS_N_SPECIAL);
    }
    v->cps = malloc((count ? count : 1) * sizeof *v->cps);
    if (!v->cps) {
        free(seen);
        return ts_set_error_status(TS_ENOMEM, "out of host memory building the vocabulary");
    }
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        if ((seen[cp >> 3] >> (cp & 7)) & 1) v->cps[v->n_chars++] = cp;
    free(seen);
    return TS_OK;
}

void ts_vocab_free(ts_vocab *v) {
    free(v->cps);
    memset(v, 0, sizeof *v);
}

uint16_t ts_vocab_id(const ts_vocab *v, uint32_t cp) {
    size_t lo = 0, hi = v->n_chars;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->cps[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->n_chars && v->cps[lo] == cp) return (uint16_t)(TS_N_SPECIAL + lo);
    return TS_TOK_UNK;
}

size_t ts_vocab_encode(const ts_vocab *v, const char *text, size_t len, uint16_t *out) {
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)text, *end = s + len;
    while (s < end) {
        uint32_t cp;
        s += ts_utf8_decode(s, &cp);
        out[n++] = ts_vocab_id(v, cp);
    }
    return n;
}

size_t ts_vocab_decode(const ts_vocab *v, const uint16_t *ids, size_t n, char *out, size_t cap) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp;
        if (ids[i] >= TS_N_SPECIAL && (size_t)(ids[i] - TS_N_SPECIAL) < v->n_chars)
            cp = v->cps[ids[i] - TS_N_SPECIAL];
        else if (ids[i] == TS_TOK_UNK || ids[i] >= ts_vocab_size(v))
            cp = 0xFFFD;
        else
            continue;
        char buf[4];
        int len = ts_utf8_encode(cp, buf);
        if (w + (size_t)len + 1 > cap) return (size_t)-1;
        memcpy(out + w, buf, (size_t)len);
        w += (size_t)len;
    }
    if (w < cap) out[w] = '\0';
    return w;
}

static void token_text(const ts_vocab *v, size_t id, char *buf) {
    if (id < TS_N_SPECIAL) {
        strcpy(buf, special_names[id]);
    } else {
        int len = ts_utf8_encode(v->cps[id - TS_N_SPECIAL], buf);
        buf[len] = '\0';
    }
}

ts_status ts_vocab_save(const ts_vocab *v, const char *path) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "tunescale.vocab/1");
    cJSON_AddNumberToObject(root, "size", (double)ts_vocab_size(v));
    cJSON *tokens = cJSON_AddArrayToObject(root, "tokens");
    cJSON *c2i = cJSON_AddObjectToObject(root, "char2idx");
    cJSON *i2c = cJSON_AddObjectToObject(root, "idx2char");
    for (size_t id = 0; id < ts_vocab_size(v); id++) {
        char tok[8], key[24];
        token_text(v, id, tok);
        snprintf(key, sizeof key, "%zu", id);
        cJSON_AddItemToArray(tokens, cJSON_CreateString(tok));
        cJSON_AddNumberToObject(c2i, tok, (double)id);
        cJSON_AddStringToObject(i2c, key, tok);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return ts_set_error_status(TS_ENOMEM, "%s: out of host memory", path);
    ts_status st = ts_write_file_atomic(path, text, strlen(text));
    free(text);
    return st;
}

ts_status ts_vocab_load(ts_vocab *v, const char *path) {
    memset(v, 0, sizeof *v);
    char *text;
    size_t len;
    if (ts_read_file(path, &text, &len) != TS_OK) return TS_ERR;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(root, "tokens");
    int n = cJSON_GetArraySize(tokens);
    if (!root || !cJSON_IsArray(tokens) || n < TS_N_SPECIAL) {
        cJSON_Delete(root);
        return ts_set_error("%s: not a tunescale vocab.json (re-run tunescale data prepare)", path);
    }
    v->cps = malloc((size_t)n * sizeof *v->cps);
    ts_status st = TS_OK;
    for (int i = 0; i < n && st == TS_OK; i++) {
        const cJSON *t = cJSON_GetArrayItem(tokens, i);
        if (!cJSON_IsString(t)) {
            st = ts_set_error("%s: token %d is not a string", path, i);
        } else if (i < TS_N_SPECIAL) {
            if (strcmp(t->valuestring, special_names[i]))
                st = ts_set_error("%s: token %d should be %s", path, i, special_names[i]);
        } else {
            uint32_t cp;
            const unsigned char *s = (const unsigned char *)t->valuestring;
            size_t sl = strlen(t->valuestring);
            if (!sl || !ts_utf8_valid(s, sl) || (size_t)ts_utf8_decode(s, &cp) != sl ||
                (v->n_chars && cp <= v->cps[v->n_chars - 1]))
                st = ts_set_error("%s: token %d is not one character in ascending order", path, i);
            else
                v->cps[v->n_chars++] = cp;
        }
    }
    cJSON_Delete(root);
    if (st != TS_OK) ts_vocab_free(v);
    return st;
}
