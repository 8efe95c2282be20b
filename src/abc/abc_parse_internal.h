/*
 * abc_parse_internal.h — the parser's working state, shared by its three files:
 * abc_parse.c (lines, header and body fields), abc_music.c (the tokens of a music line) and
 * abc_bars.c (bar lengths against M:).
 */
#ifndef TS_ABC_ABC_PARSE_INTERNAL_H
#define TS_ABC_ABC_PARSE_INTERNAL_H

#include "abc/abc_internal.h"

#define ABC_MAX_VOICES 16
#define ABC_MAX_DIAGS  200

/* One bar as the checker sees it. */
typedef struct {
    abc_rat dur, meter; /* meter.n == 0: free meter */
    int open_flags, close_flags;
    int multirest, closed, voice, meter_num;
    int line, col; /* the closing bar line, or the bar's first note when unclosed */
} abc_bar_rec;

/* Musical state that each voice keeps for itself. */
typedef struct {
    char id[32];
    abc_key key;
    abc_rat unit, meter;
    int meter_num;
    int8_t bar_acc[7];          /* bar-scoped accidental per letter; 127 = none */
    int8_t bar_acc_oct[7 * 16]; /* per letter and octave (%%propagate-accidentals octave) */
    /* the last note group (a note, or a chord's notes): broken rhythm and ties act on it */
    size_t grp0, grp1;
    int have_grp;
    int grp_written_three;       /* the note was written with length 3: abc2midi's long roll */
    abc_rat broken_next;         /* factor for the next group, n == 0: none */
    abc_rat broken_undo;         /* undoes the factor given to the group before the '>' */
    size_t broken_p0, broken_p1; /* that group's events */
    int broken_line, broken_col;
    /* tuplet in progress */
    int tup_left, tup_p;
    abc_rat tup_factor;
    int tup_line, tup_col;
    /* notes tied from the previous group: their pitches continue */
    int tied_pitch[8], tied_letter[8], tied_oct[8], n_tied;
    /* the bar being filled */
    abc_rat bar_dur;
    size_t bar_ev0; /* first event of the bar */
    int bar_open_flags, bar_has_music, bar_multirest, bar_line, bar_col;
    int bars_seen;
} abc_voice;

typedef struct {
    const char *s;
    size_t len;
    abc_tune *t;
    int line_no;              /* 1-based line of the current line */
    size_t line_start;        /* its offset */
    size_t col_line, col_pos; /* abc_col's memory: line start, position and column there */
    int col_val;
    abc_voice v[ABC_MAX_VOICES];
    int cur; /* current voice */
    int n_voices;
    int in_body, saw_key, saw_unit, saw_meter;
    abc_key hdr_key;
    abc_rat hdr_unit, hdr_meter;
    int hdr_meter_num, hdr_unit_set;
    int slur_depth, slur_line, slur_col;
    int propagate;      /* 0 not, 1 octave, 2 pitch (abc2midi's default) */
    int user_syms[128]; /* U: definitions: 1 = a decoration letter is defined */
    abc_bar_rec *bars;
    size_t n_bars, cap_bars;
} abc_parser;

/* Diagnostics at a byte offset of the current line, or at a known line/column. */
void abc_diag(abc_parser *p, size_t pos, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void abc_diag_at(abc_parser *p, int line, int col, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A warning for syntax outside ABC 2.1 that the reference tools read; `ext` names it. */
void abc_ext(abc_parser *p, size_t pos, const char *ext, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 1-based column (UTF-8 characters) of pos on the current line. Remembers the last answer, so
 * that walking a line left to right costs its length once, not once per token. */
int abc_col(abc_parser *p, size_t pos);

abc_event *abc_push_event(abc_parser *p, int kind, size_t pos);

/* Music line s[b..e): notes, bars, chords, decorations, inline fields. */
void abc_parse_music(abc_parser *p, size_t b, size_t e);
/* A field (letter, value s[b..e)) in the body or inline; `pos` is where the field starts. */
void abc_body_field(abc_parser *p, char letter, size_t b, size_t e, size_t pos);
/* Ends the bar being filled (a bar line of `flags` at pos) or, at the end of the tune, flushes. */
void abc_bar_close(abc_parser *p, int flags, size_t pos, int at_end);
/* Fills bars_total / bars_consistent and warns about bars of the wrong length. */
void abc_bars_finish(abc_parser *p);
void abc_voice_reset_bar(abc_voice *v);

#endif
