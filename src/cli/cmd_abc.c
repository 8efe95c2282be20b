/* cmd_abc.c — `tunescale abc check` and `tunescale abc midi`: the ABC checker and the ABC →
 * MIDI converter over whole tune books.
 *
 * A file is split into tunes at lines starting "X:" (a file without one is one tune); each tune
 * is checked or converted on its own, and diagnostics name the file's own line numbers. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abc/abc.h"
#include "cli/commands.h"
#include "util/error.h"
#include "util/fsutil.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale abc check FILE... [--json] [--quiet]\n"
            "       tunescale abc midi FILE... --out DIR [--json] [--quiet]\n\n"
            "check  parses every tune (ABC 2.1) and prints FILE:line:col: error|warning: reason\n"
            "       and a verdict per tune (valid, valid with warnings, invalid), then totals.\n"
            "       The rule: an error is what the reference tools (abcm2ps, abc2midi) cannot\n"
            "       read either; syntax outside ABC 2.1 that they read (slur direction marks\n"
            "       \"('\" \"(,\", abc2midi microtones \"_/e\", decorations inside grace notes,\n"
            "       the empty chord \"[]\", header lines without a field letter, %%%% lines\n"
            "       continued with '\\') is a warning that names the extension, and a tune\n"
            "       with such warnings is valid with warnings, not strictly ABC 2.1 valid.\n"
            "       Bar lengths are checked against M: (pickups, endings and last bars may be\n"
            "       short). Exit 0 when no tune is invalid, 1 when one is (or a file cannot be\n"
            "       read), 2 on a usage error. --json gives per tune \"verdict\" (reference\n"
            "       tools), \"strict_valid\" (ABC 2.1: no error, no extension) and\n"
            "       \"extensions\" (the names of the extensions used).\n"
            "midi   converts every tune to a Standard MIDI File (format 1, 480 ticks per quarter,\n"
            "       a tempo/meter/key track and one note track per voice) written atomically as\n"
            "       DIR/<file stem>_<X number>.mid. Repeats and endings are expanded, ties\n"
            "       joined, T and ~ ornamented as abc2midi does; grace notes and chord symbols\n"
            "       are not played (abc2midi -NGRA -NGUI). Exit 0 when every tune converts,\n"
            "       1 otherwise, 2 on a usage error.\n\n"
            "  --out DIR   (midi) output folder, created if missing\n"
            "  --json      one JSON document on stdout\n"
            "  -q, --quiet check: errors and totals only; midi: totals only\n");
}

/* ---- tunes of a file --------------------------------------------------------------------------
 */

typedef struct {
    size_t off, len;
    int line; /* 1-based line of the tune's first line in the file */
    char x[16];
} tune_span;

static tune_span *split_tunes(const char *s, size_t len, size_t *n_out) {
    size_t cap = 64, n = 0;
    tune_span *v = malloc(cap * sizeof *v);
    if (!v) return NULL;
    int line = 1;
    size_t i = 0;
    while (i < len) {
        if (i + 1 < len && s[i] == 'X' && s[i + 1] == ':') {
            if (n == cap) {
                tune_span *w = realloc(v, (cap *= 2) * sizeof *v);
                if (!w) {
                    free(v);
                    return NULL;
                }
                v = w;
            }
            if (n) v[n - 1].len = i - v[n - 1].off;
            tune_span *t = &v[n++];
            t->off = i, t->line = line, t->len = len - i;
            size_t k = i + 2, w = 0;
            while (k < len && (s[k] == ' ' || s[k] == '\t'))
                k++;
            while (k < len && s[k] >= '0' && s[k] <= '9' && w < sizeof t->x - 1)
                t->x[w++] = s[k++];
            t->x[w] = '\0';
        }
        while (i < len && s[i] != '\n')
            i++;
        i++, line++;
    }
    if (!n) { /* no X: at all: the whole file is one tune */
        v[0].off = 0, v[0].len = len, v[0].line = 1, v[0].x[0] = '\0';
        n = 1;
    }
    *n_out = n;
    return v;
}

/* ---- check ------------------------------------------------------------------------------------
 */

static const char *verdict_name(ts_abc_verdict v) {
    return v == TS_ABC_VALID ? "valid" : v == TS_ABC_WARNINGS ? "valid with warnings" : "invalid";
}

static double pct(long a, long b) {
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* "extensions": each extension the tune uses, once, in text order. */
static void add_extensions(cJSON *t, const ts_abc_result *r) {
    cJSON *a = cJSON_AddArrayToObject(t, "extensions");
    for (int d = 0; d < r->n_diags; d++) {
        const char *x = r->diags[d].extension;
        int seen = !x[0];
        for (int k = 0; k < d && !seen; k++)
            seen = !strcmp(r->diags[k].extension, x);
        if (!seen) cJSON_AddItemToArray(a, cJSON_CreateString(x));
    }
}

static int check_main(int argc, char **argv, int json, int quiet) {
    long n_tunes = 0, n_valid = 0, n_warn = 0, n_invalid = 0, bars_t = 0, bars_c = 0;
    long n_strict = 0;
    int failed = 0;
    cJSON *doc = json ? cJSON_CreateObject() : NULL, *tunes = NULL;
    if (json) tunes = cJSON_AddArrayToObject(doc, "tunes");
    for (int a = 0; a < argc; a++) {
        char *data;
        size_t len;
        if (ts_read_file(argv[a], &data, &len) != TS_OK) {
            fprintf(stderr, "tunescale abc check: %s\n", ts_last_error());
            failed = 1;
            continue;
        }
        size_t n;
        tune_span *sp = split_tunes(data, len, &n);
        for (size_t k = 0; sp && k < n; k++) {
            ts_abc_result r;
            if (ts_abc_check(data + sp[k].off, sp[k].len, &r) != 0) {
                fprintf(stderr, "tunescale abc check: out of memory\n");
                free(sp);
                free(data);
                cJSON_Delete(doc);
                return 1;
            }
            n_tunes++;
            n_valid += r.verdict == TS_ABC_VALID;
            n_warn += r.verdict == TS_ABC_WARNINGS;
            n_invalid += r.verdict == TS_ABC_INVALID;
            n_strict += !r.n_errors && !r.n_extensions;
            bars_t += r.bars_total, bars_c += r.bars_consistent;
            int base = sp[k].line - 1;
            if (json) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "file", argv[a]);
                cJSON_AddNumberToObject(t, "line", sp[k].line);
                cJSON_AddStringToObject(t, "x", sp[k].x);
                cJSON_AddStringToObject(t, "title", r.title);
                cJSON_AddStringToObject(t, "verdict",
                                        r.verdict == TS_ABC_VALID      ? "valid"
                                        : r.verdict == TS_ABC_WARNINGS ? "warnings"
                                                                       : "invalid");
                cJSON_AddBoolToObject(t, "strict_valid", !r.n_errors && !r.n_extensions);
                cJSON_AddNumberToObject(t, "errors", r.n_errors);
                cJSON_AddNumberToObject(t, "warnings", r.n_warnings);
                add_extensions(t, &r);
                cJSON_AddNumberToObject(t, "bars_total", r.bars_total);
                cJSON_AddNumberToObject(t, "bars_consistent", r.bars_consistent);
                cJSON *ds = cJSON_AddArrayToObject(t, "diagnostics");
                for (int d = 0; d < r.n_diags; d++) {
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddNumberToObject(o, "line", r.diags[d].line + base);
                    cJSON_AddNumberToObject(o, "column", r.diags[d].column);
                    cJSON_AddStringToObject(o, "severity",
                                            r.diags[d].is_error ? "error" : "warning");
                    cJSON_AddStringToObject(o, "message", r.diags[d].message);
                    if (r.diags[d].extension[0])
                        cJSON_AddStringToObject(o, "extension", r.diags[d].extension);
                    cJSON_AddItemToArray(ds, o);
                }
                cJSON_AddItemToArray(tunes, t);
            } else {
                for (int d = 0; d < r.n_diags; d++) {
                    if (quiet && !r.diags[d].is_error) continue;
                    printf("%s:%d:%d: %s: %s\n", argv[a], r.diags[d].line + base, r.diags[d].column,
                           r.diags[d].is_error ? "error" : "warning", r.diags[d].message);
                }
                if (!quiet)
                    printf("%s:%d: X:%s \"%s\": %s (%d errors, %d warnings, %d/%d bars "
                           "consistent)\n",
                           argv[a], sp[k].line, sp[k].x, r.title, verdict_name(r.verdict),
                           r.n_errors, r.n_warnings, r.bars_consistent, r.bars_total);
            }
            ts_abc_result_free(&r);
        }
        free(sp);
        free(data);
    }
    if (json) {
        cJSON *tot = cJSON_AddObjectToObject(doc, "totals");
        cJSON_AddNumberToObject(tot, "tunes", (double)n_tunes);
        cJSON_AddNumberToObject(tot, "valid", (double)n_valid);
        cJSON_AddNumberToObject(tot, "warnings", (double)n_warn);
        cJSON_AddNumberToObject(tot, "invalid", (double)n_invalid);
        cJSON_AddNumberToObject(tot, "accepted_pct", pct(n_valid + n_warn, n_tunes));
        cJSON_AddNumberToObject(tot, "strict_valid", (double)n_strict);
        cJSON_AddNumberToObject(tot, "bars_total", (double)bars_t);
        cJSON_AddNumberToObject(tot, "bars_consistent", (double)bars_c);
        cJSON_AddBoolToObject(tot, "files_failed", failed);
        char *s = cJSON_Print(doc);
        if (s) puts(s);
        free(s);
        cJSON_Delete(doc);
    } else {
        printf("tunes %ld: valid %ld (%.1f%%), with warnings %ld (%.1f%%), invalid %ld (%.1f%%); "
               "valid or with warnings %.2f%%; strictly ABC 2.1 %ld (%.1f%%); bars consistent "
               "%ld/%ld (%.1f%%)\n",
               n_tunes, n_valid, pct(n_valid, n_tunes), n_warn, pct(n_warn, n_tunes), n_invalid,
               pct(n_invalid, n_tunes), pct(n_valid + n_warn, n_tunes), n_strict,
               pct(n_strict, n_tunes), bars_c, bars_t, pct(bars_c, bars_t));
    }
    return failed || n_invalid ? 1 : 0;
}

/* ---- midi -------------------------------------------------------------------------------------
 */

/* DIR/<stem>_<X>.mid; a tune without a number, or a number seen before, gets its index. */
static void midi_name(char *out, size_t cap, const char *dir, const char *file, const tune_span *t,
                      size_t index, int dup) {
    char stem[256];
    const char *base = ts_basename(file);
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    char name[320];
    if (t->x[0] && !dup)
        snprintf(name, sizeof name, "%s_%s.mid", stem, t->x);
    else
        snprintf(name, sizeof name, "%s_t%zu.mid", stem, index + 1);
    ts_path_join(out, cap, dir, name);
}

static int midi_main(int argc, char **argv, const char *out_dir, int json, int quiet) {
    if (ts_mkdir_p(out_dir) != TS_OK) {
        fprintf(stderr, "tunescale abc midi: %s\n", ts_last_error());
        return 1;
    }
    long n_tunes = 0, n_ok = 0, n_fail = 0;
    int failed = 0;
    cJSON *doc = json ? cJSON_CreateObject() : NULL, *arr = NULL;
    if (json) arr = cJSON_AddArrayToObject(doc, "tunes");
    for (int a = 0; a < argc; a++) {
        char *data;
        size_t len;
        if (ts_read_file(argv[a], &data, &len) != TS_OK) {
            fprintf(stderr, "tunescale abc midi: %s\n", ts_last_error());
            failed = 1;
            continue;
        }
        size_t n;
        tune_span *sp = split_tunes(data, len, &n);
        for (size_t k = 0; sp && k < n; k++) {
            int dup = 0;
            for (size_t j = 0; j < k && sp[k].x[0]; j++)
                dup |= !strcmp(sp[j].x, sp[k].x);
            char path[4096], err[256];
            midi_name(path, sizeof path, out_dir, argv[a], &sp[k], k, dup);
            int rc = ts_abc_to_midi_file(data + sp[k].off, sp[k].len, path, err, sizeof err);
            n_tunes++;
            if (rc == 0)
                n_ok++;
            else
                n_fail++;
            if (json) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "file", argv[a]);
                cJSON_AddNumberToObject(t, "line", sp[k].line);
                cJSON_AddStringToObject(t, "x", sp[k].x);
                cJSON_AddStringToObject(t, "midi", rc == 0 ? path : "");
                cJSON_AddBoolToObject(t, "ok", rc == 0);
                if (rc) cJSON_AddStringToObject(t, "error", err);
                cJSON_AddItemToArray(arr, t);
            } else if (rc) {
                fprintf(stderr, "%s:%d: X:%s: %s\n", argv[a], sp[k].line, sp[k].x, err);
            } else if (!quiet) {
                printf("%s:%d: X:%s -> %s\n", argv[a], sp[k].line, sp[k].x, path);
            }
        }
        free(sp);
        free(data);
    }
    if (json) {
        cJSON *tot = cJSON_AddObjectToObject(doc, "totals");
        cJSON_AddNumberToObject(tot, "tunes", (double)n_tunes);
        cJSON_AddNumberToObject(tot, "converted", (double)n_ok);
        cJSON_AddNumberToObject(tot, "failed", (double)n_fail);
        char *s = cJSON_Print(doc);
        if (s) puts(s);
        free(s);
        cJSON_Delete(doc);
    } else {
        printf("tunes %ld: converted %ld, failed %ld (MIDI files in %s)\n", n_tunes, n_ok, n_fail,
               out_dir);
    }
    return failed || n_fail ? 1 : 0;
}

/* ---- options ----------------------------------------------------------------------------------
 */

int cmd_abc(int argc, char **argv) {
    if (argc < 2) { /* one line on stderr, as every usage error */
        fprintf(stderr, "tunescale abc: which command? check or midi (see tunescale abc --help)\n");
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    const char *sub = argv[1];
    int is_check = !strcmp(sub, "check"), is_midi = !strcmp(sub, "midi");
    if (!is_check && !is_midi) {
        fprintf(stderr, "tunescale abc: unknown subcommand '%s' (check or midi; see --help)\n",
                sub);
        return 2;
    }
    int json = 0, quiet = 0, n_files = 0;
    const char *out_dir = NULL;
    char **files = calloc((size_t)argc, sizeof *files);
    if (!files) return 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            return 0;
        } else if (is_midi && !strcmp(a, "--out")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tunescale abc midi: --out needs a value (see --help)\n");
                free(files);
                return 2;
            }
            out_dir = argv[++i];
        } else if (is_midi && !strncmp(a, "--out=", 6)) {
            out_dir = a + 6;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tunescale abc %s: unknown option '%s' (see --help)\n", sub, a);
            free(files);
            return 2;
        } else {
            files[n_files++] = argv[i];
        }
    }
    int rc;
    if (!n_files) {
        fprintf(stderr, "tunescale abc %s: no ABC files given (see --help)\n", sub);
        rc = 2;
    } else if (is_midi && !out_dir) {
        fprintf(stderr, "tunescale abc midi: --out DIR is required (where the .mid files go)\n");
        rc = 2;
    } else {
        rc = is_check ? check_main(n_files, files, json, quiet)
                      : midi_main(n_files, files, out_dir, json, quiet);
    }
    free(files);
    return rc;
}
