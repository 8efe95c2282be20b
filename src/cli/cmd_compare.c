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
    fprintf(
        out,
        "usage: tunescale compare DIR|--label NAME=DIR [...] [--out DIR] [--json] [--no-plots]\n\n"
        "Joins result sets (folders of result.json files, e.g. sweeps from several machines)\n"
        "into one table. Each (DIR, backend, device) is one set, so a single sweep folder\n"
        "with several backends compares them. Rows are models matched by family and name;\n"
        "per set: validation loss, tokens/s and peak memory, and the ratio of tokens/s and\n"
        "of memory against the FIRST set (the first backend found in the first DIR).\n"
        "A set's cell is its first run of the model with status ok; a model that was\n"
        "skipped, failed or invalidated shows its status. A sweep folder gives the runs its\n"
        "manifest names; a finalize retraining is never compared. Sets are named by the\n"
        "folder's last component, or by --label.\n\n"
        "Writes compare.md, compare.csv (one row per model and set), compare.json and\n"
        "plots/compare_tokens_per_s.svg/.png into the --out folder.\n\n"
        "options:\n"
        "  --label NAME=DIR  compare DIR under the name NAME (in tables and legends)\n"
        "  --out DIR     where to write the files (default: the first DIR)\n"
        "  --json        print compare.json on stdout instead of the table\n"
        "  --no-plots    skip the plot\n"
        "  -h, --help    this text\n\n"
        "exit codes: 0 ok, 1 runtime failure (no such folder, no result.json), 2 usage\n");
}

int cmd_compare(int argc, char **argv) {
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    char **names = calloc((size_t)argc + 1, sizeof *names);
    if (!dirs || !names) {
        fprintf(stderr, "tunescale: compare: out of memory\n");
        free(dirs), free(names);
        return 1;
    }
    const char *out = NULL;
    int json = 0, plots = 1, rc = 0;
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(dirs), free(names);
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
        } else if (!strcmp(a, "--label")) {
            const char *eq = i + 1 < argc ? strchr(argv[i + 1], '=') : NULL;
            if (!eq || eq == argv[i + 1] || !eq[1]) {
                fprintf(stderr, "tunescale compare: --label takes NAME=DIR, e.g. --label "
                                "h200=results/h200/sweep (see --help)\n");
                rc = 2;
                break;
            }
            i++;
            names[n] = strndup(argv[i], (size_t)(eq - argv[i]));
            dirs[n++] = eq + 1;
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
        for (size_t k = 0; k < n; k++)
            free(names[k]);
        free(dirs), free(names);
        return rc;
    }

    ts_compare c;
    ts_status st = ts_compare_build_named(dirs, (const char *const *)names, n, 0, &c);
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
    for (size_t k = 0; k < n; k++)
        free(names[k]);
    free(dirs), free(names);
    return rc;
}
