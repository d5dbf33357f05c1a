/* HTTP(S) for the whole suite, over one libcurl multi handle: many requests
 * at once, each with its own timeout, a cap on the body size, and an overall
 * deadline. The only file that uses libcurl. */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct http_options {
	int concurrency;	 /* requests in flight at once (default 64) */
	long timeout_ms;	 /* per request, from its start (default 5s) */
	long connect_timeout_ms; /* per connection (default 2s) */
	int64_t deadline_ms; /* absolute, progress_monotonic_ms(); 0: none */
	size_t max_body;     /* larger answers are cut off (default 1 MiB) */
	bool follow;	     /* follow redirects (at most 5) */
	bool insecure;	     /* do not verify TLS certificates */
	const char *cacert;  /* CA bundle file, or NULL for the system's */
	const char *client_cert; /* PEM client certificate file, and its key */
	const char *client_key;
	/* The same as PEM in memory (kubeconfig's *-data fields). */
	const char *ca_pem, *cert_pem, *key_pem;
	size_t ca_pem_len, cert_pem_len, key_pem_len;
	const char *const *headers; /* "Name: value" lines */
	size_t nheaders;
};

/* Cumulative phase times, in microseconds since the request started, as
 * libcurl measures them (0 when the phase did not happen). */
struct http_timings {
	int64_t dns, connect, tls, first_byte, total;
};

enum http_failure {
	HTTP_OK,	/* an answer came, whatever its status */
	HTTP_TOO_LARGE, /* the body passed max_body */
	HTTP_CONNECT,	/* refused, unreachable, could not resolve */
	HTTP_TIMEOUT,	/* no complete answer in time */
	HTTP_TLS,	/* certificate or handshake */
	HTTP_BROKEN,	/* closed early, bad framing, other transport errors */
	HTTP_DEADLINE,	/* the overall deadline passed first */
};

struct http_result {
	enum http_failure failure;
	long status; /* HTTP status, 0 when none */
	char *body;  /* NUL-terminated, malloc'd; NULL when none */
	size_t len;
	char error[256]; /* what went wrong, for people */
	char ip[64];	 /* the address connected to */
	char content_type[128];
	char location[512]; /* where a redirect that was not followed went */
	double seconds;	    /* total time of the request */
	struct http_timings t;
	bool connected;	      /* a connection was made */
	int64_t cert_expiry;  /* with certinfo: the leaf's notAfter (Unix
				time); 0 when unknown */
	int64_t chain_expiry; /* the earliest notAfter in the chain shown */
};

/* One request, for http_request_all; what is not set takes the client's
 * options. */
struct http_request {
	const char *url;
	const char *method; /* NULL: GET (POST when body is set) */
	const char *body;   /* sent as is when not NULL */
	size_t body_len;
	const char *const *headers; /* "Name: value", added to the client's */
	size_t nheaders;
	long timeout_ms;   /* 0: the client's */
	bool fresh;	   /* a new connection, no DNS cache, not kept after */
	bool connect_only; /* connect (and, for https://, the TLS handshake),
			      send nothing: tcp:// and tls:// checks */
	bool certinfo;	   /* read the certificates' expiry dates */
	bool insecure;	   /* do not verify TLS (the client's, or this one) */
	int follow;	   /* -1: the client's; 0 no; 1 yes */
	const char *resolve; /* "host:port:address": connect there, not
				where DNS says (NULL: DNS) */
};

struct http_client;

/* Options not set (0 / NULL) take the defaults above. */
struct http_client *http_client_new(const struct http_options *opt,
				    struct sd_err *err);
void http_client_free(struct http_client *c);

/* Change the overall deadline for the next http_get_all (0: none). */
void http_set_deadline(struct http_client *c, int64_t deadline_ms);

/* Replace the extra request headers ("Name: value") for the next calls,
 * e.g. a bearer token that was rotated. */
int http_set_headers(struct http_client *c, const char *const *headers,
		     size_t n, struct sd_err *err);

/* Check that url is a well-formed http:// or https:// URL with a host
 * (libcurl's URL parser); host gets the host name. -1 with an
 * SD_EXIT_USAGE error that quotes the URL and says what is wrong. */
int http_url_check(const char *url, char *host, size_t n, struct sd_err *err);

/* Percent-encode s for a URL query; malloc'd. */
char *http_escape(const char *s);

/* GET every url; results[i] is for urls[i]. Connections, DNS and TLS
 * sessions are kept in the client for the next call. Fails only when the
 * transfers could not be set up; each target's outcome is in its result. */
int http_get_all(struct http_client *c, const char *const *urls, size_t n,
		 struct http_result *results, struct sd_err *err);

/* The same, each request with its own method, body, headers and options;
 * results[i] is for reqs[i]. */
int http_request_all(struct http_client *c, const struct http_request *reqs,
		     size_t n, struct http_result *results, struct sd_err *err);

void http_result_release(struct http_result *r);

#endif
