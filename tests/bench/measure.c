/*
 * measure.c: run one command and report what it cost, for the benchmark.
 *
 *   bench-measure -o RESULT.json [-i STDIN] [-O STDOUT] [-E STDERR] -- PROGRAM ARGS...
 *
 * Runs PROGRAM (found on PATH like execvp) as a child, waits for it with
 * wait4() and writes one JSON object to RESULT.json:
 *   {"exit": 0, "signal": 0, "wall_s": 1.23, "user_s": 0.9, "sys_s": 0.1,
 *    "cpu_s": 1.0, "maxrss_kb": 51234}
 * wall_s is CLOCK_MONOTONIC from fork to reap; user/sys/maxrss come from the
 * child's rusage (maxrss of the child alone: nothing else runs in it). The
 * child's stdout and stderr go to the named files (default: inherited), so
 * what pacer prints costs the same in every run and never reaches a TTY.
 *
 * We use wait4() instead of /usr/bin/time so that no extra package is
 * needed and the numbers are exact. Exit status: 0 when the child ran (its
 * own exit code is in the JSON), 2 on usage errors, 1 when it could not be
 * started.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] = "usage: bench-measure -o RESULT.json [-i STDIN] [-O STDOUT] [-E STDERR] -- PROGRAM ARGS...\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* In the child: point fd at path (opened with flags), or die with a message. */
static void redirect(int fd, const char *path, int flags)
{
	int f;

	if (!path)
		return;
	f = open(path, flags, 0644);
	if (f < 0) {
		fprintf(stderr, "bench-measure: cannot open %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (dup2(f, fd) < 0)
		_exit(127);
	close(f);
}

int main(int argc, char **argv)
{
	const char *out = NULL, *in_path = NULL, *out_path = NULL, *err_path = NULL;
	struct rusage ru;
	double t0, t1;
	int status = 0, i;
	pid_t pid;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc) {
			fputs(USAGE, stderr);
			return 2;
		}
		if (!strcmp(argv[i], "-o"))
			out = argv[++i];
		else if (!strcmp(argv[i], "-i"))
			in_path = argv[++i];
		else if (!strcmp(argv[i], "-O"))
			out_path = argv[++i];
		else if (!strcmp(argv[i], "-E"))
			err_path = argv[++i];
		else {
			fprintf(stderr, "bench-measure: unknown flag %s\n%s", argv[i], USAGE);
			return 2;
		}
	}
	if (!out || i >= argc) {
		fputs(USAGE, stderr);
		return 2;
	}

	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench-measure: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		redirect(0, in_path, O_RDONLY);
		redirect(1, out_path, O_WRONLY | O_CREAT | O_TRUNC);
		redirect(2, err_path, O_WRONLY | O_CREAT | O_TRUNC);
		execvp(argv[i], argv + i);
		fprintf(stderr, "bench-measure: cannot run %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench-measure: wait4: %s\n", strerror(errno));
			return 1;
		}
	}
	t1 = now_s();

	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "bench-measure: cannot write %s: %s\n", out, strerror(errno));
		return 1;
	}
	fprintf(f,
		"{\"exit\": %d, \"signal\": %d, \"wall_s\": %.6f, \"user_s\": %.6f, \"sys_s\": %.6f, "
		"\"cpu_s\": %.6f, \"maxrss_kb\": %ld}\n",
		WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0, t1 - t0,
		tv_s(ru.ru_utime), tv_s(ru.ru_stime), tv_s(ru.ru_utime) + tv_s(ru.ru_stime), ru.ru_maxrss);
	if (fclose(f)) {
		fprintf(stderr, "bench-measure: cannot write %s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}
