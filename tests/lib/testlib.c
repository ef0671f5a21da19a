#include "tests/lib/testlib.h"
#include "reconcile/buf.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *test_pacer_bin(void)
{
	const char *p = getenv("PACER_BIN");
	return p ? p : PACER_TEST_BINARY_DIR "/pacer";
}

const char *test_sim_bin(void)
{
	const char *p = getenv("PACER_SIM_BIN");
	return p ? p : PACER_TEST_BINARY_DIR "/marathon-sim";
}

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
	/* The first line of stdout is the base URL; wait up to 10 s for it. */
	while (used < sizeof(line) - 1) {
		struct pollfd p = {pfd[0], POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 10000) <= 0)
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

static void drain(int fd, struct pacer_buf *b, int *open_)
{
	char tmp[4096];
	ssize_t r = read(fd, tmp, sizeof(tmp));

	if (r > 0)
		pacer_buf_add(b, tmp, (size_t)r);
	else if (r == 0 || (errno != EINTR && errno != EAGAIN))
		*open_ = 0;
}

int test_run(const char *const *argv, const char *const *env_extra, char **out, char **errout,
	     int timeout_s)
{
	int opipe[2], epipe[2], status = -1, oopen = 1, eopen = 1;
	struct pacer_buf ob = PACER_BUF_INIT, eb = PACER_BUF_INIT;
	time_t deadline = timeout_s > 0 ? time(NULL) + timeout_s : 0;
	pid_t pid;

	if (pipe(opipe) || pipe(epipe))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(opipe[1], 1);
		dup2(epipe[1], 2);
		close(opipe[0]);
		close(epipe[0]);
		for (int i = 0; env_extra && env_extra[i]; i++)
			putenv((char *)env_extra[i]);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(opipe[1]);
	close(epipe[1]);
	while (oopen || eopen) {
		struct pollfd p[2] = {{oopen ? opipe[0] : -1, POLLIN, 0},
				      {eopen ? epipe[0] : -1, POLLIN, 0}};
		int r = poll(p, 2, 200);

		if (r > 0) {
			if (p[0].revents)
				drain(opipe[0], &ob, &oopen);
			if (p[1].revents)
				drain(epipe[0], &eb, &eopen);
		}
		if (deadline && time(NULL) > deadline) {
			kill(pid, SIGKILL);
			break;
		}
	}
	close(opipe[0]);
	close(epipe[0]);
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	else if (WIFEXITED(status))
		status = WEXITSTATUS(status);
	else
		status = 128 + WTERMSIG(status);
	if (out)
		*out = pacer_buf_detach(&ob);
	if (errout)
		*errout = pacer_buf_detach(&eb);
	pacer_buf_release(&ob);
	pacer_buf_release(&eb);
	return status;
}

char *test_tmpdir(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;

	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&path, "%s/%s-XXXXXX", base, prefix ? prefix : "pacer-test") < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int test_rmrf(const char *path)
{
	if (!path)
		return 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdirs_for(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

int test_write_file(const char *path, const char *content)
{
	FILE *f;
	int rc = 0;

	if (mkdirs_for(path))
		return -1;
	f = fopen(path, "w");
	if (!f)
		return -1;
	if (fputs(content, f) < 0)
		rc = -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

char *test_read_file(const char *path, size_t *len)
{
	struct pacer_buf b = PACER_BUF_INIT;
	char tmp[8192];
	size_t r;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	while ((r = fread(tmp, 1, sizeof(tmp), f)) > 0)
		pacer_buf_add(&b, tmp, r);
	fclose(f);
	if (len)
		*len = b.len;
	return pacer_buf_detach(&b);
}

char *test_shared_path(const char *rel)
{
	const char *base = getenv("PACER_SHARED_DIR");
	char *path = NULL;
	struct stat st;

	if (!base)
		base = PACER_TEST_SHARED_DIR;
	if (asprintf(&path, "%s/%s", base, rel) < 0)
		return NULL;
	if (stat(path, &st)) {
		free(path);
		return NULL;
	}
	return path;
}

char *test_source_path(const char *rel)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s", PACER_TEST_SOURCE_DIR, rel) < 0)
		return NULL;
	return path;
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

struct json_object *test_json(const char *sq)
{
	char *s = strdup(sq);
	struct json_object *o;

	cr_assert_not_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	o = json_tokener_parse(s);
	cr_assert_not_null(o, "bad test JSON: %s", s);
	free(s);
	return o;
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
