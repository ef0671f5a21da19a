/*
 * backends/marathon/events.c: following the event stream against a
 * scripted HTTP server on a real socket (heartbeats keep it alive however
 * slow, silence ends it, a reply that closes at once is told apart), and
 * what each event of SPEC 5.1 says about app definitions.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/marathon/events.h"
#include "reconcile/base/clock.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

/* ---- a scripted server: one connection, one behaviour ---- */

enum script {
	HEARTBEATS, /* the attached frame, then "\r\n" every 200 ms */
	SILENT,     /* the attached frame, then nothing, connection open */
	NO_HEADERS, /* accept, read the request, answer nothing */
	CLOSE_200,  /* 200 with an empty body, closed */
	MALFORMED,  /* the attached frame, frames that are not events, one that is, heartbeats */
	OVERLONG,   /* the attached frame, then a line longer than MARATHON_SSE_LINE_CAP */
};

struct server {
	int fd, port;
	enum script script;
	pthread_t thread;
	volatile int done; /* the test is over: close */
	char request[2048];
};

static void send_all(int c, const char *s)
{
	if (send(c, s, strlen(s), MSG_NOSIGNAL) < 0) {
		/* the client went away: the test decides */
	}
}

/* What MALFORMED sends after the attached frame: only the last frame is an event. */
static const char malformed_frames[] =
    "event: api_post_event\r\ndata: {not json\r\n\r\n" /* skipped, not fatal */
    "events: api_post_event\r\ndatas: {}\r\n\r\n"      /* no such fields: no data */
    ": a comment\r\n\r\n"                              /* a comment, a blank line */
    "event: deployment_info\r\ndata: {\"plan\":{}}\r\n\r\n";

/* OVERLONG: one "data:" line, never ended, past the parser's cap. */
static void send_overlong(int c)
{
	size_t n = MARATHON_SSE_LINE_CAP + 16;
	char *line = malloc(n + 1);

	cr_assert_not_null(line);
	memset(line, 'x', n);
	memcpy(line, "data: ", 6);
	line[n] = '\0';
	send_all(c, line);
	free(line);
}

static void *serve_one(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	size_t used = 0;

	while (c >= 0 && used < sizeof(s->request) - 1 && !strstr(s->request, "\r\n\r\n")) {
		ssize_t n = recv(c, s->request + used, sizeof(s->request) - 1 - used, 0);

		if (n <= 0)
			break;
		used += (size_t)n;
		s->request[used] = '\0';
	}
	if (s->script == CLOSE_200) {
		send_all(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		            "Content-Length: 0\r\nConnection: close\r\n\r\n");
		s->done = 1;
	} else if (s->script != NO_HEADERS) {
		send_all(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;charset=UTF-8\r\n"
		            "Connection: close\r\n\r\n"
		            "event: event_stream_attached\r\n"
		            "data: {\"remoteAddress\":\"127.0.0.1\",\"eventType\":"
		            "\"event_stream_attached\",\"timestamp\":\"2020-07-28T14:01:40.517Z\"}"
		            "\r\n\r\n");
		if (s->script == MALFORMED)
			send_all(c, malformed_frames);
		if (s->script == OVERLONG)
			send_overlong(c);
	}
	while (!s->done) {
		pacer_sleep_ms(200);
		if (s->script == HEARTBEATS || s->script == MALFORMED)
			send_all(c, "\r\n");
	}
	if (c >= 0)
		close(c);
	return NULL;
}

static void server_start(struct server *s, enum script script)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->script = script;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(s->fd >= 0);
	cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s->fd, 4), 0);
	cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&s->thread, NULL, serve_one, s), 0);
}

static void server_stop(struct server *s)
{
	s->done = 1;
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* ---- the client side ---- */

struct run {
	struct server srv;
	volatile sig_atomic_t stop;
	int events, attached_seen;
	struct marathon_stream_info info;
	struct pacer_error *err;
	int rc;
	long long ms;
};

static int count(void *ctx, const char *type, struct json_object *data)
{
	struct run *r = ctx;

	(void)data;
	r->events++;
	if (!strcmp(type, "event_stream_attached"))
		r->attached_seen = 1;
	return 0;
}

/* Stop the stream after 2.5 s, from another thread. */
static void *stopper(void *arg)
{
	struct run *r = arg;

	pacer_sleep_ms(2500);
	r->stop = 1;
	return NULL;
}

static void follow(struct run *r, enum script script, long idle_ms, int stop_after)
{
	static const char *const types[] = {"api_post_event", NULL};
	struct marathon_options mo = MARATHON_OPTIONS_INIT;
	struct marathon_events_options eo = {types, idle_ms, count, r, &r->stop};
	struct pacer_marathon *m = NULL;
	char url[64];
	pthread_t t;
	long long t0;

	server_start(&r->srv, script);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", r->srv.port);
	mo.urls = url;
	cr_assert_eq(marathon_new(&m, &mo, &r->err), 0);
	if (stop_after)
		cr_assert_eq(pthread_create(&t, NULL, stopper, r), 0);
	t0 = pacer_now_ms();
	r->rc = marathon_events_follow(m, &eo, &r->info, &r->err);
	r->ms = pacer_now_ms() - t0;
	if (stop_after)
		pthread_join(t, NULL);
	server_stop(&r->srv);
	pacer_marathon_free(m);
}

Test(events_follow, heartbeats_keep_a_quiet_stream_alive)
{
	struct run r = {0};

	/* 2 bytes every 200 ms with a 1 s deadline: as Marathon's every 10 s with 30 s. */
	follow(&r, HEARTBEATS, 1000, 2500);
	cr_assert_eq(r.rc, 0, "%s", r.err ? r.err->message : "");
	cr_assert_geq(r.ms, 2400, "the stream ended after %lld ms", r.ms);
	cr_assert(r.info.attached && r.attached_seen, "event_stream_attached not handed over");
	cr_assert_eq(r.info.events, 1);
	cr_assert_gt(r.info.bytes, 20, "heartbeats not counted: %llu bytes", r.info.bytes);
	cr_assert(
	    strstr(r.srv.request, "event_type=api_post_event&event_type=event_stream_attached"),
	    "event_stream_attached not asked for: %s", r.srv.request);
}

Test(events_follow, silence_ends_the_stream)
{
	struct run r = {0};

	follow(&r, SILENT, 1000, 0);
	cr_assert_eq(r.rc, PACER_ETIMEOUT, "rc %d", r.rc);
	cr_assert(r.info.attached);
	cr_assert(r.ms >= 900 && r.ms < 3500, "ended after %lld ms with a 1 s deadline", r.ms);
	{
		char *msg = pacer_error_format(r.err);

		cr_assert(msg && strstr(msg, "nothing came for 1 s, not even Marathon's heartbeat"),
		          "%s", msg ? msg : "");
		free(msg);
	}
	pacer_error_free(r.err);
}

Test(events_follow, a_reply_that_never_comes_ends_too)
{
	struct run r = {0};

	follow(&r, NO_HEADERS, 1000, 0);
	cr_assert_eq(r.rc, PACER_ETIMEOUT, "rc %d", r.rc);
	cr_assert_not(r.info.attached);
	cr_assert_lt(r.ms, 3500);
	pacer_error_free(r.err);
}

Test(events_follow, a_reply_that_closes_at_once_is_told_apart)
{
	struct run r = {0};

	follow(&r, CLOSE_200, 1000, 0);
	cr_assert_eq(r.rc, 0, "%s", r.err ? r.err->message : "");
	cr_assert_not(r.info.attached, "no frame came, yet the stream was called attached");
	cr_assert_eq(r.info.events, 0);
	cr_assert_lt(r.ms, 1000);
}

Test(events_follow, frames_that_are_not_events_do_not_end_the_stream)
{
	struct run r = {0};

	follow(&r, MALFORMED, 1000, 2500);
	cr_assert_eq(r.rc, 0, "%s", r.err ? r.err->message : "");
	cr_assert_geq(r.ms, 2400, "the stream ended after %lld ms", r.ms);
	/* event_stream_attached and deployment_info; the rest were not events. */
	cr_assert_eq(r.events, 2);
	cr_assert_eq(r.info.events, 2);
}

Test(events_follow, a_line_over_the_cap_ends_the_stream)
{
	struct run r = {0};
	char *msg;

	follow(&r, OVERLONG, 5000, 0);
	cr_assert_eq(r.rc, PACER_EINVALID, "rc %d", r.rc);
	cr_assert(r.info.attached);
	msg = pacer_error_format(r.err);
	cr_assert(msg && strstr(msg, "the event stream broke off") &&
	              strstr(msg, "a line is longer than 16 MiB"),
	          "%s", msg ? msg : "");
	free(msg);
	pacer_error_free(r.err);
}

/* The stream asks for event_stream_attached only when following. */
static int stop_at_first(void *ctx, const char *type, struct json_object *data)
{
	(void)ctx;
	(void)type;
	(void)data;
	return 1;
}

Test(events_follow, open_sends_the_filter_as_given)
{
	static const char *const types[] = {"api_post_event", NULL};
	struct marathon_options mo = MARATHON_OPTIONS_INIT;
	struct pacer_marathon *m = NULL;
	struct pacer_error *err = NULL;
	struct server srv;
	char url[64];

	server_start(&srv, HEARTBEATS);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	mo.urls = url;
	cr_assert_eq(marathon_new(&m, &mo, &err), 0);
	cr_assert_eq(marathon_events_open(m, types, stop_at_first, NULL, NULL, &err), 0, "%s",
	             err ? err->message : "");
	server_stop(&srv);
	pacer_marathon_free(m);
	cr_assert(strstr(srv.request, "GET /v2/events?event_type=api_post_event "),
	          "the filter was changed: %s", srv.request);
}

/* ---- following again after Marathon went away ---- */

struct live {
	struct test_sim *sim;
	volatile sig_atomic_t stop;
	volatile int attached;
	int rc;
	struct marathon_stream_info info;
};

static int note_attached(void *ctx, const char *type, struct json_object *data)
{
	struct live *l = ctx;

	(void)data;
	if (!strcmp(type, "event_stream_attached"))
		l->attached = 1;
	return 0;
}

static void *follow_live(void *arg)
{
	struct live *l = arg;
	struct marathon_options mo = MARATHON_OPTIONS_INIT;
	struct marathon_events_options eo = {marathon_definition_events, 0, note_attached, l,
	                                     &l->stop};
	struct pacer_marathon *m = NULL;

	mo.urls = l->sim->url;
	cr_assert_eq(marathon_new(&m, &mo, NULL), 0);
	l->rc = marathon_events_follow(m, &eo, &l->info, NULL);
	pacer_marathon_free(m);
	return NULL;
}

/* Wait up to 5 s for the stream of l to be attached. */
static int attached_within(struct live *l)
{
	long long until = pacer_now_ms() + 5000;

	while (!l->attached && pacer_now_ms() < until)
		pacer_sleep_ms(20);
	return l->attached;
}

Test(events_follow, a_restarted_marathon_ends_the_stream_and_can_be_followed_again)
{
	struct test_sim sim;
	struct live first = {.sim = &sim}, second = {.sim = &sim};
	pthread_t t;

	cr_assert_eq(test_sim_start(&sim, NULL), 0);
	cr_assert_eq(pthread_create(&t, NULL, follow_live, &first), 0);
	cr_assert(attached_within(&first), "the first stream never attached");
	cr_assert_eq(test_sim_restart(&sim, NULL), 0);
	pthread_join(t, NULL);
	/* However it ended (closed, or cut), it ended, and said it had been open. */
	cr_assert(first.info.attached);

	cr_assert_eq(pthread_create(&t, NULL, follow_live, &second), 0);
	cr_assert(attached_within(&second), "following again never attached");
	second.stop = 1;
	pthread_join(t, NULL);
	cr_assert_eq(second.rc, 0);
	test_sim_stop(&sim);
}

/* ---- what an event says ---- */

/* Arrays, not pointers: Criterion runs each parameter in a fresh process. */
struct classify_case {
	char type[32];
	char data[320]; /* single quotes for double */
	enum marathon_event_kind kind;
	char ids[32]; /* space separated, or the group, or the def's id */
};

static struct classify_case cases[] = {
    {"event_stream_attached", "{'remoteAddress':'1.2.3.4'}", MARATHON_EVK_ATTACHED, ""},
    {"api_post_event", "{'clientIp':'1.2.3.4','uri':'/v2/apps/web','appDefinition':{'id':'/web'}}",
     MARATHON_EVK_APP_DEF, "/web"},
    {"api_post_event", "{'clientIp':'1.2.3.4','uri':'/v2/apps/web'}", MARATHON_EVK_OTHER, ""},
    {"app_terminated_event", "{'appId':'/shop/api'}", MARATHON_EVK_APP_GONE, "/shop/api"},
    {"app_terminated_event", "{}", MARATHON_EVK_OTHER, ""},
    {"group_change_success", "{'groupId':'/shop','version':'2020-07-28T14:01:02.003Z'}",
     MARATHON_EVK_GROUP, "/shop"},
    {"group_change_failed", "{'groupId':'/shop','reason':'x'}", MARATHON_EVK_OTHER, ""},
    {"deployment_info",
     "{'plan':{'id':'d1','steps':[{'actions':[{'action':'StopApplication','app':'/a'},"
     "{'action':'ScaleApplication','app':'/b'}]},{'actions':[{'action':'RestartApplication',"
     "'app':'/a'}]}],'version':'v'},'currentStep':{'actions':[]}}",
     MARATHON_EVK_APPS, "/a /b"},
    {"deployment_info", "{'plan':{'id':'d1','steps':[]}}", MARATHON_EVK_OTHER, ""},
    {"deployment_success", "{'id':'d1','plan':{'id':'d1','steps':[{'actions':[{'app':'/a'}]}]}}",
     MARATHON_EVK_OTHER, ""},
    {"status_update_event", "{'appId':'/a','taskStatus':'TASK_RUNNING'}", MARATHON_EVK_OTHER, ""},
};

ParameterizedTestParameters(events_classify, spec_events)
{
	return cr_make_param_array(struct classify_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct classify_case *c, events_classify, spec_events)
{
	struct json_object *data = test_json(c->data);
	struct marathon_event_info ev;
	char got[256] = "";
	size_t used = 0;

	cr_assert_eq(marathon_event_classify(c->type, data, &ev), 0);
	cr_assert_eq(ev.kind, c->kind, "%s: kind %d, expected %d", c->type, ev.kind, c->kind);
	for (size_t i = 0; i < ev.nids; i++)
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
		                         ev.ids[i]);
	if (ev.kind == MARATHON_EVK_GROUP)
		snprintf(got, sizeof(got), "%s", ev.group);
	if (ev.kind == MARATHON_EVK_APP_DEF)
		snprintf(got, sizeof(got), "%s",
		         json_object_get_string(json_object_object_get(ev.def, "id")));
	cr_assert_str_eq(got, c->ids, "%s", c->type);
	marathon_event_info_release(&ev);
	json_object_put(data);
}

Test(events_classify, the_filter_names_every_definition_event)
{
	static const char *const want[] = {"event_stream_attached", "api_post_event",
	                                   "app_terminated_event", "group_change_success",
	                                   "deployment_info"};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int found = 0;

		for (size_t k = 0; marathon_definition_events[k]; k++)
			found |= !strcmp(marathon_definition_events[k], want[i]);
		cr_assert(found, "%s is not followed", want[i]);
	}
}
