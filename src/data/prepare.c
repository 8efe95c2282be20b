/* prepare.c — the dataset stage, orchestrated (see prepare.h). */
#define _DEFAULT_SOURCE
#include "data/prepare.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset_json.h"
#include "data/fetch.h"
#include "data/ingest.h"
#include "data/split.h"
#include "data/tunes.h"
#include "data/vocab.h"
#include "util/fsutil.h"
#include "util/philox.h"
#include "util/sha256.h"

extern const char *ts_git_commit;
extern const char *ts_version;

enum { SUBSAMPLE_STREAM = 0x5355u }; /* Philox stream id for subsampling ("SU") */

/* Named sources. The Session's licence forbids use with machine-learning models unless the user
 * says otherwise; tunescale never fetches it without --accept-license, and no test uses it. */
static const char *session_url =
    "https://raw.githubusercontent.com/adactio/TheSession-data/main/json/tunes.json";
static const char *session_terms =
    "The Session (thesession.org) tune data is licensed under the Open Database License (ODbL)\n"
    "with an added condition (since October 2025) that prohibits using the material with large\n"
    "language models. tunescale trains language models on what it prepares. Read the licence at\n"
    "github.com/adactio/TheSession-data before you use it; pass --accept-license only if your use\n"
    "complies with it. (The bundled corpus in bench/data is openly licensed; see its SOURCES.md.)";

void ts_prepare_options_default(ts_prepare_options *o) {
    memset(o, 0, sizeof *o);
    o->clean = TS_CLEAN_DEFAULT;
    o->encoding = TS_ENC_AUTO;
    o->framing = TS_FRAMING_SOS_EOS;
    o->max_chars = 80000000;
    o->seed = 42;
    o->min_len = 50;
    o->max_len = 5000;
    o->val_frac = 0.01;
    o->test_frac = 0.01;
}

const char *ts_framing_name(ts_framing f) {
    return f == TS_FRAMING_NEWLINE ? "newline" : "sos-eos";
}

static const char *encoding_name(ts_encoding e) {
    return e == TS_ENC_UTF8 ? "utf-8" : e == TS_ENC_LATIN1 ? "latin-1" : "auto";
}

/* ---- cache ---------------------------------------------------------------------------- */

static cJSON *options_json(const ts_prepare_options *o) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "clean", o->clean == TS_CLEAN_SEED ? "seed" : "default");
    cJSON_AddStringToObject(j, "encoding", encoding_name(o->encoding));
    cJSON_AddStringToObject(j, "framing", ts_framing_name(o->framing));
    cJSON_AddNumberToObject(j, "min_len", o->min_len);
    cJSON_AddNumberToObject(j, "max_len", o->max_len);
    cJSON_AddNumberToObject(j, "max_chars", (double)o->max_chars);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "val_frac", o->val_frac);
    cJSON_AddNumberToObject(j, "test_frac", o->test_frac);
    return j;
}

/* The key covers the stage's version, its options and the content of every input. */
static void cache_key(const ts_prepare_options *o, const ts_input_log *log, char key[65]) {
    ts_sha256 *h = ts_sha256_new();
    const char *stage = "tunescale.dataset/1\n";
    ts_sha256_update(h, stage, strlen(stage));
    cJSON *opt = options_json(o);
    char *text = cJSON_PrintUnformatted(opt);
    ts_sha256_update(h, text, strlen(text));
    free(text);
    cJSON_Delete(opt);
    for (size_t i = 0; i < log->n; i++) {
        ts_sha256_update(h, "\n", 1);
        ts_sha256_update(h, log->v[i].sha256, 64);
    }
    ts_sha256_finish_hex(h, key);
}

ts_status ts_dataset_verify(const char *out_dir, char *key_out) {
    ts_dataset d;
    ts_status st = ts_dataset_read(out_dir, &d);
    for (int i = 0; i < TS_DATASET_N_FILES && st == TS_OK; i++) {
        char fpath[4096], hex[65];
        ts_path_join(fpath, sizeof fpath, out_dir, d.file_name[i]);
        if (ts_sha256_file_hex(fpath, hex) != TS_OK || strcmp(hex, d.file_sha256[i]))
            st = ts_set_error("%s: missing or changed since it was written", fpath);
    }
    if (st == TS_OK && key_out) snprintf(key_out, 65, "%s", d.cache_key);
    ts_dataset_free(&d);
    return st;
}

/* ---- stages ---------------------------------------------------------------------------- */

typedef struct {
    uint64_t read, without_abc, empty, too_short, too_long, duplicate, subsampled, kept;
} stage_counts;

/* Removes tunes whose keep[i] is 0, preserving order. */
static void compact(ts_tune_list *t, const uint8_t *keep) {
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (keep[i])
            t->v[w++] = t->v[i];
        else
            ts_tune_free(&t->v[i]);
    }
    t->n = w;
}

static int cmp_text(const void *a, const void *b) {
    const ts_tune *x = *(ts_tune *const *)a, *y = *(ts_tune *const *)b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x > y) - (x < y); /* pointer order = input order: the first copy wins */
}

static ts_status clean_filter_dedupe(ts_tune_list *t, const ts_prepare_options *o,
                                     stage_counts *c) {
    uint8_t *keep = malloc(t->n + 1);
    ts_tune **by_text = malloc((t->n + 1) * sizeof *by_text);
    if (!keep || !by_text) {
        free(keep), free(by_text);
        return ts_set_error_status(TS_ENOMEM, "out of host memory");
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t bytes = ts_clean_tune(t->v[i].text, o->clean);
        size_t chars = ts_utf8_length(t->v[i].text, bytes);
        keep[i] = 0;
        if (bytes == 0)
            c->empty++;
        else if (chars < o->min_len)
            c->too_short++;
        else if (chars > o->max_len)
            c->too_long++;
        else
            keep[i] = 1;
    }
    compact(t, keep);
    for (size_t i = 0; i < t->n; i++)
        by_text[i] = &t->v[i];
    qsort(by_text, t->n, sizeof *by_text, cmp_text);
    for (size_t i = 0; i < t->n; i++)
        keep[i] = 1;
    for (size_t k = 1; k < t->n; k++)
        if (!strcmp(by_text[k]->text, by_text[k - 1]->text)) {
            keep[by_text[k] - t->v] = 0;
            c->duplicate++;
        }
    compact(t, keep);
    free(keep);
    free(by_text);
    return TS_OK;
}

/* Keeps a seeded random subset whose characters (plus one separator each) fit the budget. */
static ts_status subsample(ts_tune_list *t, const ts_prepare_options *o, stage_counts *c) {
    uint64_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        total += ts_utf8_length(t->v[i].text, strlen(t->v[i].text)) + 1;
    if (total <= o->max_chars) return TS_OK;
    uint32_t *order = malloc(t->n * sizeof *order);
    uint8_t *keep = calloc(t->n, 1);
    if (!order || !keep) {
        free(order), free(keep);
        return ts_set_error_status(TS_ENOMEM, "out of host memory");
    }
    for (uint32_t i = 0; i < t->n; i++)
        order[i] = i;
    ts_rng rng;
    ts_rng_init(&rng, o->seed, SUBSAMPLE_STREAM);
    ts_rng_shuffle_u32(&rng, order, (uint32_t)t->n);
    uint64_t used = 0;
    for (size_t k = 0; k < t->n; k++) {
        uint64_t len = ts_utf8_length(t->v[order[k]].text, strlen(t->v[order[k]].text)) + 1;
        if (used + len > o->max_chars) continue;
        used += len;
        keep[order[k]] = 1;
    }
    size_t before = t->n;
    compact(t, keep);
    c->subsampled = before - t->n;
    free(order);
    free(keep);
    return TS_OK;
}

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct {
    uint64_t tunes, groups, tokens, chars;
    char sha256[65];
} split_stats;

static ts_status write_split(const char *path, const ts_tune_list *t, const uint8_t *split,
                             int which, const ts_vocab *v, ts_framing framing, split_stats *s) {
    ts_atomic_file af;
    if (ts_atomic_open(&af, path) != TS_OK) return TS_ERR;
    ts_sha256 *h = ts_sha256_new();
    uint16_t *ids = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (split[i] != which) continue;
        size_t len = strlen(t->v[i].text);
        if (len + 2 > cap) {
            cap = 2 * (len + 2);
            uint16_t *grown = realloc(ids, cap * sizeof *ids);
            if (!grown) {
                free(ids);
                ts_atomic_abort(&af);
                char hex[65];
                ts_sha256_finish_hex(h, hex);
                return ts_set_error_status(TS_ENOMEM, "out of host memory");
            }
            ids = grown;
        }
        size_t n = 0;
        if (framing == TS_FRAMING_SOS_EOS) ids[n++] = TS_TOK_SOS;
        n += ts_vocab_encode(v, t->v[i].text, len, ids + n);
        s->chars += n - (framing == TS_FRAMING_SOS_EOS);
        ids[n++] = framing == TS_FRAMING_SOS_EOS ? TS_TOK_EOS : ts_vocab_id(v, '\n');
        for (size_t k = 0; k < n; k++) { /* little-endian on every host */
            uint16_t x = ids[k];
            unsigned char le[2] = {(unsigned char)(x & 0xFF), (unsigned char)(x >> 8)};
            memcpy(&ids[k], le, 2);
        }
        ts_sha256_update(h, ids, n * sizeof *ids);
        fwrite(ids, sizeof *ids, n, af.fp);
        s->tunes++;
        s->tokens += n;
    }
    free(ids);
    ts_sha256_finish_hex(h, s->sha256);
    return ts_atomic_commit(&af);
}

static void tsv_field(FILE *f, const char *s) {
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static ts_status write_index(const char *path, const ts_tune_list *t, const uint8_t *split) {
    ts_atomic_file af;
    if (ts_atomic_open(&af, path) != TS_OK) return TS_ERR;
    fprintf(af.fp, "split\tgroup\tsource\tindex\tchars\n");
    for (size_t i = 0; i < t->n; i++) {
        fprintf(af.fp, "%s\t", ts_split_names[split[i]]);
        tsv_field(af.fp, t->v[i].group);
        fputc('\t', af.fp);
        tsv_field(af.fp, t->v[i].source);
        fprintf(af.fp, "\t%u\t%zu\n", t->v[i].index,
                ts_utf8_length(t->v[i].text, strlen(t->v[i].text)));
    }
    return ts_atomic_commit(&af);
}

static cJSON *file_entry(const char *name, const char *sha) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "file", name);
    cJSON_AddStringToObject(j, "sha256", sha);
    return j;
}

/* Moves the staged artefacts into out_dir: the old dataset.json goes first so that a crash in
 * between leaves no marker claiming a complete dataset; the new one goes last. */
static const char *const published[] = {"vocab.json", "train.bin",  "val.bin",
                                        "test.bin",   "splits.tsv", "dataset.json"};

/* The artefacts' names in out_dir may be replaced only when tunescale wrote them: the folder
 * carries its marker, or (a dataset from before the marker) a tunescale dataset.json. */
static int has_tunescale_dataset(const char *out_dir) {
    char path[4096], *text;
    size_t len;
    ts_path_join(path, sizeof path, out_dir, "dataset.json");
    if (!ts_is_file(path) || ts_read_file(path, &text, &len) != TS_OK) return 0;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    int yes = cJSON_IsString(schema) && !strcmp(schema->valuestring, "tunescale.dataset/1");
    cJSON_Delete(root);
    return yes;
}

static ts_status check_replaceable(const char *out_dir) {
    char path[4096];
    if (ts_is_owned_dir(out_dir) || has_tunescale_dataset(out_dir)) return TS_OK;
    for (size_t i = 0; i < sizeof published / sizeof *published; i++) {
        struct stat sb;
        if (lstat(ts_path_join(path, sizeof path, out_dir, published[i]), &sb) == 0)
            return ts_set_error_status(TS_EUSAGE,
                                       "%s: exists and was not written by tunescale; move it away "
                                       "or choose another --out (nothing was changed)",
                                       path);
    }
    ts_clear_error();
    return TS_OK;
}

static ts_status publish(const char *stage, const char *out_dir) {
    static const char *const *files = published;
    char from[4096], to[4096];
    if (ts_mark_owned_dir(out_dir) != TS_OK) return TS_ERR;
    unlink(ts_path_join(to, sizeof to, out_dir, "dataset.json"));
    for (size_t i = 0; i < sizeof published / sizeof *published; i++) {
        ts_path_join(from, sizeof from, stage, files[i]);
        ts_path_join(to, sizeof to, out_dir, files[i]);
        if (rename(from, to) != 0)
            return ts_set_error("%s: cannot move into place: %s", to, strerror(errno));
    }
    return ts_fsync_dir(out_dir);
}

static ts_status write_dataset(const ts_prepare_options *o, const char *stage, const char *key,
                               const ts_input_log *log, const ts_tune_list *t,
                               const stage_counts *c) {
    ts_status st = TS_ERR;
    ts_vocab v = {0};
    uint8_t *split = malloc(t->n + 1);
    const char **texts = malloc((t->n + 1) * sizeof *texts);
    cJSON *root = NULL;
    if (!split || !texts) {
        ts_set_error_status(TS_ENOMEM, "out of host memory");
        goto done;
    }
    for (size_t i = 0; i < t->n; i++)
        texts[i] = t->v[i].text;
    /* newline framing separates tunes with '\n', which seed cleaning removes from the texts */
    texts[t->n] = "\n";
    if (ts_vocab_build(&v, texts, t->n + (o->framing == TS_FRAMING_NEWLINE)) != TS_OK) goto done;
    size_t split_groups[TS_N_SPLITS];
    size_t groups = ts_split_tunes(t, o->seed, o->val_frac, o->test_frac, split, split_groups);
    if (groups == (size_t)-1) {
        ts_set_error_status(TS_ENOMEM, "out of host memory");
        goto done;
    }
    char path[4096], vocab_sha[65], index_sha[65];
    ts_path_join(path, sizeof path, stage, "vocab.json");
    if (ts_vocab_save(&v, path) != TS_OK || ts_sha256_file_hex(path, vocab_sha) != TS_OK) goto done;
    split_stats ss[TS_N_SPLITS] = {0};
    static const char *bin[TS_N_SPLITS] = {"train.bin", "val.bin", "test.bin"};
    for (int s = 0; s < TS_N_SPLITS; s++) {
        ts_path_join(path, sizeof path, stage, bin[s]);
        if (write_split(path, t, split, s, &v, o->framing, &ss[s]) != TS_OK) goto done;
        ss[s].groups = split_groups[s];
    }
    ts_path_join(path, sizeof path, stage, "splits.tsv");
    if (write_index(path, t, split) != TS_OK || ts_sha256_file_hex(path, index_sha) != TS_OK)
        goto done;

    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "tunescale.dataset/1");
    cJSON_AddStringToObject(root, "cache_key", key);
    {
        ts_sha256 *h = ts_sha256_new();
        ts_sha256_update(h, vocab_sha, 64);
        for (int s = 0; s < TS_N_SPLITS; s++)
            ts_sha256_update(h, ss[s].sha256, 64);
        char dh[65];
        ts_sha256_finish_hex(h, dh);
        cJSON_AddStringToObject(root, "dataset_hash", dh);
    }
    cJSON *ver = cJSON_AddObjectToObject(root, "tunescale");
    cJSON_AddStringToObject(ver, "version", ts_version);
    cJSON_AddStringToObject(ver, "commit", ts_git_commit);
    cJSON_AddItemToObject(root, "options", options_json(o));
    cJSON *inputs = cJSON_AddArrayToObject(root, "inputs");
    for (size_t i = 0; i < log->n; i++) {
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "name", log->v[i].name);
        cJSON_AddStringToObject(in, "format", ts_format_name(log->v[i].format));
        cJSON_AddNumberToObject(in, "bytes", (double)log->v[i].bytes);
        cJSON_AddNumberToObject(in, "tunes", log->v[i].tunes);
        cJSON_AddBoolToObject(in, "latin1_transcoded", log->v[i].latin1);
        cJSON_AddStringToObject(in, "sha256", log->v[i].sha256);
        cJSON_AddItemToArray(inputs, in);
    }
    cJSON *counts = cJSON_AddObjectToObject(root, "counts");
    cJSON_AddNumberToObject(counts, "read", (double)c->read);
    cJSON_AddNumberToObject(counts, "records_without_abc", (double)c->without_abc);
    cJSON *dropped = cJSON_AddObjectToObject(counts, "dropped");
    cJSON_AddNumberToObject(dropped, "empty_after_cleaning", (double)c->empty);
    cJSON_AddNumberToObject(dropped, "too_short", (double)c->too_short);
    cJSON_AddNumberToObject(dropped, "too_long", (double)c->too_long);
    cJSON_AddNumberToObject(dropped, "duplicate", (double)c->duplicate);
    cJSON_AddNumberToObject(dropped, "subsampled", (double)c->subsampled);
    cJSON_AddNumberToObject(counts, "kept", (double)t->n);
    cJSON_AddNumberToObject(counts, "groups", (double)groups);
    cJSON_AddNumberToObject(root, "vocab_size", (double)ts_vocab_size(&v));
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    cJSON *files = cJSON_AddObjectToObject(root, "files");
    cJSON_AddItemToObject(files, "vocab", file_entry("vocab.json", vocab_sha));
    cJSON_AddItemToObject(files, "index", file_entry("splits.tsv", index_sha));
    for (int s = 0; s < TS_N_SPLITS; s++) {
        cJSON *j = cJSON_AddObjectToObject(splits, ts_split_names[s]);
        cJSON_AddStringToObject(j, "file", bin[s]);
        cJSON_AddNumberToObject(j, "tunes", (double)ss[s].tunes);
        cJSON_AddNumberToObject(j, "groups", (double)ss[s].groups);
        cJSON_AddNumberToObject(j, "characters", (double)ss[s].chars);
        cJSON_AddNumberToObject(j, "tokens", (double)ss[s].tokens);
        cJSON_AddItemToObject(files, ts_split_names[s], file_entry(bin[s], ss[s].sha256));
    }
    st = ts_dataset_write(stage, root);
    if (st == TS_OK) st = publish(stage, o->out_dir);
done:
    cJSON_Delete(root);
    ts_vocab_free(&v);
    free(split);
    free(texts);
    return st;
}

/* ---- inputs ------------------------------------------------------------------------------ */

static void default_cache_dir(char *out, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0])
        snprintf(out, cap, "%s/tunescale", xdg);
    else
        snprintf(out, cap, "%s/.cache/tunescale", home && home[0] ? home : "/tmp");
}

static ts_status ingest_inputs(const ts_prepare_options *o, ts_tune_list *tunes,
                               ts_input_log *log) {
    ts_ingest_options io = {.encoding = o->encoding, .max_unpacked = o->max_unpacked};
    char cache[4096];
    if (o->cache_dir)
        snprintf(cache, sizeof cache, "%s", o->cache_dir);
    else
        default_cache_dir(cache, sizeof cache);
    size_t n_urls = 0;
    for (size_t i = 0; i < o->n_inputs; i++)
        n_urls += ts_is_url(o->inputs[i]);
    if (o->sha256 && n_urls != 1)
        return ts_set_error("--sha256 checks one downloaded file: give exactly one URL --input");
    for (size_t i = 0; i < o->n_inputs; i++) {
        const char *in = o->inputs[i];
        char local[4096];
        if (!strcmp(in, "thesession")) {
            if (!o->accept_license) {
                fprintf(stderr, "%s\n", session_terms);
                return ts_set_error("thesession: refused without --accept-license (its licence "
                                    "restricts use with language models; see above)");
            }
            in = session_url;
        }
        if (ts_is_url(in)) {
            ts_fetch_options fo;
            ts_fetch_options_default(&fo);
            fo.cache_dir = cache;
            fo.sha256 = o->sha256;
            if (o->max_download) fo.max_bytes = o->max_download;
            if (o->timeout_s > 0) fo.timeout_s = o->timeout_s;
            ts_status fst = ts_fetch(in, &fo, local, sizeof local);
            if (fst != TS_OK) return fst;
            in = local;
        }
        ts_status st = ts_ingest_path(in, &io, tunes, log);
        if (st != TS_OK) return st;
    }
    return TS_OK;
}

ts_status ts_data_prepare(const ts_prepare_options *o, int *cached) {
    *cached = 0;
    if (o->n_inputs == 0) return ts_set_error_status(TS_EUSAGE, "no --input given");
    if (!o->out_dir) return ts_set_error_status(TS_EUSAGE, "no --out directory given");
    if (o->min_len > o->max_len)
        return ts_set_error_status(TS_EUSAGE, "--min-len %u is above --max-len %u", o->min_len,
                                   o->max_len);
    if (o->val_frac < 0 || o->test_frac < 0 || o->val_frac + o->test_frac >= 1)
        return ts_set_error_status(TS_EUSAGE, "--val-frac and --test-frac must be >= 0 and sum "
                                              "to less than 1");
    ts_tune_list tunes = {0};
    ts_input_log log = {0};
    stage_counts c = {0};
    ts_status st = ingest_inputs(o, &tunes, &log);
    char key[65], stage[4096] = "";
    int created_out = 0;
    if (st != TS_OK) goto done;
    c.read = tunes.n;
    c.without_abc = log.records_without_abc;
    if (tunes.n == 0) {
        st = ts_set_error("no tunes found in the input (ABC tunes start with an 'X:' line; JSON "
                          "and CSV records need an 'abc' field)");
        goto done;
    }
    cache_key(o, &log, key);
    char old_key[65];
    if (!o->force && ts_dataset_verify(o->out_dir, old_key) == TS_OK && !strcmp(old_key, key)) {
        *cached = 1;
        goto done;
    }
    ts_clear_error();
    if ((st = clean_filter_dedupe(&tunes, o, &c)) != TS_OK) goto done;
    if ((st = subsample(&tunes, o, &c)) != TS_OK) goto done;
    if (tunes.n == 0) {
        st = ts_set_error("every tune was dropped by cleaning and the %u-%u character filter",
                          o->min_len, o->max_len);
        goto done;
    }
    /* Only a folder this run made is removed on failure: an existing file, link or folder
     * given as --out is the user's (an existing file was once deleted here). */
    struct stat sb;
    if (lstat(o->out_dir, &sb) == 0) {
        if (!ts_is_dir(o->out_dir)) {
            st = ts_set_error_status(TS_EUSAGE,
                                     "%s: exists and is not a directory (choose another --out; "
                                     "nothing was changed)",
                                     o->out_dir);
            goto done;
        }
    } else {
        created_out = 1;
    }
    if ((st = ts_mkdir_p(o->out_dir)) != TS_OK) goto done;
    if (!created_out && (st = check_replaceable(o->out_dir)) != TS_OK) goto done;
    /* Staging folders of runs killed on this machine (.staging-PID@HOST, PID gone) are debris. */
    ts_remove_stale_folders(o->out_dir, ".staging-");
    char tag[128];
    ts_owned_tag(tag, sizeof tag);
    snprintf(stage, sizeof stage, "%s/.staging-%s", o->out_dir, tag);
    ts_remove_tree(stage); /* our own name: a leftover of this very process id and host */
    if (mkdir(stage, 0777) != 0) {
        st = ts_set_error("%s: cannot write here: %s (choose another --out)", o->out_dir,
                          strerror(errno));
        stage[0] = '\0';
        goto done;
    }
    st = write_dataset(o, stage, key, &log, &tunes, &c);
done:
    if (stage[0]) ts_remove_tree(stage);
    if (st != TS_OK && created_out) ts_remove_tree(o->out_dir);
    ts_tunes_free(&tunes);
    ts_input_log_free(&log);
    return st;
}
