/*
 * format.c — number formatting shared by the report and compare tables: SI prefixes for sizes
 * and rates, binary units for memory, and CSV field quoting.
 */
#include "analysis/format.h"

#include <math.h>
#include <string.h>

const char *ts_fmt_si(double v, char *buf, size_t cap) {
    static const char *prefix[] = {"", "k", "M", "G", "T", "P"};
    if (!isfinite(v)) {
        snprintf(buf, cap, "-");
        return buf;
    }
    int p = 0;
    double a = fabs(v);
    while (a >= 999.5 && p < 5) {
        a /= 1000.0;
        v /= 1000.0;
        p++;
    }
    snprintf(buf, cap, "%.3g%s", v, prefix[p]);
    return buf;
}

const char *ts_fmt_bytes(double v, char *buf, size_t cap) {
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (!isfinite(v)) {
        snprintf(buf, cap, "-");
        return buf;
    }
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

const char *ts_fmt_num(double v, const char *fmt, char *buf, size_t cap) {
    if (!isfinite(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, fmt, v);
    return buf;
}

void ts_csv_str(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void ts_csv_num(FILE *f, double v) {
    /* %.10g keeps every digit a result.json carries that matters; missing is an empty field */
    if (isfinite(v)) fprintf(f, "%.10g", v);
}

void ts_md_str(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
    }
}

void ts_json_num(cJSON *o, const char *key, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

const char *ts_relpath(const char *path, const char *root) {
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (!strncmp(path, root, n) && path[n] == '/') return path + n + 1;
    return path;
}
