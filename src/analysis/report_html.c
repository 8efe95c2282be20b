#include "analysis/report.h"
ts_status ts_report_write_html(const ts_report *rep, const char *path) {
    (void)rep;
    return ts_set_error("%s: not yet", path);
}
