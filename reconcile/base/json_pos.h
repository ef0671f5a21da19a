/*
 * json_pos.h: positions (byte offsets, line:col) inside JSON text.
 *
 * json-c builds objects without remembering where they were in the file, but
 * every message about a desired-state file must say file:line:col. This is a
 * light scanner over text that json-c has already accepted as well-formed
 * JSON: it finds where a member or an array element starts, without building
 * anything. Results on malformed text are unspecified but always stay inside
 * the buffer (nothing here reads past data + len).
 *
 * Offsets are byte offsets into data. Lines are 1-based; columns are 1-based
 * and count characters (UTF-8 code points), so they match what an editor
 * shows. A tab counts as one column.
 */
#ifndef PACER_JSON_POS_H
#define PACER_JSON_POS_H

#include <stddef.h>

/*
 * Line and column of byte `offset` (clamped to len) by scanning from the
 * start. O(offset): use a struct json_pos_lines for many lookups.
 */
void json_pos_linecol(const char *data, size_t len, size_t offset, int *line, int *col);

/* A line index for repeated lookups in one buffer. */
struct json_pos_lines {
	const char *data; /* borrowed */
	size_t len;
	size_t *starts; /* offset of each line's first byte; owned */
	size_t nlines;
};

/*
 * Index the lines of data (borrowed: it must outlive the index).
 * Returns 0, or -1 when out of memory. Release with json_pos_lines_release().
 */
int json_pos_lines_init(struct json_pos_lines *l, const char *data, size_t len);
void json_pos_lines_release(struct json_pos_lines *l);
/* Line and column of `offset`, O(log lines + line length). */
void json_pos_lines_get(const struct json_pos_lines *l, size_t offset, int *line, int *col);

/* Offset of the first byte of the JSON value at or after `offset` (skips whitespace). */
size_t json_pos_skip_ws(const char *data, size_t len, size_t offset);

/*
 * Offset just after the JSON value starting at `offset` (whitespace before
 * it is skipped). Strings, nested objects and arrays are skipped whole.
 */
size_t json_pos_skip_value(const char *data, size_t len, size_t offset);

/*
 * One pass over JSON text for what json-c lets through: the offset of the
 * first control character (a byte below 0x20) inside a string, or len when
 * there is none. *colons gets the ':' outside strings before that offset:
 * one per object member written, in text json-c accepted. Outside a string
 * every '"' opens one; inside, a backslash escapes the byte after it,
 * whatever it is (so an escaped control character is not reported).
 */
size_t json_pos_scan_strings(const char *data, size_t len, size_t *colons);

/*
 * The object starting at obj_off: *out is the offset of the value of member
 * `key` (the last one when a key is repeated, as json-c keeps the last).
 * Keys are compared as written, so a key spelled with escapes does not
 * match. Returns 0, or -1 when obj_off is not an object or has no such key.
 */
int json_pos_member(const char *data, size_t len, size_t obj_off, const char *key, size_t *out);

/*
 * The array starting at arr_off: *out (caller frees with free()) receives
 * the offset of each element, *n their count. Returns 0, or -1 when out of
 * memory or arr_off is not an array (then *out is NULL and *n 0).
 */
int json_pos_elements(const char *data, size_t len, size_t arr_off, size_t **out, size_t *n);

/*
 * A key written more than once in one object. json-c (like Marathon's
 * parser) silently keeps the last value, so the scanner reports them.
 */
struct json_pos_dup {
	char *key;      /* the key with escapes decoded ("\u0063pus" is "cpus"); owned */
	size_t keylen;  /* bytes in key (a decoded key may hold a NUL) */
	size_t first;   /* offset of the first occurrence's opening quote */
	size_t again;   /* offset of this later occurrence's opening quote */
	int same_value; /* 1 when both values are the same bytes: nothing is lost */
};

/*
 * Every repeated key of every object in data, nested ones included: a key
 * written n times in one object gives n - 1 entries, each against the
 * first occurrence, ordered by `again`. Keys are compared after decoding
 * escapes, as json-c compares them. *out (free with json_pos_dups_free())
 * is NULL and *n 0 when there are none. Returns 0, or -1 when out of memory
 * (then *out is NULL and *n 0). One pass over data; an object's keys are
 * compared pairwise when it has few, sorted when it has many.
 */
int json_pos_duplicates(const char *data, size_t len, struct json_pos_dup **out, size_t *n);
void json_pos_dups_free(struct json_pos_dup *v, size_t n);

#endif
