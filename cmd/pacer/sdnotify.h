/*
 * sdnotify.h: tell systemd how a long-running pacer (watch, serve) is doing,
 * for units with Type=notify (sd_notify(3)):
 *
 *   READY=1     watch: once the first sync has returned; serve: once it
 *               listens (cmd_serve.c), so `systemctl start` returns then;
 *   STATUS=...  what it is doing: the running sync and the last result,
 *               shown by `systemctl status`;
 *   WATCHDOG=1  every half WatchdogSec=, while the event loop runs (watch)
 *               or while GET /healthz answers (serve: sdnotify_probe);
 *   STOPPING=1  when a stop was asked for.
 *
 * Outside systemd ($NOTIFY_SOCKET unset), and in a build without libsystemd
 * (PACER_HAVE_LIBSYSTEMD undefined), every call does nothing and
 * sdnotify_watchdog_ms() is 0. Thread-safe.
 */
#ifndef PACER_CMD_SDNOTIFY_H
#define PACER_CMD_SDNOTIFY_H

#include <signal.h>

void sdnotify_ready(void);
void sdnotify_stopping(void);
void sdnotify_watchdog(void);
/* STATUS=<printf format>; one line, shown as is by systemctl status. */
void sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How often to send WATCHDOG=1, in ms: half of WatchdogSec=, 0 when off. */
long sdnotify_watchdog_ms(void);

struct sdnotify_probe;

/*
 * When the unit has a watchdog, start a thread that sends WATCHDOG=1 every
 * sdnotify_watchdog_ms() as long as `GET /healthz` on the server's own
 * address answers 200 (listen as given to pacer serve: "IP:PORT",
 * "[IPv6]:PORT", "host:PORT"; a wildcard address is probed on loopback;
 * port is the bound port). A server that stops answering stops the pings,
 * and systemd restarts it. Returns 0 and *out (NULL when there is no
 * watchdog), -1 when the thread cannot start. Stop with
 * sdnotify_probe_stop() (NULL is a no-op).
 */
int sdnotify_probe_start(struct sdnotify_probe **out, const char *listen, int port);
void sdnotify_probe_stop(struct sdnotify_probe *p);

#endif
