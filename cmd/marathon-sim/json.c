/*
 * json.c: small helpers the simulator's modules share: Marathon timestamps,
 * uuids, tolerant JSON member access, parsing with Marathon's error texts,
 * and matching paths by prefix and suffix. Deep equality is
 * jsonutil_equal() and the monotonic clock pacer_now_ms() (reconcile/base).
 */
#include "cmd/marathon-sim/sim.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

void sim_format_ts(int64_t epoch_ms, char out[32])
{
	time_t secs = (time_t)(epoch_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	/* strftime keeps the compiler sure of the field widths; then the millis. */
	if (!strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm))
		out[0] = '\0';
	snprintf(out + strlen(out), 32 - strlen(out), ".%03dZ", (int)(epoch_ms % 1000));
}

void sim_timestamp(char out[32])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sim_format_ts((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

void sim_uuid(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* getrandom on Linux does not fail for 16 bytes; keep a fallback anyway. */
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

int64_t sim_json_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return dflt;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	/* Validation already refused fractions where Marathon wants integers;
	 * a 3.0 that got through is read as 3. */
	if (json_object_is_type(v, json_type_double))
		return (int64_t)json_object_get_double(v);
	return dflt;
}

double sim_json_double(struct json_object *o, const char *key, double dflt)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return dflt;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_double(v);
	return dflt;
}

const char *sim_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *sim_json_copy(struct json_object *o)
{
	struct json_object *copy = NULL;

	if (!o)
		return NULL;
	if (json_object_deep_copy(o, &copy, NULL))
		return NULL;
	return copy;
}

/*
 * json_tokener_parse() would accept "{} junk" and cannot say where a body
 * went wrong; Marathon's 400 names the offset, and a body must be one
 * document with nothing but whitespace after it.
 */
struct json_object *sim_json_parse(const char *text, size_t len, char *errbuf, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;
	enum json_tokener_error jerr;

	if (!tok) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		snprintf(errbuf, errlen, "Unexpected end-of-input at offset %zu", len);
		json_object_put(o);
		o = NULL;
	} else if (jerr != json_tokener_success) {
		snprintf(errbuf, errlen, "%s at offset %zu", json_tokener_error_desc(jerr),
			 json_tokener_get_parse_end(tok));
		json_object_put(o);
		o = NULL;
	} else if (json_tokener_get_parse_end(tok) < len) {
		size_t end = json_tokener_get_parse_end(tok);
		while (end < len && isspace((unsigned char)text[end]))
			end++;
		if (end < len) {
			snprintf(errbuf, errlen, "Unexpected character at offset %zu", end);
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

const char *sim_json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

char *sim_message_body(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	struct json_object *o = json_object_new_object();
	char *out;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "message", json_object_new_string(msg));
	out = strdup(sim_json_text(o));
	json_object_put(o);
	return out;
}

int sim_truthy(const char *s)
{
	return s && !strcasecmp(s, "true");
}

/* Routes and prefixes are matched by name, so no length is ever counted by hand. */
const char *sim_after_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

int sim_ends_with(const char *s, const char *suffix, size_t min_rest)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m + min_rest && !strcmp(s + n - m, suffix);
}
