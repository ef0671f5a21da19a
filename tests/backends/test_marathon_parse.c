/*
 * The parts of backends/marathon that need no server: the SSE parser fed
 * byte by byte, app-id encoding, URL cleaning, options and construction.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/marathon/client.h"
#include "backends/marathon/events.h"
#include "backends/marathon/http.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/log.h"
#include "tests/lib/testlib.h"

struct seen {
	struct pacer_buf log; /* "type=<data>\n" per event */
	int stop_after;       /* > 0: ask to stop after that many events */
	int n;
};

static int record(void *ctx, const char *type, struct json_object *data)
{
	struct seen *s = ctx;

	pacer_buf_printf(&s->log, "%s=%s\n", type,
	                 json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

/* Feed `text` in chunks of `chunk` bytes; return the log (caller frees). */
static char *parse_chunked(const char *text, size_t chunk, int stop_after, int *rc_out)
{
	struct seen s = {PACER_BUF_INIT, stop_after, 0};
	struct marathon_sse p;
	struct pacer_error *err = NULL;
	size_t len = strlen(text);
	int rc = 0;

	pacer_log_set_level(PACER_LOG_ERROR); /* the skipped bad frame warns */
	marathon_sse_init(&p, record, &s);
	for (size_t off = 0; off < len && !rc; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		rc = marathon_sse_feed(&p, text + off, n, &err);
	}
	marathon_sse_release(&p);
	pacer_error_free(err);
	if (rc_out)
		*rc_out = rc;
	pacer_buf_puts(&s.log, "");
	return pacer_buf_detach(&s.log);
}

/* Arrays, not pointers: Criterion runs each parameter in a fresh process. */
struct sse_case {
	char name[48];
	char input[128];
	char expect[128];
};

static struct sse_case sse_cases[] = {
    {"crlf", "event: deployment_success\r\ndata: {\"id\":\"d1\"}\r\n\r\n",
     "deployment_success={\"id\":\"d1\"}\n"},
    {"lf", "event: a\ndata: {\"x\":1}\n\nevent: b\ndata: [2]\n\n", "a={\"x\":1}\nb=[2]\n"},
    {"cr only", "event: a\rdata: 1\r\r", "a=1\n"},
    {"heartbeats and comments", "\r\n\r\n: hello\r\nevent: a\r\ndata: {}\r\n\r\n\r\n", "a={}\n"},
    {"no event line is message", "data: {\"k\":\"v\"}\n\n", "message={\"k\":\"v\"}\n"},
    {"multi-line data joined", "event: m\ndata: {\"a\":\ndata: 1}\n\n", "m={\"a\":1}\n"},
    {"no space after colon", "event:x\ndata:{\"y\":2}\n\n", "x={\"y\":2}\n"},
    {"unknown fields ignored", "id: 7\nretry: 10\nevent: e\ndata: 3\n\n", "e=3\n"},
    {"names that only start like a field", "events: x\ndatas: 1\neven: y\ndata: 2\n\n",
     "message=2\n"},
    {"bad json skipped", "event: bad\ndata: {nope\n\nevent: good\ndata: 4\n\n", "good=4\n"},
    {"event type reset after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", "a=1\nmessage=2\n"},
    {"unterminated event not dispatched", "event: a\ndata: 1\n", ""},
};

ParameterizedTestParameters(sse, frames)
{
	return cr_make_param_array(struct sse_case, sse_cases,
	                           sizeof(sse_cases) / sizeof(sse_cases[0]));
}

/* Every case must give the same result whatever the chunking. */
ParameterizedTest(struct sse_case *c, sse, frames)
{
	for (size_t chunk = 1; chunk <= strlen(c->input) + 1; chunk++) {
		int rc;
		char *got = parse_chunked(c->input, chunk, 0, &rc);

		cr_assert_eq(rc, 0, "%s chunk %zu: rc %d", c->name, chunk, rc);
		cr_assert_str_eq(got, c->expect, "%s chunk %zu", c->name, chunk);
		free(got);
	}
}

Test(sse, callback_stops_the_parse)
{
	int rc;
	char *got = parse_chunked("data: 1\n\ndata: 2\n\ndata: 3\n\n", 64, 2, &rc);

	cr_assert_eq(rc, 1);
	cr_assert_str_eq(got, "message=1\nmessage=2\n");
	free(got);
}

struct id_case {
	char id[48];
	enum marathon__id_style style;
	char expect[48]; /* "": must fail */
};

static struct id_case id_cases[] = {
    {"/a/b", MARATHON__ID_STRICT, "a/b"},
    {"a/b", MARATHON__ID_STRICT, "a/b"},
    {"//prod/web-1.x", MARATHON__ID_STRICT, "prod/web-1.x"},
    {"/a b", MARATHON__ID_STRICT, "a%20b"},
    {"/A_b?c#d%", MARATHON__ID_STRICT, "%41%5Fb%3Fc%23d%25"},
    {"/", MARATHON__ID_STRICT, ""},
    {"", MARATHON__ID_STRICT, ""},
    {"prod_web.instance-1._app.1", MARATHON__ID_READABLE, "prod_web.instance-1._app.1"},
    {"2020-07-28T13:30:27.123Z", MARATHON__ID_READABLE, "2020-07-28T13:30:27.123Z"},
    {"a?b&c", MARATHON__ID_READABLE, "a%3Fb%26c"},
};

ParameterizedTestParameters(ids, encode)
{
	return cr_make_param_array(struct id_case, id_cases,
	                           sizeof(id_cases) / sizeof(id_cases[0]));
}

ParameterizedTest(struct id_case *c, ids, encode)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct pacer_error *err = NULL;
	int rc = marathon__append_id(&b, c->id, "app", c->style, &err);

	if (c->expect[0]) {
		cr_assert_eq(rc, 0, "%s", c->id);
		cr_assert_str_eq(pacer_buf_cstr(&b), c->expect);
	} else {
		cr_assert_eq(rc, PACER_EINVALID, "%s", c->id);
		cr_assert_not_null(err);
		cr_assert(strstr(err->message, "empty app id"), "%s", err->message);
	}
	pacer_error_free(err);
	pacer_buf_release(&b);
}

Test(url, clean_strips_credentials_and_slash)
{
	char *user = NULL, *pass = NULL;
	char *u = marathon__url_clean("http://bob:s%40cret@m.example:8080/", &user, &pass);

	cr_assert_str_eq(u, "http://m.example:8080");
	cr_assert_str_eq(user, "bob");
	cr_assert_str_eq(pass, "s@cret");
	free(u);
	free(user);
	free(pass);
	u = marathon__url_clean("https://m.example/marathon/", NULL, NULL);
	cr_assert_str_eq(u, "https://m.example/marathon");
	free(u);
	cr_assert_null(marathon__url_clean("ftp://m.example", NULL, NULL));
	cr_assert_null(marathon__url_clean("not a url", NULL, NULL));
}

static int new_fails(const char *urls, const char *user, const char *password, const char *token,
                     const char *must_say)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *m = NULL;
	struct pacer_error *err = NULL;
	int rc;

	o.urls = urls;
	o.user = user;
	o.password = password;
	o.token = token;
	rc = marathon_new(&m, &o, &err);
	cr_assert_null(m);
	cr_assert_not_null(err);
	cr_assert(strstr(err->message, must_say), "'%s' lacks '%s'", err->message, must_say);
	if (password)
		cr_assert_null(strstr(err->message, password), "secret leaked: %s", err->message);
	if (token)
		cr_assert_null(strstr(err->message, token), "secret leaked: %s", err->message);
	pacer_error_free(err);
	return rc;
}

Test(options, new_rejects_bad_configuration)
{
	cr_assert_eq(new_fails(NULL, NULL, NULL, NULL, "PACER_MARATHON_URL"), PACER_EINVALID);
	cr_assert_eq(new_fails(" , ", NULL, NULL, NULL, "PACER_MARATHON_URL"), PACER_EINVALID);
	cr_assert_eq(new_fails("ftp://h", NULL, NULL, NULL, "http"), PACER_EINVALID);
	cr_assert_eq(new_fails("http://ok:1,ftp://u:hunter22@h", NULL, NULL, NULL, "number 2"),
	             PACER_EINVALID);
	cr_assert_eq(new_fails("http://h", "u", "pw-hunter2", "tok-abcdef", "not both"),
	             PACER_EINVALID);
	cr_assert_eq(new_fails("http://h", "u", NULL, NULL, "password"), PACER_EINVALID);
	cr_assert_eq(new_fails("http://u:pw-x1234@h", NULL, NULL, "tok-abcdef", "one kind"),
	             PACER_EINVALID);
}

Test(options, new_accepts_several_urls)
{
	struct marathon_options o = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *m = NULL;
	struct pacer_error *err = NULL;
	struct marathon_client *c;

	o.urls = " http://a:8080/ , https://bob:pw-1234@b:8443,, ";
	cr_assert_eq(marathon_new(&m, &o, &err), 0);
	c = marathon__client(m, NULL);
	cr_assert_not_null(c);
	cr_assert_eq(c->nurls, 2);
	cr_assert_str_eq(c->urls[0], "http://a:8080");
	cr_assert_str_eq(c->urls[1], "https://b:8443");
	cr_assert_str_eq(c->user, "bob");
	cr_assert_str_eq(c->password, "pw-1234");
	cr_assert_eq(c->timeout_ms, 30000);
	cr_assert_eq(c->connect_timeout_ms, 5000);
	cr_assert_eq(c->retries, 4);
	cr_assert_eq(c->backoff_ms, 200);
	pacer_marathon_free(m);
}
