/*
 * fuzz_sse: Marathon's event stream as bytes off the wire, through the
 * Server-Sent Events parser (marathon_sse_feed) and marathon_event_classify()
 * on every event it hands over. The stream is fed twice: whole, and cut
 * into chunks whose sizes come from the input, since curl may cut it
 * anywhere; both must give the same events, in the same order.
 */
#include "backends/marathon/events.h"
#include "reconcile/base/log.h"
#include "tests/fuzz/fuzzlib.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Every event handed over, as "type\ndata-as-JSON\n" lines. */
struct trace {
	struct pacer_buf text;
	size_t n;
};

static int on_event(void *ctx, const char *type, struct json_object *data)
{
	struct trace *t = ctx;
	struct marathon_event_info info;

	if (marathon_event_classify(type, data, &info))
		abort();
	if (info.kind == MARATHON_EVK_APP_DEF && !info.def)
		abort(); /* an app definition event without the definition */
	for (size_t i = 0; i < info.nids; i++)
		if (!info.ids[i])
			abort();
	marathon_event_info_release(&info);
	t->n++;
	if (pacer_buf_puts(&t->text, type) || pacer_buf_putc(&t->text, '\n') ||
	    pacer_buf_puts(&t->text, json_object_to_json_string(data)) ||
	    pacer_buf_putc(&t->text, '\n'))
		abort();
	return 0;
}

/* Feed data whole, or in chunks of 1 + (the chunk's first byte) % 64 bytes. */
static int feed(const uint8_t *data, size_t size, int chunked, struct trace *t)
{
	struct marathon_sse p;
	struct pacer_error *err = NULL;
	size_t i = 0;
	int rc = 0;

	marathon_sse_init(&p, on_event, t);
	while (i < size && !rc) {
		size_t n = chunked ? 1 + (size_t)data[i] % 64 : size;

		if (n > size - i)
			n = size - i;
		rc = marathon_sse_feed(&p, (const char *)data + i, n, &err);
		i += n;
	}
	pacer_error_free(err);
	marathon_sse_release(&p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole = {PACER_BUF_INIT, 0}, cut = {PACER_BUF_INIT, 0};
	int rw, rc;

	pacer_log_set_level(PACER_LOG_ERROR); /* a skipped frame is a warning per event */
	rw = feed(data, size, 0, &whole);
	rc = feed(data, size, 1, &cut);
	if (rw != rc || whole.n != cut.n || whole.text.len != cut.text.len ||
	    (whole.text.len &&
	     memcmp(pacer_buf_cstr(&whole.text), pacer_buf_cstr(&cut.text), whole.text.len)))
		abort(); /* where the stream was cut changed what it says */
	pacer_buf_release(&whole.text);
	pacer_buf_release(&cut.text);
	return 0;
}
