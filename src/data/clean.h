/*
 * clean.h — per-tune text cleaning.
 *
 * Default (line-preserving, because ABC is line-structured: header fields are lines and a blank
 * line ends a tune): normalise line endings, drop comment lines (starting with '%'), trim each
 * line, collapse runs of spaces and tabs inside a line to one space, and drop empty lines.
 *
 * Seed (the notebook's clean_abc_tune, kept for comparison): ' '.join(tune.split()) collapses
 * all whitespace, newlines included, to single spaces; then any "line" of 500 characters or more
 * is dropped — which, as the text is now one line, empties every tune of 500+ characters.
 */
#ifndef TS_DATA_CLEAN_H
#define TS_DATA_CLEAN_H

#include <stddef.h>

typedef enum { TS_CLEAN_DEFAULT, TS_CLEAN_SEED } ts_clean_mode;

/* Cleans text in place (the result is never longer); returns the new byte length. */
size_t ts_clean_tune(char *text, ts_clean_mode mode);

#endif
