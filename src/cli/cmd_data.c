/* cmd_data.c — `tunescale data prepare`: options, the run, and its report. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_backend_opts.h"
#include "cli/commands.h"
#include "data/dataset_json.h"
#include "data/prepare.h"
#include "util/fsutil.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale data prepare [--input PATH|URL ...] --out DIR [options]\n\n"
            "Reads ABC tune books (.abc), JSON arrays or CSV tables of tune records, folders and\n"
            "archives (.zip, .tar.gz) or http(s)/file URLs; cleans, filters, de-duplicates,\n"
            "subsamples, builds the character vocabulary, splits by tune and encodes to uint16.\n\n"
            "  --input PATH|URL   input (repeatable); default: the bundled corpus bench/data\n"
            "                     'thesession' names The Session's dump (needs --accept-license)\n"
            "  --out DIR          output folder: dataset.json vocab.json train/val/test.bin "
            "splits.tsv\n"
            "  --clean MODE       default (keeps ABC's lines) | seed (the notebook's collapse)\n"
            "  --max-chars N      character budget after filtering (default 80M; k/M/G allowed)\n"
            "  --seed S           split and subsample seed (default 42)\n"
            "  --min-len N        shortest tune kept, in characters (default 50)\n"
            "  --max-len N        longest tune kept, in characters (default 5000)\n"
            "  --val-frac F       share of tunes in val (default 0.01)\n"
            "  --test-frac F      share of tunes in test (default 0.01)\n"
            "  --framing MODE     sos-eos: <SOS> tune <EOS> (default) | newline: tune '\\n' "
            "(notebook)\n"
            "  --encoding E       auto (UTF-8, else Latin-1 transcoded) | utf-8 | latin-1\n"
            "  --sha256 HEX       expected digest of the one URL input\n"
            "  --cache-dir DIR    where downloads are kept (default ~/.cache/tunescale)\n"
            "  --max-download SIZE  largest download accepted (default 8G; K/M/G/T = 1024^n)\n"
            "  --timeout SECONDS  longest a download may take, retries included (default 3600)\n"
            "  --max-unpacked SIZE  most an archive may unpack to, per member and in all\n"
            "                     (default 1G)\n"
            "  --force            rebuild even if DIR holds the same dataset already\n"
            "  --accept-license   accept a named source's licence terms\n"
            "  --json             print dataset.json (plus \"cached\") on stdout instead of the "
            "report\n"
            "  -q, --quiet        no report\n");
}

/* "80M" -> 80000000; k/M/G are powers of 1000 (characters, not bytes). */
static int parse_count(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return 0;
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1e3, end++;
    else if (*end == 'M')
        mul = 1e6, end++;
    else if (*end == 'G')
        mul = 1e9, end++;
    if (*end) return 0;
    *out = (uint64_t)(v * mul + 0.5);
    return 1;
}

/* "512M" -> 536870912: byte sizes, K/M/G/T powers of 1024; 1 byte to 1 PiB. */
static int parse_bytes(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return 0;
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, *end) : NULL;
    if (u) {
        for (const char *k = units; k <= u; k++)
            v *= 1024;
        end++;
    }
    if (*end || !(v >= 1 && v <= 1125899906842624.0)) return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_frac(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0 || v >= 1) return 0;
    *out = v;
    return 1;
}

static const char *default_corpus(void) {
    if (ts_is_dir("bench/data")) return "bench/data";
    return TS_SOURCE_DIR "/bench/data";
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_report(const cJSON *d, const char *out_dir, int cached) {
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(d, "inputs");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(d, "counts");
    const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(counts, "dropped");
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(d, "splits");
    double bytes = 0;
    int latin1 = 0;
    const cJSON *in;
    cJSON_ArrayForEach(in, inputs) {
        bytes += num(in, "bytes");
        latin1 += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "latin1_transcoded"));
    }
    printf("dataset %s%s\n", out_dir,
           cached ? "  (served from cache: inputs and options unchanged)" : "");
    printf("  inputs     %d files, %.0f bytes%s\n", cJSON_GetArraySize(inputs), bytes,
           latin1 ? " (some transcoded from Latin-1)" : "");
    cJSON_ArrayForEach(in, inputs) {
        printf("             %-44s %6.0f tunes\n",
               cJSON_GetObjectItemCaseSensitive(in, "name")->valuestring, num(in, "tunes"));
    }
    printf("  tunes      read %.0f, kept %.0f (%.0f tune groups)\n", num(counts, "read"),
           num(counts, "kept"), num(counts, "groups"));
    printf("  dropped    empty %.0f, too short %.0f, too long %.0f, duplicate %.0f, subsampled "
           "%.0f\n",
           num(dropped, "empty_after_cleaning"), num(dropped, "too_short"),
           num(dropped, "too_long"), num(dropped, "duplicate"), num(dropped, "subsampled"));
    if (num(counts, "records_without_abc") > 0)
        printf("  skipped    %.0f records without an abc field\n",
               num(counts, "records_without_abc"));
    printf("  vocab      %.0f tokens (4 special + %.0f characters)\n", num(d, "vocab_size"),
           num(d, "vocab_size") - 4);
    printf("  split      %-6s %8s %8s %12s\n", "", "tunes", "groups", "tokens");
    const cJSON *s;
    cJSON_ArrayForEach(s, splits) {
        printf("             %-6s %8.0f %8.0f %12.0f\n", s->string, num(s, "tunes"),
               num(s, "groups"), num(s, "tokens"));
    }
}

static int prepare_main(int argc, char **argv) {
    static const struct option opts[] = {{"input", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"clean", required_argument, 0, 'c'},
                                         {"max-chars", required_argument, 0, 'm'},
                                         {"seed", required_argument, 0, 's'},
                                         {"min-len", required_argument, 0, 'a'},
                                         {"max-len", required_argument, 0, 'b'},
                                         {"val-frac", required_argument, 0, 'v'},
                                         {"test-frac", required_argument, 0, 't'},
                                         {"framing", required_argument, 0, 'f'},
                                         {"encoding", required_argument, 0, 'e'},
                                         {"sha256", required_argument, 0, 'H'},
                                         {"cache-dir", required_argument, 0, 'C'},
                                         {"max-download", required_argument, 0, 'D'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"max-unpacked", required_argument, 0, 'U'},
                                         {"force", no_argument, 0, 'F'},
                                         {"accept-license", no_argument, 0, 'L'},
                                         {"json", no_argument, 0, 'j'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ts_prepare_options o;
    ts_prepare_options_default(&o);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t n_inputs = 0;
    int json = 0, quiet = 0, c;
    uint64_t u;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":i:o:qh", opts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case 'i':
            inputs[n_inputs++] = optarg;
            break;
        case 'o':
            o.out_dir = optarg;
            break;
        case 'c':
            if (!strcmp(optarg, "default"))
                o.clean = TS_CLEAN_DEFAULT;
            else if (!strcmp(optarg, "seed"))
                o.clean = TS_CLEAN_SEED;
            else
                bad = "--clean takes default or seed";
            break;
        case 'm':
            if (!parse_count(optarg, &o.max_chars) || !o.max_chars)
                bad = "--max-chars takes a "
                      "positive count";
            break;
        case 's':
            if (!parse_count(optarg, &o.seed)) bad = "--seed takes a non-negative integer";
            break;
        case 'a':
        case 'b':
            if (!parse_count(optarg, &u) || u > 100000000)
                bad = "--min-len/--max-len take a "
                      "character count";
            else if (c == 'a')
                o.min_len = (uint32_t)u;
            else
                o.max_len = (uint32_t)u;
            break;
        case 'v':
            if (!parse_frac(optarg, &o.val_frac)) bad = "--val-frac takes a number in [0, 1)";
            break;
        case 't':
            if (!parse_frac(optarg, &o.test_frac)) bad = "--test-frac takes a number in [0, 1)";
            break;
        case 'f':
            if (!strcmp(optarg, "sos-eos"))
                o.framing = TS_FRAMING_SOS_EOS;
            else if (!strcmp(optarg, "newline"))
                o.framing = TS_FRAMING_NEWLINE;
            else
                bad = "--framing takes sos-eos or newline";
            break;
        case 'e':
            if (!strcmp(optarg, "auto"))
                o.encoding = TS_ENC_AUTO;
            else if (!strcmp(optarg, "utf-8") || !strcmp(optarg, "utf8"))
                o.encoding = TS_ENC_UTF8;
            else if (!strcmp(optarg, "latin-1") || !strcmp(optarg, "latin1"))
                o.encoding = TS_ENC_LATIN1;
            else
                bad = "--encoding takes auto, utf-8 or latin-1";
            break;
        case 'H':
            if (strlen(optarg) != 64 || strspn(optarg, "0123456789abcdefABCDEF") != 64)
                bad = "--sha256 takes 64 hex digits";
            o.sha256 = optarg;
            break;
        case 'C':
            o.cache_dir = optarg;
            break;
        case 'D':
            if (!parse_bytes(optarg, &o.max_download))
                bad = "--max-download takes a size from 1 to 1P bytes (e.g. 500M)";
            break;
        case 'U':
            if (!parse_bytes(optarg, &o.max_unpacked))
                bad = "--max-unpacked takes a size from 1 to 1P bytes (e.g. 2G)";
            break;
        case 'T': {
            char *end;
            errno = 0;
            double t = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(t > 0 && t <= 1e6))
                bad = "--timeout takes seconds, above 0 and at most 1e6";
            else
                o.timeout_s = t;
            break;
        }
        case 'F':
            o.force = 1;
            break;
        case 'L':
            o.accept_license = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            free(inputs);
            return 0;
        case ':':
            fprintf(stderr, "tunescale data prepare: %s needs a value (see --help)\n",
                    argv[optind - 1]);
            free(inputs);
            return 2;
        default:
            fprintf(stderr, "tunescale data prepare: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            free(inputs);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "tunescale data prepare: %s (got '%s')\n", bad, optarg);
            free(inputs);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                "tunescale data prepare: unexpected argument '%s' (inputs go after "
                "--input)\n",
                argv[optind]);
        free(inputs);
        return 2;
    }
    if (!o.out_dir) {
        fprintf(stderr, "tunescale data prepare: --out DIR is required (where the dataset is "
                        "written)\n");
        free(inputs);
        return 2;
    }
    if (n_inputs == 0) inputs[n_inputs++] = default_corpus();
    o.inputs = inputs;
    o.n_inputs = n_inputs;
    int cached = 0;
    ts_status st = ts_data_prepare(&o, &cached);
    free(inputs);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return ts_exit_code(st);
    }
    ts_dataset ds;
    if (ts_dataset_read(o.out_dir, &ds) != TS_OK) {
        fprintf(stderr, "tunescale: %s\n", ts_last_error());
        return 1;
    }
    cJSON *d = ds.doc;
    if (json) {
        cJSON_AddBoolToObject(d, "cached", cached);
        ts_cli_print_json("data prepare", d);
    } else if (!quiet) {
        print_report(d, o.out_dir, cached);
    }
    ts_dataset_free(&ds);
    return 0;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: tunescale data prepare [options]   (tunescale data prepare --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "prepare")) return prepare_main(argc - 1, argv + 1);
    fprintf(stderr, "tunescale data: unknown subcommand '%s' (only 'prepare')\n", argv[1]);
    return 2;
}
