#include "reconcile/base/buf.h"
#include "reconcile/base/files.h"
#include "tests/lib/testlib.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
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

/* mkdir -p of the directory path is in. */
static int mkdirs_for(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct pacer_error *err = NULL;
	char *dir;
	int rc;

	if (!slash || slash == path)
		return 0;
	dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	rc = pacer_mkdir_p(dir, 0755, &err);
	pacer_error_free(err);
	free(dir);
	return rc ? -1 : 0;
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

struct json_object *test_json_get(struct json_object *o, const char *path)
{
	char key[128];
	const char *p = path;

	while (o && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, strtoul(key, NULL, 10));
		else if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		p += n + (dot ? 1 : 0);
	}
	return o;
}
