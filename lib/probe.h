/* safedeploy probe: the checks of a status page. A Gatus user's endpoints
 * list (name, group, url, method, headers, body, interval, conditions,
 * client.timeout, client.insecure, client.ignore-redirect, dns.query-name,
 * dns.query-type, alerts) is read as it is; a field we do not support is a
 * warning that names it; a malformed one (a bad URL, an unknown
 * placeholder in a condition, a unit typo) an error with its file:line. */
#ifndef SD_PROBE_H
#define SD_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cond.h"
#include "err.h"
#include "http.h"

enum probe_kind {
	PROBE_HTTP, /* http:// and https:// */
	PROBE_TCP,  /* tcp://host:port: connect */
	PROBE_TLS,  /* tls://host:port: connect and handshake */
	PROBE_DNS,  /* a dns: block; url is the server */
};

/* One of an endpoint's alerts: a provider of the alerting section. */
struct probe_alert {
	char *type; /* "custom" or "slack" */
	bool send_on_resolved;
	char *description; /* NULL when none */
};

/* A webhook under alerting: (Gatus's custom and slack providers). */
struct probe_provider {
	char *type;   /* "custom" or "slack" */
	char *url;    /* custom: url; slack: webhook-url */
	char *method; /* custom: default POST */
	char *body;   /* custom: a template, or NULL for our JSON */
	char **headers;
	size_t nheaders;
};

struct probe_endpoint {
	char *name;
	char *group; /* NULL when none */
	char *url;   /* as written */
	char *key;   /* "group/name" or "name": unique, for the history */
	enum probe_kind kind;
	char *request_url; /* what libcurl is given (tcp:// as http://) */
	char *method;	   /* NULL: GET */
	char *body;	   /* NULL: none */
	char **headers;	   /* "Name: value" */
	size_t nheaders;
	int64_t interval_ms; /* default 60s */
	int64_t timeout_ms;  /* client.timeout, default 10s */
	bool insecure;	     /* client.insecure */
	bool follow;	     /* !client.ignore-redirect */
	char *dns_server, *dns_name, *dns_type;
	struct cond **conds;
	size_t nconds;
	int failure_threshold; /* failures in a row that open an incident (3) */
	int success_threshold; /* successes in a row that close it (2) */
	char *origin;	       /* "file:line:column" of the endpoint, or "" */
	struct probe_alert *alerts;
	size_t nalerts;
};

struct probe_config {
	struct probe_endpoint *v;
	size_t n;
	json_t *warnings; /* strings: "file:line:col: 'x' is not supported…" */
	int concurrency;  /* checks in flight at once (default 64) */
	struct probe_provider *providers;
	size_t nproviders;
};

/* The provider of that type, or NULL. */
const struct probe_provider *probe_provider(const struct probe_config *pc,
					    const char *type);

/* Read the endpoints list at prefix in root ("endpoints" for a Gatus file,
 * "probe.endpoints" in the safedeploy config); origins maps dotted keys to
 * "file:line:column" (config.h) and may be NULL. Errors name the endpoint
 * and the field: "gatus.yml:7:7: endpoints[0].conditions[1]: condition
 * '[STATSU] == 200': unknown placeholder '[STATSU]'". */
int probe_config_load(struct probe_config *pc, json_t *root, const char *prefix,
		      json_t *origins, struct sd_err *err);
void probe_config_release(struct probe_config *pc);

/* One check's outcome. */
struct probe_result {
	const struct probe_endpoint *ep;
	bool up;
	int64_t at_ms;	       /* when it started, Unix milliseconds */
	int64_t duration_ms;   /* [RESPONSE_TIME] */
	long status;	       /* HTTP status, 0 when none */
	char ip[64];	       /* the address connected to */
	struct http_timings t; /* phases, microseconds */
	int64_t cert_expiry;   /* leaf notAfter, Unix seconds; 0 unknown */
	char rcode[16];	       /* DNS */
	char *body;	       /* what came back (first MiB), or DNS answers */
	size_t body_len;
	char error[256];    /* why no answer came, or "" */
	json_t *conditions; /* [{"condition": "[STATUS] (500) == 200",
			       "success": false}, ...] */
};

/* Run every endpoint once, all at once (HTTP, TCP and TLS on one libcurl
 * multi handle; DNS queries in up to 32 threads beside them), with fresh
 * connections and no DNS cache. results has pc->n elements. */
int probe_run_once(const struct probe_config *pc, struct probe_result *results,
		   struct sd_err *err);
void probe_result_release(struct probe_result *r);

/* The result as JSON: name, group, url, up, time, duration_ms, status, ip,
 * timings, certificate_expiration, dns_rcode, error, conditions. */
json_t *probe_result_json(const struct probe_result *r);

#endif
