/*
 * cmd_report.c — `tunescale report DIR`: scaling-law fits, tables and plots for a result set.
 *
 * The work is in src/analysis/report.h (a sweep calls ts_report_write itself); this file parses
 * options and chooses between the terminal table and one JSON document on stdout.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"
#include "cli/commands.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: tunescale report DIR [--html] [--json] [--no-plots] [--bootstrap N] [--seed S]\n"
        "                        [--allow-dirty]\n\n"
        "Reads the runs a sweep's manifest (DIR/sweep.json) names, or every result.json below\n"
        "DIR when it has none (a finalize retraining is always left out), fits\n"
        "L(N) = a*N^-alpha + c to the validation loss per backend and model family (on all\n"
        "parameters and on non-embedding parameters), and writes into DIR:\n\n"
        "  summary.md     fits (alpha with its bootstrap 95%% interval, a, c, R2) and runs\n"
        "  summary.csv    one row per run: backend, device, family, model, params, loss,\n"
        "                 perplexity, time, tokens/s, GFLOP/s, MFU, peak memory, status\n"
        "  summary.json   the same, machine-readable (also what --json prints)\n"
        "  plots/         val_loss_vs_params, perplexity_vs_params,\n"
        "                 train_loss_vs_tokens_<backend>, tokens_per_s (.svg and .png)\n"
        "  report.html    with --html: all of it in one self-contained page (system,\n"
        "                 commands, fits, runs, plots, caveats) to share or print\n\n"
        "Runs that were skipped (out of memory), failed or marked invalid (tunescale\n"
        "invalidate) are listed with their status but do not enter fits or plots. A fit\n"
        "spans runs of one dataset, token budget, lr schedule and precision only. A family\n"
        "with fewer than 3 sizes gets no fit, with 3 a point fit without interval; a fit with\n"
        "alpha <= 0 or c < 0 is flagged; an MFU above 100%% is shown as a data error. A\n"
        "result.json that cannot be read is skipped with a warning.\n\n"
        "options:\n"
        "  --html          also write report.html\n"
        "  --allow-dirty   publish runs trained by a build with local edits (marked so)\n"
        "  --json          print summary.json on stdout instead of the tables\n"
        "  --no-plots      skip plots/\n"
        "  --bootstrap N   resamples for the alpha interval (default 1000; 0: none)\n"
        "  --seed S        bootstrap seed (default 42)\n"
        "  -h, --help      this text\n\n"
        "exit codes: 0 ok, 1 runtime failure (no such folder, no result.json), 2 usage (also:\n"
        "runs from a dirty build without --allow-dirty)\n");
}

static int parse_count(const char *opt, const char *text, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 0 || v > max) {
        fprintf(stderr, "tunescale report: %s takes 0..%ld (got '%s')\n", opt, max, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cmd_report(int argc, char **argv) {
    ts_report_options opt;
    ts_report_options_default(&opt);
    const char *dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--html")) {
            opt.html = 1;
        } else if (!strcmp(a, "--allow-dirty")) {
            opt.allow_dirty = 1;
        } else if (!strcmp(a, "--no-plots")) {
            opt.plots = 0;
        } else if (!strcmp(a, "--bootstrap") || !strcmp(a, "--seed")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tunescale report: %s needs a value (see --help)\n", a);
                return 2;
            }
            if (!parse_count(a, argv[++i], !strcmp(a, "--seed") ? 0x7fffffffL : 1000000L, &v))
                return 2;
            if (!strcmp(a, "--seed"))
                opt.seed = (uint64_t)v;
            else
                opt.bootstrap = (int)v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tunescale report: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (dir) {
            fprintf(stderr, "tunescale report: one DIR only (got '%s' and '%s')\n", dir, a);
            return 2;
        } else {
            dir = a;
        }
    }
    if (!dir) {
        fprintf(stderr, "tunescale report: missing DIR (see --help)\n");
        return 2;
    }

    ts_report rep;
    ts_status st = ts_report_build(dir, &opt, &rep);
    if (st == TS_OK) st = ts_report_save(&rep);
    if (st != TS_OK) {
        fprintf(stderr, "tunescale: report: %s\n", ts_last_error());
        ts_report_free(&rep);
        return st == TS_EUSAGE ? 2 : 1;
    }
    int rc = 0;
    if (json) {
        cJSON *doc = ts_report_json(&rep);
        char *text = doc ? cJSON_Print(doc) : NULL;
        if (text)
            printf("%s\n", text);
        else
            rc = 1, fprintf(stderr, "tunescale: report: out of memory printing JSON\n");
        cJSON_free(text);
        cJSON_Delete(doc);
    } else {
        ts_report_print(stdout, &rep);
        printf("\nwrote %s/summary.md, summary.csv, summary.json%s%s\n", rep.dir,
               rep.plots_made ? ", plots/" : "", opt.html ? " and report.html" : "");
        if (opt.html) printf("share this one file: %s/report.html\n", rep.dir);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tunescale: report: cannot write to stdout\n");
        rc = 1;
    }
    ts_report_free(&rep);
    return rc;
}
