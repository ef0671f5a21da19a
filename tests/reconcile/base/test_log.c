/*
 * The log line writer: the same event as text (what pacer always printed),
 * logfmt and JSON; keys lifted out of messages; quoting; secrets redacted
 * in every format; syslog priority prefixes for the journal; and a line
 * below the level costs nothing (its arguments are not even evaluated).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconcile/base/log.h"

/* 2026-12-02T14:25:08Z */
#define T0 1796221508LL

/* Strings inline: Criterion copies parameters into the test's own process. */
struct render_case {
	int format, level;
	char msg[64];
	char want[512];
};

static const struct pacer_log_kv event_kv[] = {
	{"app", "/shop/redis"}, {"deployment", "d-1"}, {"commit", "-"},
	{"event", "done"},      {"outcome", "rolled_back"},
};

static struct render_case render_cases[] = {
	{PACER_LOG_TEXT, PACER_LOG_WARN, "app did not converge",
	 "2026-12-02T14:25:08Z warn  app=/shop/redis deployment=d-1 commit=- event=done "
	 "outcome=rolled_back app did not converge"},
	{PACER_LOG_LOGFMT, PACER_LOG_WARN, "app did not converge",
	 "ts=2026-12-02T14:25:08.042Z level=warn msg=\"app did not converge\" app=/shop/redis "
	 "deployment=d-1 event=done outcome=rolled_back"},
	{PACER_LOG_JSON, PACER_LOG_ERROR, "bad \"x\"\n",
	 "{\"ts\":\"2026-12-02T14:25:08.042Z\",\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\\n\","
	 "\"app\":\"/shop/redis\",\"deployment\":\"d-1\",\"event\":\"done\","
	 "\"outcome\":\"rolled_back\"}"},
	{PACER_LOG_LOGFMT, PACER_LOG_INFO, "", "ts=2026-12-02T14:25:08.042Z level=info msg=\"\" "
					       "app=/shop/redis deployment=d-1 event=done "
					       "outcome=rolled_back"},
};

ParameterizedTestParameters(log, render)
{
	return cr_make_param_array(struct render_case, render_cases,
				   sizeof(render_cases) / sizeof(render_cases[0]));
}

ParameterizedTest(const struct render_case *c, log, render)
{
	char *got = pacer_log_render(c->format, c->level, T0, 42, event_kv, 5, c->msg);

	cr_assert_str_eq(got, c->want);
	free(got);
}

/* Run fn with stderr going to a file; return what it wrote. Caller frees. */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/pacer-test-log-XXXXXX", *out;
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	long n;
	FILE *f;

	cr_assert(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	cr_assert(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	out = calloc(1, (size_t)n + 1);
	cr_assert(fread(out, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	unlink(path);
	return out;
}

/* The prefix up to and including the stamp's "Z" dropped, for stable comparisons. */
static const char *after_ts(const char *line)
{
	const char *z = strstr(line, "Z");

	cr_assert(z);
	return z + 1;
}

static void write_plain(void)
{
	pacer_log_set_level(PACER_LOG_INFO);
	PLOG_INFO("commit=%s sync starting: %d to create", "1a2b3c", 2);
	PLOG_WARN("serve: sync=%d finished result=%s reason=\"commit %s\" commit=- seconds=%s",
		  7, "converged", "abc", "1.5:");
}

Test(log, logfmt_lifts_keys_out_of_messages)
{
	char *out;

	pacer_log_set_format(PACER_LOG_LOGFMT);
	out = capture(write_plain);
	cr_assert(strstr(out, " level=info msg=\"sync starting: 2 to create\" commit=1a2b3c\n"),
		  "%s", out);
	/* commit=- is "none": no key; a quoted value keeps its blanks; ':' ends a clause. */
	cr_assert(strstr(out, " level=warn msg=\"serve: finished\" sync=7 result=converged "
			      "reason=\"commit abc\" seconds=1.5\n"),
		  "%s", out);
	free(out);
}

Test(log, json_is_one_object_per_line_with_keys)
{
	struct json_object *o;
	char *out, *nl;

	pacer_log_set_format(PACER_LOG_JSON);
	out = capture(write_plain);
	nl = strchr(out, '\n');
	cr_assert(nl);
	*nl = '\0';
	o = json_tokener_parse(out);
	cr_assert(o, "not JSON: %s", out);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "level")), "info");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "msg")),
			 "sync starting: 2 to create");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "commit")), "1a2b3c");
	cr_assert(json_object_object_get(o, "ts"));
	json_object_put(o);
	o = json_tokener_parse(nl + 1);
	cr_assert(o, "not JSON: %s", nl + 1);
	cr_assert_null(json_object_object_get(o, "commit"), "\"-\" means none: no key");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "reason")), "commit abc");
	json_object_put(o);
	free(out);
}

Test(log, text_is_unchanged)
{
	char *out;

	pacer_log_set_format(PACER_LOG_TEXT);
	out = capture(write_plain);
	cr_assert(strchr(out, '\n'));
	strchr(out, '\n')[1] = '\0';
	cr_assert_str_eq(after_ts(out), " info  commit=1a2b3c sync starting: 2 to create\n");
	free(out);
}

static void write_secret(void)
{
	struct pacer_log_kv kv[] = {{"url", "http://u:s3cr\"et@m/"}};

	pacer_log_set_level(PACER_LOG_INFO);
	pacer_log_add_secret("s3cr\"et");
	PLOG_KV(PACER_LOG_INFO, kv, 1, "token=%s and %s", "s3cr\"et", "s3cr\"et");
}

Test(log, secrets_are_redacted_in_every_format)
{
	for (int f = PACER_LOG_TEXT; f <= PACER_LOG_JSON; f++) {
		char *out;

		pacer_log_set_format(f);
		out = capture(write_secret);
		cr_assert_null(strstr(out, "s3cr"), "format %d leaks the secret: %s", f, out);
		cr_assert(strstr(out, "***"), "format %d: %s", f, out);
		free(out);
	}
	pacer_log_clear_secrets();
}

static void write_levels(void)
{
	pacer_log_set_level(PACER_LOG_DEBUG);
	PLOG_ERROR("e");
	PLOG_WARN("w");
	PLOG_INFO("i");
	PLOG_DEBUG("d");
}

Test(log, priority_prefix_for_the_journal)
{
	char *out;

	pacer_log_set_format(PACER_LOG_LOGFMT);
	pacer_log_set_priority_prefix(1);
	out = capture(write_levels);
	pacer_log_set_priority_prefix(0);
	cr_assert(!strncmp(out, "<3>ts=", 6), "%s", out);
	cr_assert(strstr(out, "\n<4>ts="), "%s", out);
	cr_assert(strstr(out, "\n<6>ts="), "%s", out);
	cr_assert(strstr(out, "\n<7>ts="), "%s", out);
	free(out);
}

Test(log, journal_stream_must_name_the_fd)
{
	char path[] = "/tmp/pacer-test-js-XXXXXX", val[64];
	int fd = mkstemp(path);
	struct stat st;

	cr_assert(fd >= 0 && fstat(fd, &st) == 0);
	snprintf(val, sizeof(val), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	cr_assert_eq(pacer_log_stderr_is_journal(val, fd), 1);
	snprintf(val, sizeof(val), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	cr_assert_eq(pacer_log_stderr_is_journal(val, fd), 0, "another file: not the journal");
	cr_assert_eq(pacer_log_stderr_is_journal(NULL, fd), 0);
	cr_assert_eq(pacer_log_stderr_is_journal("garbage", fd), 0);
	close(fd);
	unlink(path);
}

static int evaluated;

static const char *costly(void)
{
	evaluated++;
	return "x";
}

Test(log, a_line_below_the_level_costs_nothing)
{
	struct pacer_log_kv kv[] = {{"app", "/a"}};

	pacer_log_set_level(PACER_LOG_WARN);
	PLOG_INFO("%s", costly());
	PLOG_DEBUG("%s", costly());
	PLOG_KV(PACER_LOG_INFO, kv, 1, "%s", costly());
	cr_assert_eq(evaluated, 0, "arguments of a disabled line were evaluated");
}

Test(log, formats_parse)
{
	cr_assert_eq(pacer_log_parse_format("text"), PACER_LOG_TEXT);
	cr_assert_eq(pacer_log_parse_format("logfmt"), PACER_LOG_LOGFMT);
	cr_assert_eq(pacer_log_parse_format("json"), PACER_LOG_JSON);
	cr_assert_eq(pacer_log_parse_format("JSON"), -1);
	cr_assert_eq(pacer_log_parse_format(""), -1);
}
