/*
 * split.h: hand out the elements of one array member of a JSON reply
 * without parsing the whole reply (GET /v2/apps of 10,000 apps is ~25 MB;
 * as one json-c tree it costs ten times that).
 *
 * The scan only finds where each value starts and ends (strings with their
 * escapes, nesting); each element is then parsed on its own by whoever
 * receives it, which is where a malformed element is reported.
 */
#ifndef PACER_MARATHON_SPLIT_H
#define PACER_MARATHON_SPLIT_H

#include <stddef.h>

/* Called once per element: data/len are the element's bytes (borrowed). */
typedef int (*split_elem_cb)(void *ctx, const char *data, size_t len);

/*
 * data must hold one JSON object; for its top-level member `key`, which must
 * be an array, call cb with each element in order. Returns 0 when done, 1
 * when data is not such an object (not an object, no such member, not an
 * array, or bytes that do not scan as JSON), or what cb returned when it
 * returned non-zero (which stops the scan).
 */
int split_array_member(const char *data, size_t len, const char *key, split_elem_cb cb, void *ctx);

#endif
