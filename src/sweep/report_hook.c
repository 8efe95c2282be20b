/* report_hook.c — the report at the end of a sweep: summary.md, summary.csv and plots/. */
#include <stdio.h>

#include "analysis/report.h"

int ts_sweep_report(const char *dir, int quiet);

int ts_sweep_report(const char *dir, int quiet) {
    ts_report_options opt;
    ts_report_options_default(&opt);
    opt.quiet = quiet;
    if (ts_report_write(dir, &opt) != TS_OK) {
        fprintf(stderr, "tunescale sweep: report: %s\n", ts_last_error());
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "tunescale sweep: summary in %s/summary.md (also summary.csv, plots/)\n",
                dir);
    return 0;
}
