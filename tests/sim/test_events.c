/*
 * marathon-sim: the /v2/events Server-Sent Events stream (SPEC.md §5.1):
 * Accept header required, frames in order, event_type filter,
 * deployment_failed on cancellation. Read over a raw socket (st_sse_*) so
 * the test sees the frames as they arrive.
 */
#include "tests/sim/simtest.h"

TestSuite(events, .fini = st_cleanup);

Test(events, deployment_events_arrive_in_order)
{
	struct test_sim sim;
	struct st_sse s;
	struct st_resp r;
	char dep[64], needle[128];
	const char *p1, *p2, *p3, *p4;

	st_sim_start(&sim, NULL);
	st_sse_open(&s, &sim, NULL);
	cr_assert(st_sse_wait(&s, "event: event_stream_attached\r\n", 3000), "first frame: %s", s.buf ? s.buf : "");
	cr_assert(strstr(s.buf, "text/event-stream"), "content type: %s", s.buf);
	r = st_req(&sim, "POST", "/v2/apps", "{\"id\":\"ev\",\"cmd\":\"xx\",\"instances\":1}");
	cr_assert_eq(r.status, 201);
	snprintf(dep, sizeof(dep), "%s", st_str(r.json, "deployments.0.id"));
	st_free(&r);
	snprintf(needle, sizeof(needle), "event: deployment_success\r\ndata: {\"id\":\"%s\"", dep);
	cr_assert(st_sse_wait(&s, needle, 5000), "deployment_success for %s: %s", dep, s.buf);
	p1 = strstr(s.buf, "event: api_post_event\r\n");
	p2 = strstr(s.buf, "event: deployment_info\r\n");
	p3 = strstr(s.buf, "event: deployment_step_success\r\n");
	p4 = strstr(s.buf, needle);
	cr_assert(p1 && p2 && p3 && p4, "%s", s.buf);
	cr_assert(p1 < p2 && p2 < p3 && p3 < p4, "api_post_event, deployment_info, step_success, success in order");
	cr_assert(strstr(s.buf, "\"taskStatus\":\"TASK_RUNNING\""), "status_update_event for the task");
	cr_assert(strstr(s.buf, "\"eventType\":\"deployment_info\""));
	/* two steps (Start, Scale): two step successes before the success */
	cr_assert(strstr(p3 + 1, "event: deployment_step_success\r\n") < p4);
	st_sse_close(&s);
	st_sim_stop(&sim);
}

Test(events, accept_header_is_required_and_filter_works)
{
	struct test_sim sim;
	struct st_sse s;

	st_sim_start(&sim, NULL);
	test_sim_expect(&sim, "GET", "/v2/events", NULL, 405, NULL,
	                "without Accept: text/event-stream Marathon answers 405");
	st_sse_open(&s, &sim, "?event_type=deployment_success&event_type=app_terminated_event");
	cr_assert(st_sse_wait(&s, "HTTP/1.1 200", 3000), "the stream is open: %s", s.buf ? s.buf : "");
	test_sim_request(&sim, "PUT", "/v2/apps/filt", "{\"cmd\":\"xx\"}", NULL);
	cr_assert(st_sse_wait(&s, "event: deployment_success", 5000));
	test_sim_request(&sim, "DELETE", "/v2/apps/filt", NULL, NULL);
	cr_assert(st_sse_wait(&s, "event: app_terminated_event", 5000));
	cr_assert_null(strstr(s.buf, "deployment_info"), "filtered out: %s", s.buf);
	cr_assert_null(strstr(s.buf, "status_update_event"));
	st_sse_close(&s);
	st_sim_stop(&sim);
}

Test(events, force_cancel_emits_deployment_failed)
{
	struct test_sim sim;
	struct st_sse s;
	struct st_resp r;
	char needle[256];

	st_sim_start(&sim, NULL);
	st_sse_open(&s, &sim, "?event_type=deployment_failed");
	cr_assert(st_sse_wait(&s, "HTTP/1.1 200", 3000), "the stream is open: %s", s.buf ? s.buf : "");
	r = st_req(&sim, "PUT", "/v2/apps/c", "{\"cmd\":\"xx\",\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"}}");
	snprintf(needle, sizeof(needle), "{\"id\":\"%s\"", st_str(r.json, "deploymentId"));
	st_free(&r);
	test_sim_expect(&sim, "PUT", "/v2/apps/c?force=true", "{\"cmd\":\"yy\"}", 200, NULL, NULL);
	cr_assert(st_sse_wait(&s, needle, 3000), "deployment_failed for the cancelled plan: %s", s.buf);
	cr_assert(strstr(s.buf, "\"reason\":\"The upgrade has been cancelled\""), "%s", s.buf);
	st_sse_close(&s);
	st_sim_stop(&sim);
}

Test(events, sim_stops_cleanly_with_a_stream_open)
{
	struct test_sim sim;
	struct st_sse s;

	st_sim_start(&sim, NULL);
	st_sse_open(&s, &sim, NULL);
	cr_assert(st_sse_wait(&s, "event_stream_attached", 3000));
	st_sim_stop(&sim);
	st_sse_close(&s);
}

Test(events, unhealthy_kill_emits_health_kill_and_status_events)
{
	struct test_sim sim;
	struct st_sse s;
	const char *health, *kill, *killed;

	st_sim_start(&sim, NULL);
	st_sse_open(&s, &sim, NULL);
	cr_assert(st_sse_wait(&s, "event_stream_attached", 3000));
	test_sim_request(&sim, "PUT", "/v2/apps/k",
			 "{\"cmd\":\"xx\",\"env\":{\"SIM_BEHAVIOR\":\"unhealthy\"},"
			 "\"healthChecks\":[{\"protocol\":\"HTTP\"}]}",
			 NULL);
	cr_assert(st_sse_wait(&s, "\"taskStatus\":\"TASK_KILLED\"", 5000), "the failing task is killed: %s", s.buf);
	health = strstr(s.buf, "event: health_status_changed_event");
	kill = strstr(s.buf, "event: unhealthy_instance_kill_event");
	killed = strstr(s.buf, "\"taskStatus\":\"TASK_KILLED\"");
	cr_assert(health && kill && health < kill && kill < killed,
		  "health_status_changed_event, unhealthy_instance_kill_event, then TASK_KILLED: %s", s.buf);
	cr_assert(strstr(kill, "\"reason\":\"FailedHealthChecks\""), "%s", s.buf);
	cr_assert(strstr(health, "\"alive\":false"), "%s", s.buf);
	st_sse_close(&s);
	st_sim_stop(&sim);
}

Test(events, spec_5_1_event_type_filters_event_stream_attached_too)
{
	struct test_sim sim;
	struct st_sse only, with;

	st_sim_start(&sim, NULL);
	st_sse_open(&only, &sim, "?event_type=status_update_event");
	st_sse_open(&with, &sim, "?event_type=status_update_event&event_type=event_stream_attached");
	cr_assert(st_sse_wait(&with, "event: event_stream_attached\r\n", 3000), "asked for: %s", with.buf ? with.buf : "");
	cr_assert(st_sse_wait(&only, "HTTP/1.1 200", 3000), "the stream is open: %s", only.buf ? only.buf : "");
	test_sim_request(&sim, "PUT", "/v2/apps/f", "{\"cmd\":\"xx\"}", NULL);
	cr_assert(st_sse_wait(&only, "event: status_update_event\r\n", 5000), "%s", only.buf);
	cr_assert_null(strstr(only.buf, "event_stream_attached"), "not asked for: %s", only.buf);
	/* The first frame of the stream is the first status update. */
	cr_assert_eq(strstr(only.buf, "event: "), strstr(only.buf, "event: status_update_event\r\n"), "%s", only.buf);
	st_sse_close(&only);
	st_sse_close(&with);
	st_sim_stop(&sim);
}
