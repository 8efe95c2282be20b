/*
 * cmd_compare.c — `tunescale compare DIR DIR...`: one table across machines and backends.
 *
 * The matching and the files are src/analysis/compare.h; this file parses options and prints.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/plot.h"
#include "cli/commands.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: tunescale compare DIR [DIR...] [--out DIR] [--json] [--no-plots]\n\n"
            "Joins result sets (folders of result.json files, e.g. sweeps from several machines)\n"
            "into one table. Each (DIR, backend, device) is one set, so a single sweep folder\n"
            "with several backends compares them. Rows are models matched by family and name;\n"
            "per set: validation loss, tokens/s and peak memory, and the ratio of tokens/s and\n"
            "of memory against the FIRST set (the first backend found in the first DIR).\n"
            "A set's cell is its first run of the model with status ok; a model that was\n"
            "skipped or failed shows its status.\n\n"
            "Writes compare.md, compare.csv (one row per model and set), compare.json and\n"
            "plots/compare_tokens_per_s.svg/.png into the --out folder.\n\n"
            "options:\n"
            "  --out DIR     where to write the files (default: the first DIR)\n"
            "  --json        print compare.json on stdout instead of the table\n"
            "  --no-plots    skip the plot\n"
            "  -h, --help    this text\n\n"
            "exit codes: 0 ok, 1 runtime failure (no such folder, no result.json), 2 usage\n");
}

int cmd_compare(int argc, char **argv) {
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    if (!dirs) {
        fprintf(stderr, "tunescale: compare: out of memory\n");
        return 1;
    }
    const char *out = NULL;
    int json = 0, plots = 1, rc = 0;
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(dirs);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-plots")) {
            plots = 0;
        } else if (!strcmp(a, "--out")) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "tunescale compare: --out needs a folder (see --help)\n");
                rc = 2;
                break;
            }
            out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tunescale compare: unknown option '%s' (see --help)\n", a);
            rc = 2;
            break;
        } else {
            dirs[n++] = a;
        }
    }
    if (!rc && !n) {
        fprintf(stderr, "tunescale compare: missing DIR (see --help)\n");
        rc = 2;
    }
    if (rc) {
        free(dirs);
        return rc;
    }

    ts_compare c;
    ts_status st = ts_compare_build(dirs, n, 0, &c);
    if (st == TS_OK) st = ts_compare_save(&c, out ? out : dirs[0], plots);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: compare: %s\n", ts_last_error());
        rc = 1;
    } else if (json) {
        cJSON *doc = ts_compare_json(&c);
        char *text = doc ? cJSON_Print(doc) : NULL;
        if (text)
            printf("%s\n", text);
        else
            rc = 1, fprintf(stderr, "tunescale: compare: out of memory printing JSON\n");
        cJSON_free(text);
        cJSON_Delete(doc);
    } else {
        const char *why = NULL; /* plots skipped: ts_compare_save has said why */
        ts_compare_print(stdout, &c);
        printf("\nwrote %s/compare.md, compare.csv, compare.json%s\n", out ? out : dirs[0],
               plots && ts_plot_available(&why) ? " and plots/compare_tokens_per_s" : "");
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tunescale: compare: cannot write to stdout\n");
        rc = 1;
    }
    ts_compare_free(&c);
    free(dirs);
    return rc;
}
