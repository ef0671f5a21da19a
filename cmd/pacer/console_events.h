/*
 * console_events.h: the live updates of the web console's overview, as
 * Server-Sent Events (GET /events, text/event-stream).
 *
 * One thread renders the overview's live part (console_int.h) through the
 * API's handler, as the page does, and sends it to every open stream as
 * an event "overview" whose data is that markup (escaped when rendered):
 * every CONSOLE_EVENTS_EVERY_S seconds while a stream is open, at once
 * when a sync starts or ends or an action of the console was made
 * (console_events_poke()), and at once for a new stream. A comment line
 * every 15 s keeps idle proxies from closing the stream.
 *
 * A stream holds no thread: its connection is suspended (MHD) while there
 * is nothing to send and resumed by the thread when there is. At most
 * CONSOLE_EVENTS_MAX streams (then 503); when the service stops, every
 * stream ends.
 */
#ifndef PACER_CMD_CONSOLE_EVENTS_H
#define PACER_CMD_CONSOLE_EVENTS_H

#include <microhttpd.h>

struct serve;
struct console_events;

#define CONSOLE_EVENTS_EVERY_S 5
#define CONSOLE_EVENTS_MAX 32

/* Start the thread; s borrowed. 0, or -1 (out of memory, no thread). */
int console_events_new(struct console_events **out, struct serve *s);
/* End every stream and the thread (joined). Idempotent; NULL: no-op. */
void console_events_stop(struct console_events *e);
/* console_events_stop(), then free. NULL: no-op. */
void console_events_free(struct console_events *e);

/* Answer GET /events on c (a signed-in request) with a stream. */
enum MHD_Result console_events_open(struct console_events *e, struct MHD_Connection *c);

/* Something changed: render and send now. Thread-safe. */
void console_events_poke(struct console_events *e);

#endif
