/* Webhook alerts; see alert.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "http.h"
#include "units.h"

#define BACKOFF_MAX_MS (10 * 60 * 1000)

/* s as the inside of a JSON string (the template's quotes are its own). */
static void json_inner(FILE *f, const char *s)
{
	json_t *v = json_string(s ? s : "");
	char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
	size_t n = text ? strlen(text) : 0;

	if (n >= 2)
		fwrite(text + 1, 1, n - 2, f);
	free(text);
	json_decref(v);
}

/* Gatus's custom body: [ENDPOINT_NAME], [ENDPOINT_GROUP], [ENDPOINT_URL],
 * [ALERT_DESCRIPTION], [ALERT_TRIGGERED_OR_RESOLVED], [RESULT_ERRORS],
 * replaced by their values, escaped for a JSON string. */
static char *from_template(const char *tpl, const struct probe_alert *a,
			   const struct probe_endpoint *ep,
			   const struct history_transition *t)
{
	static const char *const names[] = {
		"[ENDPOINT_NAME]",
		"[ENDPOINT_GROUP]",
		"[ENDPOINT_URL]",
		"[ALERT_DESCRIPTION]",
		"[ALERT_TRIGGERED_OR_RESOLVED]",
		"[RESULT_ERRORS]",
	};
	const char *values[] = {
		ep->name,
		ep->group ? ep->group : "",
		ep->url,
		a->description ? a->description : "",
		t->opened ? "TRIGGERED" : "RESOLVED",
		t->reason,
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (const char *p = tpl; *p;) {
		size_t i = 0;

		for (; i < sizeof(names) / sizeof(*names); i++)
			if (!strncmp(p, names[i], strlen(names[i])))
				break;
		if (i < sizeof(names) / sizeof(*names)) {
			json_inner(f, values[i]);
			p += strlen(names[i]);
		} else {
			fputc(*p++, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *alert_body(const struct probe_provider *p, const struct probe_alert *a,
		 const struct probe_endpoint *ep,
		 const struct history_transition *t)
{
	char at[32], text[1024];
	json_t *doc;
	char *out;

	if (p->body)
		return from_template(p->body, a, ep, t);
	units_format_utc(t->at_ms, at, sizeof(at));
	if (!strcmp(p->type, "slack")) {
		if (t->opened)
			snprintf(text, sizeof(text),
				 ":rotating_light: *%s* is down%s%s: %s",
				 ep->key, a->description ? " - " : "",
				 a->description ? a->description : "",
				 t->reason);
		else
			snprintf(text, sizeof(text),
				 ":white_check_mark: *%s* is up again%s%s",
				 ep->key, a->description ? " - " : "",
				 a->description ? a->description : "");
		doc = json_pack("{s:s}", "text", text);
	} else {
		doc = json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:o, s:s}, s:o, "
				"s:s, s:s}",
				"idempotency_key", t->idempotency, "event",
				t->opened ? "opened" : "resolved", "incident",
				(json_int_t)t->incident, "endpoint", "key",
				ep->key, "name", ep->name, "group",
				ep->group ? json_string(ep->group)
					  : json_null(),
				"url", ep->url, "description",
				a->description ? json_string(a->description)
					       : json_null(),
				"reason", t->reason, "at", at);
	}
	out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	return out;
}

static const struct probe_endpoint *endpoint(const struct probe_config *pc,
					     const char *key)
{
	for (size_t i = 0; i < pc->n; i++)
		if (!strcmp(pc->v[i].key, key))
			return &pc->v[i];
	return NULL;
}

struct delivery {
	const struct history_transition *t;
	const struct probe_endpoint *ep;
	const struct probe_alert *a;
	const struct probe_provider *p;
	char id[160];
	char *body;
	char **headers;
	int attempts;
};

static void delivery_free(struct delivery *d)
{
	free(d->body);
	for (size_t i = 0; d->headers && d->headers[i]; i++)
		free(d->headers[i]);
	free(d->headers);
	memset(d, 0, sizeof(*d));
}

/* The deliveries due now; *waiting is set when some wait for later. */
static size_t due(struct history *h, const struct probe_config *pc,
		  const struct history_transition *v, size_t n,
		  struct delivery *out, size_t cap, int64_t now, bool *waiting)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct probe_endpoint *ep = endpoint(pc, v[i].key);

		for (size_t j = 0; ep && j < ep->nalerts && k < cap; j++) {
			const struct probe_alert *a = &ep->alerts[j];
			struct delivery *d = &out[k];
			int64_t next;
			bool sent;

			if (!v[i].opened && !a->send_on_resolved)
				continue;
			memset(d, 0, sizeof(*d));
			snprintf(d->id, sizeof(d->id), "%s-%s-%zu",
				 v[i].idempotency, a->type, j);
			if (history_delivery_get(h, d->id, &d->attempts, &sent,
						 &next) < 0 ||
			    sent || d->attempts >= ALERT_MAX_ATTEMPTS)
				continue;
			if (next > now) {
				*waiting = true;
				continue;
			}
			d->t = &v[i];
			d->ep = ep;
			d->a = a;
			d->p = probe_provider(pc, a->type);
			k++;
		}
	}
	return k;
}

/* Every delivery of v[i] is sent or given up: it is done. */
static bool all_settled(struct history *h, const struct probe_config *pc,
			const struct history_transition *t)
{
	const struct probe_endpoint *ep = endpoint(pc, t->key);

	for (size_t j = 0; ep && j < ep->nalerts; j++) {
		char id[160];
		int attempts;
		int64_t next;
		bool sent;

		if (!t->opened && !ep->alerts[j].send_on_resolved)
			continue;
		snprintf(id, sizeof(id), "%s-%s-%zu", t->idempotency,
			 ep->alerts[j].type, j);
		if (history_delivery_get(h, id, &attempts, &sent, &next) < 0 ||
		    (!sent && attempts < ALERT_MAX_ATTEMPTS))
			return false;
	}
	return true;
}

static int send_all(struct history *h, struct delivery *d, size_t n,
		    struct alert_stats *st, json_t *errors, int64_t *soonest,
		    struct sd_err *err)
{
	struct http_options o = {.timeout_ms = 10000};
	struct http_request *rq = calloc(n, sizeof(*rq));
	struct http_result *res = calloc(n, sizeof(*res));
	struct http_client *c = NULL;
	int rc = 0;

	if (!rq || !res) {
		rc = err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct probe_provider *p = d[i].p;
		size_t nh = 0;

		d[i].body = alert_body(p, d[i].a, d[i].ep, d[i].t);
		d[i].headers = calloc(p->nheaders + 3, sizeof(char *));
		if (!d[i].body || !d[i].headers) {
			rc = err_set(err, SD_EXIT_CANNOT, "out of memory");
			goto out;
		}
		d[i].headers[nh++] = strdup("Content-Type: application/json");
		d[i].headers[nh] = malloc(strlen(d[i].id) + 20);
		if (d[i].headers[nh])
			sprintf(d[i].headers[nh], "Idempotency-Key: %s",
				d[i].id);
		nh++;
		for (size_t k = 0; k < p->nheaders; k++)
			d[i].headers[nh++] = strdup(p->headers[k]);
		rq[i].url = p->url;
		rq[i].method = p->method ? p->method : "POST";
		rq[i].body = d[i].body;
		rq[i].body_len = strlen(d[i].body);
		rq[i].headers = (const char *const *)d[i].headers;
		rq[i].nheaders = nh;
		rq[i].follow = 0;
	}
	c = http_client_new(&o, err);
	if (!c || http_request_all(c, rq, n, res, err) < 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool ok = res[i].failure == HTTP_OK && res[i].status >= 200 &&
			  res[i].status < 300;
		int64_t now = units_now_ms(), next;
		char why[384];

		if (ok) {
			st->sent++;
			if (history_delivery_put(h, d[i].id,
						 d[i].t->idempotency, true,
						 NULL, now, 0, err) < 0)
				rc = -1;
			continue;
		}
		if (res[i].failure != HTTP_OK)
			snprintf(why, sizeof(why), "%s", res[i].error);
		else
			snprintf(why, sizeof(why), "HTTP %ld", res[i].status);
		/* 0.5 s, 1 s, 2 s, ... at most 10 minutes. */
		next = now + ((int64_t)500
			      << (d[i].attempts < 12 ? d[i].attempts : 12));
		if (next - now > BACKOFF_MAX_MS)
			next = now + BACKOFF_MAX_MS;
		if (history_delivery_put(h, d[i].id, d[i].t->idempotency, false,
					 why, now, next, err) < 0)
			rc = -1;
		if (d[i].attempts + 1 >= ALERT_MAX_ATTEMPTS)
			st->given_up++;
		else
			st->failed++;
		if (!*soonest || next < *soonest)
			*soonest = next;
		json_array_append_new(
			errors,
			json_sprintf("%s alert for %s (incident %lld "
				     "%s), attempt %d: %s",
				     d[i].a->type, d[i].ep->key,
				     (long long)d[i].t->incident,
				     d[i].t->opened ? "opened" : "resolved",
				     d[i].attempts + 1, why));
	}
out:
	for (size_t i = 0; res && i < n; i++)
		http_result_release(&res[i]);
	for (size_t i = 0; i < n; i++)
		delivery_free(&d[i]);
	http_client_free(c);
	free(rq);
	free(res);
	return rc;
}

int alert_deliver(struct history *h, const struct probe_config *pc, int tries,
		  struct alert_stats *st, json_t *errors, struct sd_err *err)
{
	struct history_transition *v = NULL;
	struct delivery *d = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (history_pending(h, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct probe_endpoint *ep = endpoint(pc, v[i].key);

		cap += ep ? ep->nalerts : 0;
	}
	d = calloc(cap + 1, sizeof(*d));
	if (!d) {
		free(v);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	for (int round = 0; round < tries && rc == 0; round++) {
		bool waiting = false;
		int64_t soonest = 0, now = units_now_ms();
		size_t k = due(h, pc, v, n, d, cap, now, &waiting);

		if (k == 0 && (!waiting || round + 1 >= tries))
			break;
		if (k && send_all(h, d, k, st, errors, &soonest, err) < 0)
			rc = -1;
		/* Wait for the next attempt only when there will be one in
		 * this run. */
		if (rc == 0 && round + 1 < tries && (soonest || waiting)) {
			int64_t wait =
				soonest ? soonest - units_now_ms() : 1000;

			if (wait > 0 && wait <= 4000) {
				struct timespec ts = {wait / 1000,
						      (wait % 1000) * 1000000};

				nanosleep(&ts, NULL);
			} else if (wait > 4000) {
				break;
			}
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((!endpoint(pc, v[i].key) || all_settled(h, pc, &v[i])) &&
		    history_transition_done(h, v[i].idempotency, units_now_ms(),
					    err) < 0)
			rc = -1;
	free(d);
	free(v);
	return rc;
}
