/*
 * fuzz_webhook: a webhook request as the network delivers it, through
 * webhook_verify() and webhook_parse() for each provider
 * (backends/webhook/webhook.c). The input's length picks the provider and
 * the tracked branch (NULL or "main"). An input holding "\n\n" is headers
 * ("Name: value" lines, at most 16) then the body; any other input is the
 * body of a delivery whose event header and signature are made here, so a
 * seed payload is read as the provider sends it, and its signature, right
 * by construction, must verify.
 */
#include "backends/webhook/webhook.h"
#include "tests/fuzz/fuzzlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "fuzz-secret"
#define MAX_HEADERS 16

static const char *const events[] = {"push", "pull_request", "ping", "Push Hook",
                                     "Merge Request Hook", "release"};
static const char *const event_header[] = {"X-GitHub-Event", "X-Gitlab-Event", "X-Gitea-Event",
                                           "X-Pacer-Event"};
static const char *const sig_header[] = {"X-Hub-Signature-256", "X-Gitlab-Token",
                                         "X-Gitea-Signature", "X-Pacer-Signature"};

/* "Name: value" lines of text (modified in place) into h; returns the count of pairs. */
static size_t parse_headers(char *text, const char **h)
{
	size_t n = 0;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line && n < MAX_HEADERS;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		h[2 * n] = line;
		h[2 * n + 1] = colon;
		n++;
	}
	return n;
}

/* The headers a provider sends with body, signed with SECRET, into h (sig: room for them). */
static void made_headers(enum webhook_provider p, const char *body, size_t len, size_t pick,
                         const char **h, char sig[80])
{
	char hex[65];

	if (webhook_hmac_hex(SECRET, body, len, hex))
		abort();
	if (p == WEBHOOK_GITLAB)
		strcpy(sig, SECRET);
	else if (p == WEBHOOK_GITEA)
		strcpy(sig, hex);
	else
		snprintf(sig, 80, "sha256=%s", hex);
	h[0] = event_header[p];
	h[1] = events[pick % (sizeof(events) / sizeof(*events))];
	h[2] = sig_header[p];
	h[3] = sig;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum webhook_provider p = (enum webhook_provider)(size % 4);
	const char *tracked = (size / 4) % 2 ? "main" : NULL;
	const char *h[2 * MAX_HEADERS + 1] = {NULL}, *head, *body;
	size_t hlen, blen;
	char sig[80], *htext = NULL;
	int given = fuzz_split(data, size, "\n\n", &head, &hlen, &body, &blen), rc;
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	struct pacer_error *err = NULL;

	if (given) {
		htext = fuzz_strndup(head, hlen);
		parse_headers(htext, h);
	} else {
		made_headers(p, body = head, blen = hlen, size / 8, h, sig);
	}
	rc = webhook_verify(p, h, body, blen, SECRET, &err);
	if (!given && rc != 0)
		abort(); /* a delivery signed with the secret was refused */
	pacer_error_clear(&err);
	rc = webhook_parse(p, h, body, blen, tracked, &ev, &err);
	if (rc == 0 && (!ev.reason || ev.action > WEBHOOK_PING))
		abort(); /* an answer without a reason */
	webhook_event_release(&ev);
	pacer_error_clear(&err);
	free(htext);
	return 0;
}
