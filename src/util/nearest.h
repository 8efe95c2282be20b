/*
 * nearest.h — "did you mean" for a mistyped name: the closest of the valid names by edit
 * distance, when it is close enough to be a typo rather than another word.
 */
#ifndef TS_UTIL_NEAREST_H
#define TS_UTIL_NEAREST_H

#include <stddef.h>

/* The name among names[0..n) nearest to s (Levenshtein, case-insensitive), or NULL when the
 * nearest needs more than a third of its length in edits (at least 2 allowed). */
const char *ts_nearest_name(const char *s, const char *const *names, size_t n);

#endif
