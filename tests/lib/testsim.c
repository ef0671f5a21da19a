/*
 * testsim.c: marathon-sim processes and HTTP for the tests (testsim.h).
 */
#include "reconcile/base/buf.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long marathon-sim may take to print its URL. */
#define START_WAIT_MS 30000

int test_sim_start(struct test_sim *sim, const char *const *extra_args)
{
	const char *argv[64];
	int n = 0, pfd[2];
	char line[256];
	size_t used = 0;

	memset(sim, 0, sizeof(*sim));
	argv[n++] = test_sim_bin();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	for (int i = 0; extra_args && extra_args[i] && n < 62; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;

	if (pipe(pfd))
		return -1;
	sim->pid = fork();
	if (sim->pid < 0)
		return -1;
	if (sim->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	/*
	 * The first line of stdout is the base URL; wait up to START_WAIT_MS
	 * for it (a --load of 10,000 apps under the sanitizers, on a busy
	 * machine, takes more than 10 s before it listens).
	 */
	while (used < sizeof(line) - 1) {
		struct pollfd p = {pfd[0], POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, START_WAIT_MS) <= 0)
			break;
		r = read(pfd[0], line + used, 1);
		if (r <= 0)
			break;
		if (line[used] == '\n')
			break;
		used++;
	}
	line[used] = '\0';
	close(pfd[0]);
	if (strncmp(line, "http://", 7) || used >= sizeof(sim->url)) {
		fprintf(stderr, "testlib: marathon-sim did not print its URL (got '%s')\n", line);
		kill(sim->pid, SIGKILL);
		waitpid(sim->pid, NULL, 0);
		sim->pid = 0;
		return -1;
	}
	memcpy(sim->url, line, used + 1);
	{
		const char *colon = strrchr(sim->url, ':');
		sim->port = colon ? atoi(colon + 1) : 0;
	}
	return 0;
}

int test_sim_stop(struct test_sim *sim)
{
	int status;

	if (sim->pid <= 0)
		return -1;
	kill(sim->pid, SIGTERM);
	if (waitpid(sim->pid, &status, 0) < 0)
		return -1;
	sim->pid = 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int test_sim_restart(struct test_sim *sim, const char *const *extra_args)
{
	const char *argv[64] = {"--listen"};
	char listen[64], url[sizeof(sim->url)];
	int n = 2, port = sim->port;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(url, sizeof(url), "%s", sim->url);
	argv[1] = listen;
	for (int i = 0; extra_args && extra_args[i] && n < 62; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;
	test_sim_stop(sim);
	for (int attempt = 0; attempt < 50; attempt++) {
		struct timespec ts = {0, 100 * 1000000L};

		/* The later --listen wins over test_sim_start()'s port 0. */
		if (!test_sim_start(sim, argv) && sim->port == port)
			return 0;
		if (sim->pid > 0)
			test_sim_stop(sim);
		nanosleep(&ts, NULL);
	}
	snprintf(sim->url, sizeof(sim->url), "%s", url);
	sim->port = port;
	return -1;
}

int test_sim_request(const struct test_sim *sim, const char *method, const char *path,
		     const char *body, char **resp)
{
	static const char *const json[] = {"Content-Type: application/json", NULL};
	char *url = NULL;
	int status = 0;

	if (resp)
		*resp = NULL;
	if (asprintf(&url, "%s%s", sim->url, path) < 0)
		return 0;
	test_http(method, url, body, body ? json : NULL, &status, resp);
	free(url);
	return status;
}

void test_sim_expect(const struct test_sim *sim, const char *method, const char *path,
		     const char *body, int want, const char *want_body, const char *why)
{
	char *got = NULL;
	int status = test_sim_request(sim, method, path, body, &got);
	const char *text = got ? got : "";
	int ok = status == want;

	/* Report with cr_expect, free, then end the test: no leak report on failure. */
	cr_expect(ok, "%s %s answered %d, want %d%s%s: %s", method, path, status, want,
		  why ? ": " : "", why ? why : "", text);
	if (ok && want_body) {
		ok = !strcmp(text, want_body);
		cr_expect(ok, "%s %s answered '%s', want '%s'%s%s", method, path, text, want_body,
			  why ? ": " : "", why ? why : "");
	}
	free(got);
	if (!ok)
		cr_assert_fail("%s %s: unexpected answer (above)", method, path);
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	pacer_buf_add(userdata, ptr, size * nmemb);
	return size * nmemb;
}

int test_http(const char *method, const char *url, const char *body, const char *const *headers,
	      int *status, char **resp)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct curl_slist *hl = NULL;
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (!c)
		return -1;
	for (int i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (status)
		*status = rc == CURLE_OK ? (int)code : 0;
	if (resp)
		*resp = pacer_buf_detach(&b);
	pacer_buf_release(&b);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

int test_closed_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}
