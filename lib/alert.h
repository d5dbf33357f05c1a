/* Webhook alerts for the probe's incident transitions: Gatus's custom
 * provider (a POST of our JSON, or of the provider's body template) and a
 * Slack-compatible one. Each delivery carries an Idempotency-Key header
 * (the transition's key and the alert's); what was delivered is recorded
 * in the history, so a transition is alerted once per alert even across
 * restarts; a failed delivery is retried with backoff, in the same run and
 * in later ones, up to ALERT_MAX_ATTEMPTS. */
#ifndef SD_ALERT_H
#define SD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "history.h"
#include "probe.h"

#define ALERT_MAX_ATTEMPTS 8

struct alert_stats {
	size_t sent, failed, given_up;
};

/* Deliver what is pending, making up to tries rounds of attempts (waiting
 * between them as the backoff says); failures are appended to errors as
 * strings ("slack alert for api (incident 3 opened): HTTP 500"). */
int alert_deliver(struct history *h, const struct probe_config *pc, int tries,
		  struct alert_stats *st, json_t *errors, struct sd_err *err);

/* The body of one delivery (malloc'd): for tests and --dry-run. */
char *alert_body(const struct probe_provider *p, const struct probe_alert *a,
		 const struct probe_endpoint *ep,
		 const struct history_transition *t);

#endif
