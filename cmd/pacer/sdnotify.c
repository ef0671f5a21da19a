/*
 * sdnotify.c: systemd notifications for watch and serve (see sdnotify.h),
 * on libsystemd's sd_notify(), which does nothing when $NOTIFY_SOCKET is
 * unset. Built without libsystemd, every function is a no-op.
 */
#include "cmd/pacer/sdnotify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef PACER_HAVE_LIBSYSTEMD

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/base/log.h"
#include "reconcile/base/thread.h"

void sdnotify_ready(void)
{
	sd_notify(0, "READY=1");
}

void sdnotify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void sdnotify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

void sdnotify_status(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line: a newline would start another assignment. */
	line[strcspn(line, "\n")] = '\0';
	sd_notifyf(0, "STATUS=%s", line);
}

long sdnotify_watchdog_ms(void)
{
	uint64_t usec = 0;

	/* > 0: WATCHDOG_USEC is set (and WATCHDOG_PID, when set, is ours). */
	if (sd_watchdog_enabled(0, &usec) <= 0 || !usec)
		return 0;
	return usec / 2000 ? (long)(usec / 2000) : 1;
}

/* ---- the serve watchdog: ping while /healthz answers -------------------- */

struct sdnotify_probe {
	struct pacer_worker worker; /* cv times the probes */
	long every_ms;
	char host[256], port[16];
};

/* 1 when GET /healthz answers 200 within the ping interval (at most 5 s). */
static int probe_once(const struct sdnotify_probe *p)
{
	static const char request[] = "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n";
	long ms = p->every_ms < 5000 ? p->every_ms : 5000;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct addrinfo hints, *res = NULL;
	char reply[16];
	size_t got = 0;
	int fd = -1, ok = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(p->host, p->port, &hints, &res))
		return 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		/* On Linux SO_SNDTIMEO bounds connect() too. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return 0;
	if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(request) - 1) {
		while (got < sizeof(reply)) {
			ssize_t n = recv(fd, reply + got, sizeof(reply) - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		/* "HTTP/1.x 200 " */
		ok = got >= 12 && !memcmp(reply, "HTTP/1.", 7) && !memcmp(reply + 8, " 200", 4);
	}
	close(fd);
	return ok;
}

static void *probe_main(void *arg)
{
	struct sdnotify_probe *p = arg;
	int failing = 0;

	pthread_mutex_lock(&p->worker.mu);
	while (!p->worker.quit) {
		struct timespec at;
		int ok;

		pthread_mutex_unlock(&p->worker.mu);
		ok = probe_once(p);
		if (ok)
			sdnotify_watchdog();
		if (!ok && !failing)
			PLOG_WARN("watchdog: GET /healthz on %s port %s does not answer 200: "
			          "systemd is not told pacer is alive and restarts it after "
			          "WatchdogSec=",
			          p->host, p->port);
		else if (ok && failing)
			PLOG_INFO("watchdog: GET /healthz answers again");
		failing = !ok;
		pthread_mutex_lock(&p->worker.mu);

		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += p->every_ms / 1000;
		at.tv_nsec += (p->every_ms % 1000) * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		while (!p->worker.quit &&
		       pthread_cond_timedwait(&p->worker.cv, &p->worker.mu, &at) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->worker.mu);
	return NULL;
}

int sdnotify_probe_start(struct sdnotify_probe **out, const char *listen, int port)
{
	long every = sdnotify_watchdog_ms();
	struct sdnotify_probe *p;
	const char *colon = strrchr(listen, ':');
	size_t len = colon ? (size_t)(colon - listen) : strlen(listen);

	*out = NULL;
	if (!every)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->every_ms = every;
	if (len >= 2 && listen[0] == '[' && listen[len - 1] == ']') {
		listen++;
		len -= 2;
	}
	snprintf(p->host, sizeof(p->host), "%.*s", (int)len, listen);
	/* A wildcard address answers on loopback. */
	if (!p->host[0] || !strcmp(p->host, "0.0.0.0") || !strcmp(p->host, "*"))
		snprintf(p->host, sizeof(p->host), "127.0.0.1");
	else if (!strcmp(p->host, "::"))
		snprintf(p->host, sizeof(p->host), "::1");
	snprintf(p->port, sizeof(p->port), "%d", port);

	if (pacer_worker_start(&p->worker, probe_main, p)) {
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void sdnotify_probe_stop(struct sdnotify_probe *p)
{
	if (!p)
		return;
	pacer_worker_stop(&p->worker);
	free(p);
}

#else /* no libsystemd: nothing to notify */

void sdnotify_ready(void)
{
}

void sdnotify_stopping(void)
{
}

void sdnotify_watchdog(void)
{
}

void sdnotify_status(const char *fmt, ...)
{
	(void)fmt;
}

long sdnotify_watchdog_ms(void)
{
	return 0;
}

int sdnotify_probe_start(struct sdnotify_probe **out, const char *listen, int port)
{
	(void)listen;
	(void)port;
	*out = NULL;
	return 0;
}

void sdnotify_probe_stop(struct sdnotify_probe *p)
{
	(void)p;
}

#endif
