/*
 * fuzz_sim_request: requests to marathon-sim's Marathon API as a client may
 * send them, without a socket: the query decoded (sim_req_parse_query), the
 * path cleaned (sim_clean_path), the JSON body read and applied
 * (server_route: /v2/apps, /v2/groups, /v2/deployments, /v2/tasks...), the
 * deployments advanced (deploy_tick) after each, on a fresh simulator per
 * input. Every answer must be a status and a body.
 *
 * An input starting with a request line ("PUT /v2/apps/x?force=true\n") is
 * one or more requests separated by "\n====\n", each a request line then
 * its body. Any other input is a JSON body (a seed app or group), sent as a
 * client would: POST /v2/apps, PUT /v2/apps (bulk) or PUT /v2/groups by the
 * input's length, then read back through the GET endpoints.
 */
#include "cmd/marathon-sim/sim.h"
#include "tests/fuzz/fuzzlib.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static const char *const writes[] = {"POST /v2/apps", "PUT /v2/apps?force=true",
                                     "PUT /v2/groups?force=true"};
static const char *const reads[] = {"GET /v2/apps?embed=apps.tasks&embed=apps.counts",
                                    "GET /v2/groups?embed=group.apps&embed=group.groups",
                                    "GET /v2/deployments", "GET /v2/tasks", "GET /v2/queue",
                                    "DELETE /v2/groups?force=true"};

/* One request: line is "METHOD URI" (len bytes), body its body. */
static void request(struct sim *s, const char *line, size_t len, const char *body, size_t blen)
{
	char *copy = fuzz_strndup(line, len), *uri = strchr(copy, ' '), *q;
	struct sim_req r;
	struct sim_resp resp;

	if (!uri) {
		free(copy);
		return;
	}
	*uri++ = '\0';
	memset(&r, 0, sizeof(r));
	memset(&resp, 0, sizeof(resp));
	r.method = copy;
	r.body = body;
	r.body_len = blen;
	r.accept = "application/json";
	strcpy(r.client_ip, "127.0.0.1");
	q = strchr(uri, '?');
	r.query = q ? q + 1 : "";
	if (sim_req_parse_query(&r, r.query))
		abort();
	if (q)
		*q = '\0';
	if (!(r.path = sim_clean_path(uri)))
		abort();
	server_route(s, &r, &resp);
	if (resp.status < 100 || resp.status > 599)
		abort(); /* an answer without a status */
	deploy_tick(s);
	free(resp.body);
	free(resp.location);
	resp_headers_free(&resp);
	free(r.path);
	sim_req_release_args(&r);
	free(copy);
}

static int starts_with_method(const uint8_t *data, size_t size)
{
	size_t i = 0;

	while (i < size && data[i] >= 'A' && data[i] <= 'Z')
		i++;
	return i > 0 && i + 1 < size && data[i] == ' ' && data[i + 1] == '/';
}

static void requests(struct sim *s, const char *p, size_t n)
{
	const char *req, *rest, *line, *body;
	size_t rlen, restlen, llen, blen;

	do {
		int more = fuzz_split((const uint8_t *)p, n, "\n====\n", &req, &rlen, &rest, &restlen);

		fuzz_split((const uint8_t *)req, rlen, "\n", &line, &llen, &body, &blen);
		request(s, line, llen, body, blen);
		if (!more)
			break;
		p = rest;
		n = restlen;
	} while (1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s || sim_init(s))
		abort();
	s->cfg.task_launch_ms = 0;
	s->cfg.health_ms = 0;
	s->cfg.kill_ms = 0;
	if (starts_with_method(data, size)) {
		requests(s, (const char *)data, size);
	} else {
		const char *w = writes[size % 3];

		request(s, w, strlen(w), (const char *)data, size);
		for (size_t i = 0; i < sizeof(reads) / sizeof(*reads); i++)
			request(s, reads[i], strlen(reads[i]), NULL, 0);
	}
	sim_release(s);
	free(s);
	return 0;
}
