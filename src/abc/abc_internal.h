/*
 * abc_internal.h — what the parser hands to the checker and the MIDI renderer.
 *
 * The parser turns one tune into a flat list of events per text order (notes, rests, bar lines,
 * tempo changes), already resolved to MIDI pitches and exact durations: key signature,
 * bar-scoped accidentals, broken rhythm and tuplets are applied while parsing, because they
 * depend only on text order. Repeats, ties and ornaments are left to the renderer.
 * Not here: layout, lyrics, chord-symbol accompaniment.
 */
#ifndef TS_ABC_ABC_INTERNAL_H
#define TS_ABC_ABC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "abc/abc.h"

/* ---- exact durations: fractions of a whole note ---------------------------------------- */

typedef struct {
    int64_t n, d; /* d > 0, reduced */
} abc_rat;

abc_rat abc_rat_make(int64_t n, int64_t d);
abc_rat abc_rat_add(abc_rat a, abc_rat b);
abc_rat abc_rat_sub(abc_rat a, abc_rat b);
abc_rat abc_rat_mul(abc_rat a, abc_rat b);
int abc_rat_cmp(abc_rat a, abc_rat b);
/* Ticks at 480 per quarter note (1920 per whole), rounded to nearest. */
int64_t abc_rat_ticks(abc_rat a);

/* ---- header field values ---------------------------------------------------------------- */

typedef struct {
    int sharps;    /* -7..7 from tonic and mode */
    int8_t acc[7]; /* per letter C..B: semitone shift the key gives (-2..2) */
    int none;      /* K:none: no key accidentals */
} abc_key;

/* Parses a K: value. Returns 1 ok, 0 bad; *warn gets a message for accepted oddities. */
int abc_parse_key(const char *s, size_t len, abc_key *k, char *warn, size_t wlen);
/* M: value. Returns 1 ok (meter->n == 0 for "none"), 0 bad. */
int abc_parse_meter(const char *s, size_t len, abc_rat *meter, int *num, int *den);
/* L: value. */
int abc_parse_unit(const char *s, size_t len, abc_rat *unit);
/* Q: value: microseconds per quarter note. Returns 1 ok, 0 bad. */
int abc_parse_tempo(const char *s, size_t len, abc_rat unit, long *us_per_quarter);
/* Header P: value: the parts in playing order, "A2B" -> "AAB", "(AB)2C" -> "ABABC"; '.',
 * spaces and other characters are ignored. Writes at most cap letters; returns how many. */
int abc_expand_parts(const char *s, size_t len, char *out, int cap);
#define ABC_MAX_PARTS 256

/* ---- events ------------------------------------------------------------------------------ */

enum {
    ABC_EV_NOTE,
    ABC_EV_REST,  /* dur is the rest; multi-bar rests are expanded to their length */
    ABC_EV_BAR,   /* any bar line */
    ABC_EV_TEMPO, /* inline Q: */
    ABC_EV_PART,  /* P: in the body: a part starts here (for every voice); `letter` = 'A'.. */
};

/* Note flags. */
enum {
    ABC_N_TIE = 1,        /* tied to the next note of the same pitch */
    ABC_N_STACCATO = 2,   /* '.' */
    ABC_N_TRILL = 4,      /* T, !trill! */
    ABC_N_ROLL = 8,       /* ~, !roll! */
    ABC_N_CHORD = 16,     /* part of a chord: sounds with the chord's first note */
    ABC_N_CHORD_END = 32, /* last note of a chord: the chord's time advances here */
    ABC_N_LEN3 = 64,      /* written with length 3 (abc2midi plays ~ as a five-note roll) */
    ABC_N_BROKEN_A = 128, /* NOTE, REST: first of a broken-rhythm pair ('>' after it) */
    ABC_N_BROKEN_B = 256  /* NOTE, REST: second of a broken-rhythm pair */
};

/* Bar flags. */
enum {
    ABC_B_REPEAT_START = 1, /* |: */
    ABC_B_REPEAT_END = 2,   /* :| */
    ABC_B_DOUBLE = 4,       /* || [| |] : ends a section */
    ABC_B_ENDING = 8        /* starts an ending; see `endings` */
};

typedef struct {
    uint8_t kind, voice;
    uint16_t flags;
    int pitch;            /* NOTE: MIDI number */
    abc_rat dur;          /* NOTE, REST: sounding length; for a chord note, its own length */
    abc_rat advance;      /* NOTE, REST: time to the next event (0 inside a chord) */
    uint32_t endings;     /* BAR with ABC_B_ENDING: bit i set = ending i+1 */
    long tempo;           /* TEMPO: microseconds per quarter */
    int bar_ok;           /* BAR: -1 not counted, 0 inconsistent, 1 consistent */
    int8_t letter;        /* NOTE: 0..6 for C..B; PART: the part's letter */
    uint8_t upper, lower; /* NOTE: the diatonic neighbours in the key (trills, rolls) */
    abc_rat unit;         /* NOTE: L: when written (abc2midi times roll graces by it) */
    abc_rat broken;       /* NOTE, REST: factor broken rhythm gave dur and advance; n 0: none */
    int16_t written;      /* NOTE: the pitch of the letter and octave marks, no accidentals */
    int line, col;        /* where it came from */
} abc_event;

typedef struct {
    abc_event *ev;
    size_t n, cap;
    ts_abc_diag *diag;
    int n_diag, cap_diag;
    int n_errors, n_warnings, n_extensions;
    int oom;
    int n_voices;
    int has_key;  /* a K: field was seen */
    int hornpipe; /* R: starts with "hornpipe": abc2midi swings eighth-note pairs */
    char title[128];
    long tempo;                /* header Q:, microseconds per quarter */
    char parts[ABC_MAX_PARTS]; /* header P: expanded: the parts in playing order */
    int n_parts;               /* 0: no P: in the header, the body plays as written */
    int meter_num, meter_den;  /* header M: for the conductor track; 0 = none */
    int key_sharps, key_minor;
    int bars_total, bars_consistent;
} abc_tune;

/* Parses the first tune of text[0..len). Returns 0, or -1 out of memory (tune freed). */
int abc_parse_tune(const char *text, size_t len, abc_tune *t);
void abc_tune_free(abc_tune *t);

/* ---- MIDI -------------------------------------------------------------------------------- */

typedef struct {
    int voice, pitch;
    int64_t on, off; /* ticks */
} abc_midi_note;

/* Plays the tune: repeats expanded, ties joined, ornaments as abc2midi plays them.
 * Returns the notes (malloc'd, sorted by onset) or NULL with *n = 0 on empty/out of memory. */
abc_midi_note *abc_render(const abc_tune *t, size_t *n, int64_t *end_tick, int *oom);

/* abc2midi's hornpipe swing (midi_swing.c); changes the events' lengths. */
void abc_hornpipe_swing(abc_tune *t);

/* SMF format 1 bytes (conductor track + one track per voice), malloc'd. */
unsigned char *abc_smf_build(const abc_tune *t, const abc_midi_note *notes, size_t n,
                             int64_t end_tick, size_t *out_len);

#endif
