/* evalset.c — validity, MIDI conversion, novelty and meter figures of a sample folder. */
#include "gen/evalset.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abc/abc.h"
#include "gen/load.h"
#include "util/fsutil.h"

enum { W = TS_NOVELTY_WINDOW };
#define HASH_P 0x100000001b3ull /* odd multiplier of the rolling polynomial hash (mod 2^64) */

typedef struct {
    uint16_t *ids; /* the text's tokens */
    int n;
    int first; /* first window start that holds a generated token */
    long windows, novel;
} gen_text;

typedef struct {
    uint64_t h;
    int text, start;
    int found;
} gen_window;

typedef struct {
    gen_window *w;
    size_t n;
    int32_t *slot; /* open addressing: window index + 1, 0 = empty */
    size_t mask;
} window_set;

static uint64_t hash_window(const uint16_t *ids) {
    uint64_t h = 0;
    for (int i = 0; i < W; i++)
        h = h * HASH_P + ids[i] + 1u;
    return h;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *.abc names in dir, sorted (malloc'd array of malloc'd strings). */
static ts_status list_abc(const char *dir, char ***names, int *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return ts_set_error_status(TS_EUSAGE, "%s: cannot open the sample folder", dir);
    struct dirent *e;
    int cap = 0;
    ts_status st = TS_OK;
    while (st == TS_OK && (e = readdir(d)) != NULL) {
        if (!ts_has_suffix(e->d_name, ".abc")) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(*names, (size_t)cap * sizeof *grown);
            if (!grown) {
                st = ts_set_error("out of host memory");
                break;
            }
            *names = grown;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            st = ts_set_error("out of host memory");
        else
            (*n)++;
    }
    closedir(d);
    if (*n) qsort(*names, (size_t)*n, sizeof **names, cmp_names);
    return st;
}

/* Tokens of the prompt a file was sampled from, per samples.json (0 when unknown). */
static int prompt_tokens(const cJSON *index, const char *file, const ts_vocab *v) {
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(index, "samples")) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "file");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "prompt");
        if (!cJSON_IsString(f) || strcmp(f->valuestring, file) || !cJSON_IsString(p)) continue;
        size_t len = strlen(p->valuestring);
        uint16_t *tmp = malloc((len + 1) * sizeof *tmp);
        int n = tmp ? (int)ts_vocab_encode(v, p->valuestring, len, tmp) : 0;
        free(tmp);
        return n;
    }
    return 0;
}

static ts_status build_set(gen_text *texts, int nt, window_set *s) {
    memset(s, 0, sizeof *s);
    size_t total = 0;
    for (int t = 0; t < nt; t++)
        if (texts[t].n >= W) total += (size_t)(texts[t].n - W + 1);
    size_t cap = 16;
    while (cap < 2 * total)
        cap *= 2;
    s->w = malloc((total ? total : 1) * sizeof *s->w);
    s->slot = calloc(cap, sizeof *s->slot);
    if (!s->w || !s->slot) return ts_set_error("out of host memory");
    s->mask = cap - 1;
    for (int t = 0; t < nt; t++) {
        for (int i = texts[t].first; i + W <= texts[t].n; i++) {
            gen_window *g = &s->w[s->n];
            g->h = hash_window(texts[t].ids + i);
            g->text = t;
            g->start = i;
            g->found = 0;
            size_t k = g->h & s->mask;
            while (s->slot[k])
                k = (k + 1) & s->mask;
            s->slot[k] = (int32_t)(++s->n);
        }
    }
    return TS_OK;
}

/* Marks every generated window that equals the training window ring[pos..] (hash h). */
static void mark(window_set *s, gen_text *texts, uint64_t h, const uint16_t *ring, int pos) {
    for (size_t k = h & s->mask; s->slot[k]; k = (k + 1) & s->mask) {
        gen_window *g = &s->w[s->slot[k] - 1];
        if (g->h != h || g->found) continue;
        const uint16_t *ids = texts[g->text].ids + g->start;
        int same = 1;
        for (int i = 0; i < W && same; i++)
            same = ids[i] == ring[(pos + i) % W];
        g->found = same;
    }
}

/* Streams the training split's tokens (uint16 little-endian) through a rolling hash. */
static ts_status scan_train(const char *path, window_set *s, gen_text *texts) {
    FILE *f = fopen(path, "rb");
    if (!f) return ts_set_error("%s: cannot read the training split", path);
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(2 * CHUNK);
    if (!buf) {
        fclose(f);
        return ts_set_error("out of host memory");
    }
    uint64_t pw = 1; /* HASH_P^(W-1): weight of the oldest token */
    for (int i = 0; i < W - 1; i++)
        pw *= HASH_P;
    uint16_t ring[W];
    uint64_t h = 0, seen = 0;
    size_t got;
    while ((got = fread(buf, 2, CHUNK, f)) > 0) {
        for (size_t i = 0; i < got; i++) {
            uint16_t t = (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8);
            int pos = (int)(seen % W); /* the oldest token's slot, overwritten now */
            if (seen >= W) h -= (ring[pos] + 1u) * pw;
            h = h * HASH_P + t + 1u;
            ring[pos] = t;
            seen++;
            if (seen >= W) mark(s, texts, h, ring, (pos + 1) % W);
        }
    }
    int err = ferror(f);
    fclose(f);
    free(buf);
    return err ? ts_set_error("%s: read error", path) : TS_OK;
}

ts_status ts_eval_samples(const char *dir, const ts_vocab *v, const char *train_bin,
                          ts_sample_metrics *out, cJSON *per_file) {
    memset(out, 0, sizeof *out);
    char **names = NULL, path[4300];
    int n = 0;
    ts_status st = list_abc(dir, &names, &n);
    if (st == TS_OK && n == 0) st = ts_set_error_status(TS_EUSAGE, "%s: no .abc files", dir);
    ts_path_join(path, sizeof path, dir, "samples.json");
    cJSON *index = st == TS_OK && ts_is_file(path) ? ts_read_json(path) : NULL;
    gen_text *texts = calloc((size_t)(n ? n : 1), sizeof *texts);
    if (st == TS_OK && !texts) st = ts_set_error("out of host memory");
    cJSON **rows = calloc((size_t)(n ? n : 1), sizeof *rows);
    for (int i = 0; st == TS_OK && i < n; i++) {
        char *text;
        size_t len;
        ts_path_join(path, sizeof path, dir, names[i]);
        if ((st = ts_read_file(path, &text, &len)) != TS_OK) break;
        ts_abc_result r;
        memset(&r, 0, sizeof r);
        if (ts_abc_check(text, len, &r) != 0) {
            free(text);
            st = ts_set_error("out of host memory");
            break;
        }
        /* strict: ABC 2.1 as written; reference: what abcm2ps and abc2midi read */
        int reference = r.verdict != TS_ABC_INVALID, strict = reference && !r.n_extensions;
        int loose = ts_abc_loose_valid(text, len);
        char mid[4300], err[256] = "";
        snprintf(mid, sizeof mid, "%.*s.mid", (int)(strlen(path) - 4), path);
        int midi = ts_abc_to_midi_file(text, len, mid, err, sizeof err) == 0;
        out->files++;
        out->strict_valid += strict;
        out->reference_valid += reference;
        out->loose_valid += loose;
        out->midi_ok += midi;
        out->bars_total += r.bars_total;
        out->bars_consistent += r.bars_consistent;
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "file", names[i]);
        cJSON_AddStringToObject(row, "title", r.title);
        cJSON_AddBoolToObject(row, "strict_valid", strict);
        cJSON_AddBoolToObject(row, "reference_valid", reference);
        cJSON_AddNumberToObject(row, "errors", r.n_errors);
        cJSON_AddNumberToObject(row, "warnings", r.n_warnings);
        if (r.n_diags > 0) cJSON_AddStringToObject(row, "first_diagnostic", r.diags[0].message);
        cJSON_AddBoolToObject(row, "loose_valid", loose);
        cJSON_AddBoolToObject(row, "midi", midi);
        if (midi) {
            snprintf(mid, sizeof mid, "%.*s.mid", (int)(strlen(names[i]) - 4), names[i]);
            cJSON_AddStringToObject(row, "midi_file", mid);
        } else {
            cJSON_AddStringToObject(row, "midi_error", err);
        }
        cJSON_AddNumberToObject(row, "bars_total", r.bars_total);
        cJSON_AddNumberToObject(row, "bars_consistent", r.bars_consistent);
        rows[i] = row;
        ts_abc_result_free(&r);
        /* tokens for novelty */
        texts[i].ids = malloc((len + 1) * sizeof *texts[i].ids);
        if (!texts[i].ids) {
            free(text);
            st = ts_set_error("out of host memory");
            break;
        }
        texts[i].n = (int)ts_vocab_encode(v, text, len, texts[i].ids);
        while (texts[i].n > 0 && texts[i].ids[texts[i].n - 1] == ts_vocab_id(v, '\n'))
            texts[i].n--; /* the file's final newline was not generated text */
        int p = prompt_tokens(index, names[i], v);
        texts[i].first = p > W - 1 ? p - (W - 1) : 0;
        free(text);
    }
    window_set ws;
    memset(&ws, 0, sizeof ws);
    if (st == TS_OK && train_bin) {
        st = build_set(texts, n, &ws);
        if (st == TS_OK) st = scan_train(train_bin, &ws, texts);
        for (size_t k = 0; st == TS_OK && k < ws.n; k++) {
            texts[ws.w[k].text].windows++;
            texts[ws.w[k].text].novel += !ws.w[k].found;
        }
    }
    for (int i = 0; i < n; i++) {
        if (st == TS_OK && rows[i]) {
            out->windows += texts[i].windows;
            out->novel_windows += texts[i].novel;
            if (train_bin) {
                cJSON_AddNumberToObject(rows[i], "windows", (double)texts[i].windows);
                cJSON_AddNumberToObject(rows[i], "novel_windows", (double)texts[i].novel);
            }
            if (per_file) {
                cJSON_AddItemToArray(per_file, rows[i]);
                rows[i] = NULL;
            }
        }
        cJSON_Delete(rows[i]);
        free(texts ? texts[i].ids : NULL);
        free(names[i]);
    }
    free(ws.w);
    free(ws.slot);
    free(rows);
    free(texts);
    free(names);
    cJSON_Delete(index);
    return st;
}

static void add_share(cJSON *o, const char *key, double num, double den, double scale) {
    if (den > 0)
        cJSON_AddNumberToObject(o, key, scale * num / den);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *ts_sample_metrics_json(const ts_sample_metrics *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "files", m->files);
    add_share(o, "strict_valid_pct", m->strict_valid, m->files, 100);
    add_share(o, "reference_valid_pct", m->reference_valid, m->files, 100);
    add_share(o, "loose_valid_pct", m->loose_valid, m->files, 100);
    add_share(o, "midi_pct", m->midi_ok, m->files, 100);
    add_share(o, "novelty", (double)m->novel_windows, (double)m->windows, 1);
    cJSON_AddNumberToObject(o, "windows", (double)m->windows);
    cJSON_AddNumberToObject(o, "novel_windows", (double)m->novel_windows);
    add_share(o, "meter_consistency", (double)m->bars_consistent, (double)m->bars_total, 1);
    cJSON_AddNumberToObject(o, "bars_total", (double)m->bars_total);
    cJSON_AddNumberToObject(o, "bars_consistent", (double)m->bars_consistent);
    return o;
}
