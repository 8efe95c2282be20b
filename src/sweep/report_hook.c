/* report_hook.c — the report at the end of a sweep: summary.md, summary.csv and plots/. */
#include <stdio.h>

#include "analysis/plot.h"
#include "analysis/report.h"

int ts_sweep_report(const char *dir, int quiet);

int ts_sweep_report(const char *dir, int quiet) {
    ts_report_options opt;
    ts_report_options_default(&opt);
    opt.quiet = quiet;
    opt.allow_dirty = 1; /* a working summary, not a publication: the caveats say dirty */
    opt.html = 1;        /* the one file to open or share */
    if (ts_report_write(dir, &opt) != TS_OK) {
        fprintf(stderr, "tunescale sweep: report: %s\n", ts_last_error());
        return 1;
    }
    const char *why = NULL; /* plots skipped: the report has said why */
    if (!quiet)
        fprintf(stderr,
                "tunescale sweep: report in %s/report.html (also summary.md, summary.csv%s)\n", dir,
                ts_plot_available(&why) ? ", plots/" : "");
    return 0;
}
