/* safedeploy probe: endpoints and one round of checks; see probe.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsq.h"
#include "probe.h"
#include "units.h"

#define DEFAULT_INTERVAL_MS (60 * 1000)
#define DEFAULT_TIMEOUT_MS  (10 * 1000)
#define MAX_BODY	    (1u << 20)
#define MAX_ENDPOINTS	    100000

/* Fields of a Gatus endpoint that are read, and those that are known to
 * Gatus but not supported here (a warning each, never an error). */
static const char *const ENDPOINT_KEYS[] = {
	"name",	      "group",	"url", "method", "headers", "body", "interval",
	"conditions", "client", "dns", "alerts", "enabled", NULL,
};
static const char *const CLIENT_KEYS[] = {"timeout", "insecure",
					  "ignore-redirect", NULL};
static const char *const DNS_KEYS[] = {"query-name", "query-type", NULL};
static const char *const ALERT_KEYS[] = {
	"type",
	"enabled",
	"failure-threshold",
	"success-threshold",
	"send-on-resolved",
	"description",
	NULL,
};

struct loader {
	json_t *origins;
	json_t *warnings;
	struct sd_err *err;
};

static bool listed(const char *const *keys, const char *k)
{
	for (; *keys; keys++)
		if (!strcmp(*keys, k))
			return true;
	return false;
}

/* Where path was set: its own key's place, else its nearest parent's (a
 * list element has none of its own). */
static const char *origin(const struct loader *l, const char *path)
{
	char buf[512];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", path);
	while (l->origins && (n = strlen(buf)) > 0) {
		const char *o =
			json_string_value(json_object_get(l->origins, buf));

		if (o)
			return o;
		while (n > 0 && buf[n - 1] != '.' && buf[n - 1] != '[')
			n--;
		buf[n ? n - 1 : 0] = '\0';
	}
	return "";
}

/* "file:line:col: path: message", or "path: message". */
static int fail(const struct loader *l, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const struct loader *l, const char *path, const char *fmt, ...)
{
	char msg[768];
	const char *at = origin(l, path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(l->err, SD_EXIT_CANNOT, "%s%s%s: %s", at,
		       *at ? ": " : "", path, msg);
}

static void warn(const struct loader *l, const char *path, const char *what)
{
	char msg[1024];
	const char *at = origin(l, path);

	snprintf(msg, sizeof(msg), "%s%s'%s' %s", at, *at ? ": " : "", path,
		 what);
	json_array_append_new(l->warnings, json_string(msg));
}

/* Every key of obj not in keys: a warning. */
static void check_keys(const struct loader *l, const char *path, json_t *obj,
		       const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
	{
		char sub[512];

		(void)v;
		if (listed(keys, k))
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		warn(l, sub, "is not supported; ignored");
	}
}

static int get_string(const struct loader *l, json_t *obj, const char *path,
		      const char *key, bool required, char **out)
{
	json_t *v = json_object_get(obj, key);
	char sub[512];

	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!v || json_is_null(v)) {
		if (required)
			return fail(l, path, "'%s' is missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(l, sub, "must be a string");
	*out = strdup(json_string_value(v));
	return *out ? 0 : fail(l, sub, "out of memory");
}

static int get_bool(const struct loader *l, json_t *obj, const char *path,
		    const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	char sub[512];

	if (!v)
		return 0;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!json_is_boolean(v))
		return fail(l, sub, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_duration(const struct loader *l, json_t *obj, const char *path,
			const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	struct sd_err e = {0};
	char sub[512];

	if (!v)
		return 0;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!json_is_string(v))
		return fail(l, sub, "must be a duration such as 30s or 5m");
	if (units_parse_duration(json_string_value(v), out, &e) < 0)
		return fail(l, sub, "%s", e.msg);
	if (*out <= 0)
		return fail(l, sub, "must be more than 0");
	return 0;
}

static int get_threshold(const struct loader *l, json_t *obj, const char *path,
			 const char *key, int *out)
{
	json_t *v = json_object_get(obj, key);
	char sub[512];

	if (!v)
		return 0;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 1000)
		return fail(l, sub, "must be a whole number from 1 to 1000");
	*out = (int)json_integer_value(v);
	return 0;
}

/* tcp://host:port and tls://host:port: a port is required. */
static int hostport_url(const struct loader *l, const char *path,
			struct probe_endpoint *ep, const char *scheme_to)
{
	const char *rest = strstr(ep->url, "://") + 3;
	const char *colon = strrchr(rest, ':');
	char buf[2048], *end;
	long port;
	struct sd_err e = {0};

	if (!colon || colon == rest)
		return fail(l, path, "'%s' needs a host and a port", ep->url);
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 1 || port > 65535)
		return fail(l, path, "'%s': the port must be 1 to 65535",
			    ep->url);
	snprintf(buf, sizeof(buf), "%s://%s", scheme_to, rest);
	if (http_url_check(buf, NULL, 0, &e) < 0)
		return fail(l, path, "invalid URL '%s'", ep->url);
	ep->request_url = strdup(buf);
	return ep->request_url ? 0 : fail(l, path, "out of memory");
}

static int load_url(const struct loader *l, const char *path,
		    struct probe_endpoint *ep, json_t *obj)
{
	json_t *dns = json_object_get(obj, "dns");
	char sub[512];
	struct sd_err e = {0};

	snprintf(sub, sizeof(sub), "%s.url", path);
	if (dns) {
		const char *server = ep->url;
		char dpath[512];

		snprintf(dpath, sizeof(dpath), "%s.dns", path);
		if (!json_is_object(dns))
			return fail(l, dpath, "must be a mapping");
		check_keys(l, dpath, dns, DNS_KEYS);
		ep->kind = PROBE_DNS;
		if (!strncmp(server, "dns://", 6))
			server += 6;
		if (get_string(l, dns, dpath, "query-name", true,
			       &ep->dns_name) < 0 ||
		    get_string(l, dns, dpath, "query-type", true,
			       &ep->dns_type) < 0)
			return -1;
		ep->dns_server = strdup(server);
		if (!ep->dns_server)
			return fail(l, sub, "out of memory");
		if (dnsq_validate(ep->dns_server, ep->dns_name, ep->dns_type,
				  &e) < 0)
			return fail(l, dpath, "%s", e.msg);
		return 0;
	}
	if (!strncmp(ep->url, "tcp://", 6)) {
		ep->kind = PROBE_TCP;
		return hostport_url(l, sub, ep, "http");
	}
	if (!strncmp(ep->url, "tls://", 6)) {
		ep->kind = PROBE_TLS;
		return hostport_url(l, sub, ep, "https");
	}
	if (strncmp(ep->url, "http://", 7) && strncmp(ep->url, "https://", 8))
		return fail(l, sub,
			    "'%s': the scheme must be http://, https://, "
			    "tcp:// or tls:// (or give a dns: block)",
			    ep->url);
	if (http_url_check(ep->url, NULL, 0, &e) < 0)
		return fail(l, sub, "%s", e.msg);
	ep->kind = PROBE_HTTP;
	ep->request_url = strdup(ep->url);
	return ep->request_url ? 0 : fail(l, sub, "out of memory");
}

static int load_headers(const struct loader *l, const char *path,
			struct probe_endpoint *ep, json_t *obj)
{
	json_t *h = json_object_get(obj, "headers"), *v;
	char sub[512];
	const char *k;

	if (!h)
		return 0;
	snprintf(sub, sizeof(sub), "%s.headers", path);
	if (!json_is_object(h))
		return fail(l, sub, "must be a mapping of Name: value");
	ep->headers = calloc(json_object_size(h) + 1, sizeof(char *));
	if (!ep->headers)
		return fail(l, sub, "out of memory");
	json_object_foreach(h, k, v)
	{
		char hp[600];
		const char *s = json_string_value(v);
		size_t len;

		snprintf(hp, sizeof(hp), "%s.%s", sub, k);
		if (!s)
			return fail(l, hp, "must be a string");
		if (!*k || strpbrk(k, ": \t\r\n") || strpbrk(s, "\r\n"))
			return fail(l, hp, "not a valid header name and value");
		len = strlen(k) + strlen(s) + 3;
		ep->headers[ep->nheaders] = malloc(len);
		if (!ep->headers[ep->nheaders])
			return fail(l, hp, "out of memory");
		snprintf(ep->headers[ep->nheaders++], len, "%s: %s", k, s);
	}
	return 0;
}

static int load_conditions(const struct loader *l, const char *path,
			   struct probe_endpoint *ep, json_t *obj)
{
	json_t *c = json_object_get(obj, "conditions");
	char sub[512];

	snprintf(sub, sizeof(sub), "%s.conditions", path);
	if (!c || !json_is_array(c) || !json_array_size(c))
		return fail(l, c ? sub : path,
			    "%s: at least one condition is needed, e.g. "
			    "\"[STATUS] == 200\"",
			    c ? "must be a list" : "'conditions' is missing");
	ep->conds = calloc(json_array_size(c), sizeof(*ep->conds));
	if (!ep->conds)
		return fail(l, sub, "out of memory");
	for (size_t i = 0; i < json_array_size(c); i++) {
		const char *text = json_string_value(json_array_get(c, i));
		struct sd_err e = {0};
		char cp[600];

		snprintf(cp, sizeof(cp), "%s[%zu]", sub, i);
		if (!text)
			return fail(l, cp, "must be a string");
		ep->conds[ep->nconds] = cond_parse(text, &e);
		if (!ep->conds[ep->nconds])
			return fail(l, cp, "%s", e.msg);
		ep->nconds++;
	}
	return 0;
}

/* The webhook an alert goes to: a provider of alerting: we support
 * (custom, slack); another type is a warning, and the alert is dropped. */
static int load_alert(const struct loader *l, const char *path,
		      struct probe_endpoint *ep, json_t *al)
{
	struct probe_alert a = {0};
	bool enabled = true;
	char tp[700];
	struct probe_alert *v;

	snprintf(tp, sizeof(tp), "%s.type", path);
	if (get_bool(l, al, path, "enabled", &enabled) < 0 ||
	    get_bool(l, al, path, "send-on-resolved", &a.send_on_resolved) <
		    0 ||
	    get_string(l, al, path, "type", true, &a.type) < 0 ||
	    get_string(l, al, path, "description", false, &a.description) < 0) {
		free(a.type);
		free(a.description);
		return -1;
	}
	if (!enabled || (strcmp(a.type, "custom") && strcmp(a.type, "slack"))) {
		if (enabled)
			warn(l, tp,
			     "is a provider that is not supported (custom and "
			     "slack are); the alert is ignored");
		free(a.type);
		free(a.description);
		return 0;
	}
	v = realloc(ep->alerts, (ep->nalerts + 1) * sizeof(*v));
	if (!v) {
		free(a.type);
		free(a.description);
		return fail(l, path, "out of memory");
	}
	ep->alerts = v;
	ep->alerts[ep->nalerts++] = a;
	return 0;
}

static int load_alerts(const struct loader *l, const char *path,
		       struct probe_endpoint *ep, json_t *obj)
{
	json_t *a = json_object_get(obj, "alerts");
	char sub[512];

	ep->failure_threshold = 3;
	ep->success_threshold = 2;
	if (!a)
		return 0;
	snprintf(sub, sizeof(sub), "%s.alerts", path);
	if (!json_is_array(a))
		return fail(l, sub, "must be a list");
	/* Gatus's thresholds are per alert; incidents here are per endpoint:
	 * the first alert's thresholds are the endpoint's. */
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *al = json_array_get(a, i);
		char ap[600];

		snprintf(ap, sizeof(ap), "%s[%zu]", sub, i);
		if (!json_is_object(al))
			return fail(l, ap, "must be a mapping");
		check_keys(l, ap, al, ALERT_KEYS);
		if (i == 0 && (get_threshold(l, al, ap, "failure-threshold",
					     &ep->failure_threshold) < 0 ||
			       get_threshold(l, al, ap, "success-threshold",
					     &ep->success_threshold) < 0))
			return -1;
		if (load_alert(l, ap, ep, al) < 0)
			return -1;
	}
	return 0;
}

static int load_endpoint(const struct loader *l, const char *path, json_t *obj,
			 struct probe_endpoint *ep)
{
	json_t *client = json_object_get(obj, "client");

	memset(ep, 0, sizeof(*ep));
	ep->interval_ms = DEFAULT_INTERVAL_MS;
	ep->timeout_ms = DEFAULT_TIMEOUT_MS;
	ep->follow = true;
	ep->origin = strdup(origin(l, path));
	if (!json_is_object(obj))
		return fail(l, path,
			    "must be a mapping with name, url and "
			    "conditions");
	check_keys(l, path, obj, ENDPOINT_KEYS);
	if (get_string(l, obj, path, "name", true, &ep->name) < 0 ||
	    get_string(l, obj, path, "group", false, &ep->group) < 0 ||
	    get_string(l, obj, path, "url", true, &ep->url) < 0 ||
	    get_string(l, obj, path, "method", false, &ep->method) < 0 ||
	    get_string(l, obj, path, "body", false, &ep->body) < 0 ||
	    get_duration(l, obj, path, "interval", &ep->interval_ms) < 0)
		return -1;
	if (!*ep->name)
		return fail(l, path, "'name' is empty");
	if (ep->method) {
		for (char *p = ep->method; *p; p++)
			if (*p < 'A' || *p > 'Z')
				return fail(l, path,
					    "'method' must be an HTTP method "
					    "in capitals, such as GET or POST");
	}
	if (client) {
		char cp[512];

		snprintf(cp, sizeof(cp), "%s.client", path);
		if (!json_is_object(client))
			return fail(l, cp, "must be a mapping");
		check_keys(l, cp, client, CLIENT_KEYS);
		bool ignore = false;

		if (get_duration(l, client, cp, "timeout", &ep->timeout_ms) <
			    0 ||
		    get_bool(l, client, cp, "insecure", &ep->insecure) < 0 ||
		    get_bool(l, client, cp, "ignore-redirect", &ignore) < 0)
			return -1;
		ep->follow = !ignore;
	}
	if (load_url(l, path, ep, obj) < 0 ||
	    load_headers(l, path, ep, obj) < 0 ||
	    load_conditions(l, path, ep, obj) < 0 ||
	    load_alerts(l, path, ep, obj) < 0)
		return -1;
	/* Gatus sends a tcp:// or tls:// check's body and reads what comes
	 * back into [BODY]; here those checks only connect: say so, rather
	 * than let [BODY] conditions fail without a word. */
	if ((ep->kind == PROBE_TCP || ep->kind == PROBE_TLS) && ep->body) {
		char bp[600];

		snprintf(bp, sizeof(bp), "%s.body", path);
		warn(l, bp,
		     "is not sent by tcp:// and tls:// checks here (they "
		     "connect only; [BODY] stays empty)");
	}
	{
		size_t n = strlen(ep->name) +
			   (ep->group ? strlen(ep->group) : 0) + 2;

		ep->key = malloc(n);
		if (!ep->key)
			return fail(l, path, "out of memory");
		snprintf(ep->key, n, "%s%s%s", ep->group ? ep->group : "",
			 ep->group ? "/" : "", ep->name);
	}
	return 0;
}

static void endpoint_release(struct probe_endpoint *ep)
{
	free(ep->name);
	free(ep->group);
	free(ep->url);
	free(ep->key);
	free(ep->request_url);
	free(ep->method);
	free(ep->body);
	for (size_t i = 0; i < ep->nheaders; i++)
		free(ep->headers[i]);
	free(ep->headers);
	free(ep->dns_server);
	free(ep->dns_name);
	free(ep->dns_type);
	for (size_t i = 0; i < ep->nconds; i++)
		cond_free(ep->conds[i]);
	free(ep->conds);
	free(ep->origin);
	for (size_t i = 0; i < ep->nalerts; i++) {
		free(ep->alerts[i].type);
		free(ep->alerts[i].description);
	}
	free(ep->alerts);
	memset(ep, 0, sizeof(*ep));
}

static const char *const CUSTOM_KEYS[] = {"url",     "method",	     "body",
					  "headers", "placeholders", NULL};
static const char *const SLACK_KEYS[] = {"webhook-url", NULL};

/* alerting: beside the endpoints: custom (url, method, body, headers) and
 * slack (webhook-url); any other provider is a warning. */
static int load_providers(const struct loader *l, struct probe_config *pc,
			  json_t *alerting, const char *path)
{
	const char *k;
	json_t *v;

	if (!alerting)
		return 0;
	if (!json_is_object(alerting))
		return fail(l, path, "must be a mapping of providers");
	pc->providers = calloc(2, sizeof(*pc->providers));
	if (!pc->providers)
		return fail(l, path, "out of memory");
	json_object_foreach(alerting, k, v)
	{
		struct probe_provider *p = &pc->providers[pc->nproviders];
		struct probe_endpoint tmp = {0};
		bool slack = !strcmp(k, "slack");
		char sub[512], up[600];
		struct sd_err e = {0};

		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		if (!slack && strcmp(k, "custom")) {
			warn(l, sub, "is not supported; ignored");
			continue;
		}
		if (!json_is_object(v))
			return fail(l, sub, "must be a mapping");
		check_keys(l, sub, v, slack ? SLACK_KEYS : CUSTOM_KEYS);
		if (json_object_get(v, "placeholders"))
			warn(l, sub, "placeholders are not supported; ignored");
		pc->nproviders++;
		p->type = strdup(k);
		if (get_string(l, v, sub, slack ? "webhook-url" : "url", true,
			       &p->url) < 0 ||
		    (!slack &&
		     (get_string(l, v, sub, "method", false, &p->method) < 0 ||
		      get_string(l, v, sub, "body", false, &p->body) < 0 ||
		      load_headers(l, sub, &tmp, v) < 0))) {
			for (size_t i = 0; i < tmp.nheaders; i++)
				free(tmp.headers[i]);
			free(tmp.headers);
			return -1;
		}
		p->headers = tmp.headers;
		p->nheaders = tmp.nheaders;
		snprintf(up, sizeof(up), "%s.%s", sub,
			 slack ? "webhook-url" : "url");
		if (http_url_check(p->url, NULL, 0, &e) < 0)
			return fail(l, up, "%s", e.msg);
	}
	return 0;
}

const struct probe_provider *probe_provider(const struct probe_config *pc,
					    const char *type)
{
	for (size_t i = 0; i < pc->nproviders; i++)
		if (!strcmp(pc->providers[i].type, type))
			return &pc->providers[i];
	return NULL;
}

int probe_config_load(struct probe_config *pc, json_t *root, const char *prefix,
		      json_t *origins, struct sd_err *err)
{
	struct loader l = {origins, NULL, err};
	json_t *list = root;
	const char *enabled_key = "enabled";

	memset(pc, 0, sizeof(*pc));
	pc->concurrency = 64;
	pc->warnings = json_array();
	l.warnings = pc->warnings;
	if (!pc->warnings)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	/* prefix is a dotted path from root. */
	{
		char buf[256], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", prefix);
		for (char *part = strtok_r(buf, ".", &save); part && list;
		     part = strtok_r(NULL, ".", &save))
			list = json_object_get(list, part);
	}
	if (!list)
		return err_set(err, SD_EXIT_CANNOT,
			       "no '%s' to probe: give a list of endpoints "
			       "with name, url and conditions",
			       prefix);
	if (!json_is_array(list) || !json_array_size(list))
		return fail(&l, prefix,
			    "must be a non-empty list of endpoints");
	if (json_array_size(list) > MAX_ENDPOINTS)
		return fail(&l, prefix, "more than %d endpoints",
			    MAX_ENDPOINTS);
	pc->v = calloc(json_array_size(list), sizeof(*pc->v));
	if (!pc->v)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *obj = json_array_get(list, i);
		char path[300];

		snprintf(path, sizeof(path), "%s[%zu]", prefix, i);
		json_t *en = json_object_get(obj, enabled_key);

		if (en && !json_is_boolean(en)) {
			char ep[320];

			snprintf(ep, sizeof(ep), "%s.enabled", path);
			return fail(&l, ep, "must be true or false");
		}
		if (json_is_false(en))
			continue;
		if (load_endpoint(&l, path, obj, &pc->v[pc->n]) < 0) {
			endpoint_release(&pc->v[pc->n]);
			return -1;
		}
		pc->n++;
		for (size_t k = 0; k + 1 < pc->n; k++)
			if (!strcmp(pc->v[k].key, pc->v[pc->n - 1].key))
				return fail(&l, path,
					    "two endpoints named '%s': give "
					    "each its own name (or group)",
					    pc->v[k].key);
	}
	/* alerting: sits beside endpoints (Gatus) or under probe. */
	{
		char apath[300];
		size_t plen = strlen(prefix);
		json_t *parent = root;

		if (plen >= 9 && !strcmp(prefix + plen - 9, "endpoints")) {
			snprintf(apath, sizeof(apath), "%.*salerting",
				 (int)(plen - 9), prefix);
			if (plen > 9)
				parent = json_object_get(root, "probe");
		} else {
			snprintf(apath, sizeof(apath), "alerting");
		}
		if (load_providers(&l, pc, json_object_get(parent, "alerting"),
				   apath) < 0)
			return -1;
	}
	/* As Gatus: an alert whose provider is not configured is dropped,
	 * with a warning (the thresholds still hold). */
	for (size_t i = 0; i < pc->n; i++) {
		struct probe_endpoint *ep = &pc->v[i];
		size_t kept = 0;

		for (size_t k = 0; k < ep->nalerts; k++) {
			char msg[600];

			if (probe_provider(pc, ep->alerts[k].type)) {
				ep->alerts[kept++] = ep->alerts[k];
				continue;
			}
			snprintf(msg, sizeof(msg),
				 "%s%s%s: an alert of type '%s' without "
				 "alerting.%s; the alert is ignored",
				 ep->origin, *ep->origin ? ": " : "", ep->key,
				 ep->alerts[k].type, ep->alerts[k].type);
			json_array_append_new(pc->warnings, json_string(msg));
			free(ep->alerts[k].type);
			free(ep->alerts[k].description);
		}
		ep->nalerts = kept;
	}
	return 0;
}

void probe_config_release(struct probe_config *pc)
{
	for (size_t i = 0; i < pc->nproviders; i++) {
		struct probe_provider *p = &pc->providers[i];

		free(p->type);
		free(p->url);
		free(p->method);
		free(p->body);
		for (size_t k = 0; k < p->nheaders; k++)
			free(p->headers[k]);
		free(p->headers);
	}
	free(pc->providers);
	for (size_t i = 0; i < pc->n; i++)
		endpoint_release(&pc->v[i]);
	free(pc->v);
	json_decref(pc->warnings);
	memset(pc, 0, sizeof(*pc));
}

/* Evaluate the conditions into r (which holds what was observed). */
static void evaluate(struct probe_result *r)
{
	const struct probe_endpoint *ep = r->ep;
	struct cond_values v;

	cond_values_init(&v);
	v.response_time_ms = r->duration_ms;
	v.body = r->body;
	v.body_len = r->body_len;
	v.ip = r->ip;
	if (ep->kind == PROBE_HTTP)
		v.status = r->status;
	/* [CONNECTED]: the TCP connection for tcp:// and http(s)://, the
	 * TLS session for tls://. */
	if (ep->kind == PROBE_TLS)
		v.connected = !r->error[0];
	else if (ep->kind != PROBE_DNS)
		v.connected = r->t.connect > 0 || (!r->error[0] && r->ip[0]);
	if (r->cert_expiry)
		v.cert_expiry_ms = r->cert_expiry * 1000 - r->at_ms;
	if (ep->kind == PROBE_DNS && r->rcode[0])
		v.dns_rcode = r->rcode;
	/* No complete answer (a timeout, a body over the cap, a refused
	 * connection, a failed handshake): down, whatever the conditions
	 * say; they are still shown with what was seen. */
	r->up = !r->error[0];
	r->conditions = json_array();
	for (size_t i = 0; i < ep->nconds; i++) {
		char out[1024];
		bool ok = cond_eval(ep->conds[i], &v, out, sizeof(out));

		json_array_append_new(
			r->conditions,
			json_pack("{s:s, s:b}", "condition",
				  ok ? cond_text(ep->conds[i]) : out, "success",
				  ok));
		r->up &= ok;
	}
	cond_values_release(&v);
}

static void run_dns(struct probe_result *r)
{
	const struct probe_endpoint *ep = r->ep;
	struct dnsq_result d = {0};
	struct sd_err e = {0};
	size_t len = 0;

	r->at_ms = units_now_ms();
	if (dnsq_query(ep->dns_server, ep->dns_name, ep->dns_type,
		       (long)ep->timeout_ms, &d, &e) < 0) {
		snprintf(r->error, sizeof(r->error), "%.*s",
			 (int)sizeof(r->error) - 1,
			 d.error[0] ? d.error : e.msg);
	} else {
		snprintf(r->rcode, sizeof(r->rcode), "%s", d.rcode);
		/* [BODY] is the answer: the records, one per line. */
		for (size_t i = 0; i < d.n; i++)
			len += strlen(d.answers[i]) + 1;
		r->body = calloc(len + 1, 1);
		for (size_t i = 0; r->body && i < d.n; i++) {
			strcat(r->body, d.answers[i]);
			if (i + 1 < d.n)
				strcat(r->body, "\n");
		}
		r->body_len = r->body ? strlen(r->body) : 0;
	}
	snprintf(r->ip, sizeof(r->ip), "%s", d.server);
	r->duration_ms = d.ms;
	dnsq_result_release(&d);
}

/* DNS checks run in threads beside the HTTP batch (each query waits on
 * its own socket with its own deadline), at most DNS_THREADS at once. */
#define DNS_THREADS 32

struct dns_batch {
	struct probe_result *results;
	const size_t *idx;
	size_t n;
	size_t next; /* taken under lock */
	pthread_mutex_t lock;
};

static void *dns_worker(void *arg)
{
	struct dns_batch *b = arg;

	for (;;) {
		size_t k;

		pthread_mutex_lock(&b->lock);
		k = b->next++;
		pthread_mutex_unlock(&b->lock);
		if (k >= b->n)
			return NULL;
		run_dns(&b->results[b->idx[k]]);
	}
}

int probe_run_once(const struct probe_config *pc, struct probe_result *results,
		   struct sd_err *err)
{
	struct dns_batch dns = {.results = results,
				.lock = PTHREAD_MUTEX_INITIALIZER};
	pthread_t threads[DNS_THREADS];
	size_t nthreads = 0, *dns_idx = calloc(pc->n + 1, sizeof(*dns_idx));
	struct http_options o = {
		.concurrency = pc->concurrency,
		.max_body = MAX_BODY,
		.connect_timeout_ms = DEFAULT_TIMEOUT_MS,
	};
	struct http_request *reqs = calloc(pc->n + 1, sizeof(*reqs));
	struct http_result *hr = calloc(pc->n + 1, sizeof(*hr));
	size_t *map = calloc(pc->n + 1, sizeof(*map)), nreq = 0;
	struct http_client *c = NULL;
	int64_t started;
	int rc = 0;

	if (!reqs || !hr || !map) {
		rc = err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto out;
	}
	memset(results, 0, pc->n * sizeof(*results));
	for (size_t i = 0; i < pc->n; i++) {
		const struct probe_endpoint *ep = &pc->v[i];
		struct http_request *rq;

		results[i].ep = ep;
		if (ep->kind == PROBE_DNS)
			continue;
		rq = &reqs[nreq];
		map[nreq++] = i;
		rq->url = ep->request_url;
		rq->method = ep->method;
		rq->body = ep->body;
		rq->body_len = ep->body ? strlen(ep->body) : 0;
		rq->headers = (const char *const *)ep->headers;
		rq->nheaders = ep->nheaders;
		rq->timeout_ms = (long)ep->timeout_ms;
		rq->fresh = true;
		rq->connect_only = ep->kind != PROBE_HTTP;
		rq->certinfo = !strncmp(ep->request_url, "https://", 8);
		rq->insecure = ep->insecure;
		rq->follow = ep->follow;
	}
	for (size_t i = 0; dns_idx && i < pc->n; i++)
		if (pc->v[i].kind == PROBE_DNS)
			dns_idx[dns.n++] = i;
	dns.idx = dns_idx;
	c = http_client_new(&o, err);
	if (!c || !dns_idx) {
		if (!dns_idx)
			err_set(err, SD_EXIT_CANNOT, "out of memory");
		rc = -1;
		goto out;
	}
	for (; nthreads < dns.n && nthreads < DNS_THREADS; nthreads++)
		if (pthread_create(&threads[nthreads], NULL, dns_worker,
				   &dns) != 0)
			break;
	if (dns.n && !nthreads)
		dns_worker(&dns); /* no thread: in turn, here */
	started = units_now_ms();
	if (nreq && http_request_all(c, reqs, nreq, hr, err) < 0)
		rc = -1;
	for (size_t t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	nthreads = 0;
	if (rc < 0)
		goto out;
	for (size_t k = 0; k < nreq; k++) {
		struct probe_result *r = &results[map[k]];
		struct http_result *h = &hr[k];

		r->at_ms = started;
		r->duration_ms = h->t.total / 1000;
		r->status = h->status;
		r->t = h->t;
		r->cert_expiry = h->cert_expiry;
		snprintf(r->ip, sizeof(r->ip), "%s", h->ip);
		if (h->failure != HTTP_OK)
			snprintf(r->error, sizeof(r->error), "%s", h->error);
		r->body = h->body;
		r->body_len = h->len;
		h->body = NULL;
	}
	for (size_t i = 0; i < pc->n; i++)
		evaluate(&results[i]);
out:
	for (size_t t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	free(dns_idx);
	for (size_t k = 0; hr && k < nreq; k++)
		http_result_release(&hr[k]);
	http_client_free(c);
	free(reqs);
	free(hr);
	free(map);
	return rc;
}

void probe_result_release(struct probe_result *r)
{
	free(r->body);
	json_decref(r->conditions);
	memset(r, 0, sizeof(*r));
}

json_t *probe_result_json(const struct probe_result *r)
{
	const struct probe_endpoint *ep = r->ep;
	json_t *o = json_object();
	char when[32];

	units_format_utc(r->at_ms, when, sizeof(when));
	json_object_set_new(o, "name", json_string(ep->name));
	json_object_set_new(o, "group",
			    ep->group ? json_string(ep->group) : json_null());
	json_object_set_new(o, "key", json_string(ep->key));
	json_object_set_new(o, "url", json_string(ep->url));
	json_object_set_new(o, "up", json_boolean(r->up));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));
	json_object_set_new(o, "status",
			    r->status ? json_integer(r->status) : json_null());
	json_object_set_new(o, "ip",
			    r->ip[0] ? json_string(r->ip) : json_null());
	json_object_set_new(o, "timings_ms",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "dns",
				      r->t.dns / 1000.0, "connect",
				      r->t.connect / 1000.0, "tls",
				      r->t.tls / 1000.0, "first_byte",
				      r->t.first_byte / 1000.0, "total",
				      r->t.total / 1000.0));
	if (r->cert_expiry) {
		char exp[32];

		json_object_set_new(
			o, "certificate_expiration",
			json_string(units_format_utc(r->cert_expiry * 1000, exp,
						     sizeof(exp))));
	}
	if (r->rcode[0])
		json_object_set_new(o, "dns_rcode", json_string(r->rcode));
	json_object_set_new(o, "error",
			    r->error[0] ? json_string(r->error) : json_null());
	json_object_set_new(o, "conditions",
			    r->conditions ? json_incref(r->conditions)
					  : json_array());
	return o;
}
