/*
 * format.h — number formatting for the report and compare tables. A missing number (NAN) reads
 * "-" in text tables, an empty field in CSV and null in JSON.
 */
#ifndef TS_ANALYSIS_FORMAT_H
#define TS_ANALYSIS_FORMAT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* 1234567 -> "1.23M", 45600 -> "45.6k" (three significant digits). */
const char *ts_fmt_si(double v, char *buf, size_t cap);
/* 1.5e9 -> "1.4 GiB". */
const char *ts_fmt_bytes(double v, char *buf, size_t cap);
/* printf of one double with fmt, or "-". */
const char *ts_fmt_num(double v, const char *fmt, char *buf, size_t cap);

/* One CSV field, quoted when it holds a comma, quote or newline (RFC 4180). */
void ts_csv_str(FILE *f, const char *s);
void ts_csv_num(FILE *f, double v);
/* Text for a Markdown table cell: '|' escaped, newlines as spaces. */
void ts_md_str(FILE *f, const char *s);
/* A number, or null when not finite. */
void ts_json_num(cJSON *o, const char *key, double v);

/* path below root without the "root/" prefix (or path itself). */
const char *ts_relpath(const char *path, const char *root);

#endif
