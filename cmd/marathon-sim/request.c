/*
 * request.c: what a request says apart from its connection: the path
 * cleaned, the query arguments decoded, the JSON body. Free of
 * libmicrohttpd, so that request handling can be driven with plain bytes
 * (tests/fuzz/fuzz_sim_request.c does).
 */
#include "cmd/marathon-sim/sim.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* 0-15 for a hex digit, -1 otherwise. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A copy of n bytes of form-encoded text, decoded as libmicrohttpd decodes
 * query arguments: '+' is a space, %XX a byte (a '%' without two hex
 * digits after it stays as it is). NULL when out of memory.
 */
static char *form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t j = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi = -1, lo = -1;

		if (s[i] == '%' && i + 2 < n) {
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
		}
		if (s[i] == '+') {
			out[j++] = ' ';
		} else if (hi >= 0 && lo >= 0) {
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

/* Append one "key[=value]" of n bytes to r->args. Returns 0, or -1 when out of memory. */
static int add_arg(struct sim_req *r, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	char **v = realloc(r->args, (r->nargs + 2) * sizeof(*v));

	if (!v)
		return -1;
	r->args = v;
	v[r->nargs] = form_decode(s, klen);
	v[r->nargs + 1] = eq ? form_decode(eq + 1, n - klen - 1) : NULL;
	if (!v[r->nargs] || (eq && !v[r->nargs + 1])) {
		free(v[r->nargs]);
		free(v[r->nargs + 1]);
		return -1;
	}
	r->nargs += 2;
	return 0;
}

int sim_req_parse_query(struct sim_req *r, const char *query)
{
	const char *p = query;

	sim_req_release_args(r);
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);

		if (n && add_arg(r, p, n))
			return -1;
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

void sim_req_release_args(struct sim_req *r)
{
	for (size_t i = 0; i < r->nargs; i++)
		free(r->args[i]);
	free(r->args);
	r->args = NULL;
	r->nargs = 0;
}

const char *req_arg(struct sim_req *r, const char *name)
{
	for (size_t i = 0; i < r->nargs; i += 2)
		if (!strcmp(r->args[i], name))
			return r->args[i + 1];
	return NULL;
}

int req_bool(struct sim_req *r, const char *name, int dflt)
{
	const char *v = req_arg(r, name);

	if (!v)
		return dflt;
	return sim_truthy(v);
}

const char **req_args(struct sim_req *r, const char *name)
{
	const char **vals = calloc(r->nargs / 2 + 1, sizeof(*vals));
	size_t n = 0;

	if (!vals)
		return NULL;
	for (size_t i = 0; i < r->nargs; i += 2)
		if (r->args[i + 1] && !strcmp(r->args[i], name))
			vals[n++] = r->args[i + 1];
	return vals;
}

struct json_object *req_json(struct sim_req *r, struct sim_resp *resp)
{
	char err[256];
	struct json_object *o;
	size_t i = 0;

	while (i < r->body_len && (r->body[i] == ' ' || r->body[i] == '\n' || r->body[i] == '\r' || r->body[i] == '\t'))
		i++;
	if (i == r->body_len) {
		struct json_object *b = json_object_new_object();
		json_object_object_add(b, "message", json_object_new_string("Please specify data in JSON format"));
		json_object_object_add(b, "details", json_object_new_string("The request body was empty. Send a JSON document."));
		resp_json(resp, 400, b);
		return NULL;
	}
	o = sim_json_parse(r->body, r->body_len, err, sizeof(err));
	if (!o) {
		struct json_object *b = json_object_new_object();
		json_object_object_add(b, "message", json_object_new_string("Invalid JSON"));
		json_object_object_add(b, "details", json_object_new_string(err));
		resp_json(resp, 400, b);
	}
	return o;
}

/* "/v2//apps/" -> "/v2/apps" */
char *sim_clean_path(const char *url)
{
	size_t n = strlen(url), j = 0;
	char *p = malloc(n + 2);

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (url[i] == '/' && j && p[j - 1] == '/')
			continue;
		p[j++] = url[i];
	}
	while (j > 1 && p[j - 1] == '/')
		j--;
	if (!j || p[0] != '/') {
		memmove(p + 1, p, j);
		p[0] = '/';
		j++;
	}
	p[j] = '\0';
	return p;
}

