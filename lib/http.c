/* HTTP over one libcurl multi handle; see http.h. Requests are windowed by
 * the application (add the next when one finishes), not queued in libcurl,
 * so that each request's timeout measures the target and not the queue.
 * The loop is event-driven (curl_multi_socket_action over epoll), so that
 * each wake-up costs the sockets that are ready, not every transfer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "progress.h"
#include "version.h"

struct http_client {
	struct http_options opt;
	CURLM *multi;
	struct curl_slist *headers;
	int epfd;
	int64_t timer_at; /* when libcurl wants CURL_SOCKET_TIMEOUT; -1 never */
	CURL **pool;	  /* finished easy handles, reset and reused */
	size_t npool;
	/* Large batches are split in two, one thread each: the work is CPU
	 * bound in libcurl and the kernel. The split is the same every call,
	 * so that each half keeps its connections. */
	struct http_client *half[2];
	bool is_half;
};

/* libcurl says which sockets to watch, and for what. socketp is set once a
 * socket is registered, so that a new one is added without a failed MOD. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	static char registered;
	struct http_client *c = userp;
	struct epoll_event ev = {.data.fd = s};

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
		    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (socketp)
		return epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) < 0 ? -1 : 0;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) < 0))
		return -1;
	curl_multi_assign(c->multi, s, &registered);
	return 0;
}

/* libcurl says when it next needs to be called without socket activity. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	c->timer_at =
		timeout_ms < 0 ? -1 : progress_monotonic_ms() + timeout_ms;
	return 0;
}

struct transfer {
	CURL *easy;
	struct http_result *res;
	const struct http_request *req;
	struct curl_slist *headers; /* the client's plus the request's */
	struct curl_slist *resolve; /* CURLOPT_RESOLVE's one entry */
	size_t max_body;
	bool too_large;
	char errbuf[CURL_ERROR_SIZE];
};

static int global_users;

struct http_client *http_client_new(const struct http_options *opt,
				    struct sd_err *err)
{
	struct http_client *c = calloc(1, sizeof(*c));

	if (!c) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		return NULL;
	}
	c->opt = *opt;
	if (c->opt.concurrency <= 0)
		c->opt.concurrency = 64;
	if (c->opt.timeout_ms <= 0)
		c->opt.timeout_ms = 5000;
	if (c->opt.connect_timeout_ms <= 0)
		c->opt.connect_timeout_ms = 2000;
	if (!c->opt.max_body)
		c->opt.max_body = 1 << 20;
	if (global_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		global_users--;
		free(c);
		err_set(err, SD_EXIT_CANNOT, "cannot initialise libcurl");
		return NULL;
	}
	c->timer_at = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->pool = calloc((size_t)c->opt.concurrency, sizeof(*c->pool));
	c->multi = curl_multi_init();
	if (c->multi) {
		curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
		curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	}
	if (!c->multi || c->epfd < 0 || !c->pool ||
	    http_set_headers(c, opt->headers, opt->nheaders, err) < 0) {
		http_client_free(c);
		err_set(err, SD_EXIT_CANNOT, "cannot initialise libcurl");
		return NULL;
	}
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	http_client_free(c->half[0]);
	http_client_free(c->half[1]);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->epfd >= 0)
		close(c->epfd);
	for (size_t i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	free(c->pool);
	curl_slist_free_all(c->headers);
	free(c);
	if (--global_users == 0)
		curl_global_cleanup();
}

int http_set_headers(struct http_client *c, const char *const *headers,
		     size_t n, struct sd_err *err)
{
	struct curl_slist *list = curl_slist_append(
		NULL, "Accept: application/json, text/plain;q=0.5, */*;q=0.1");

	for (size_t i = 0; list && i < n; i++) {
		struct curl_slist *more = curl_slist_append(list, headers[i]);

		if (!more) {
			curl_slist_free_all(list);
			list = NULL;
		}
		list = more;
	}
	if (!list)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	curl_slist_free_all(c->headers);
	c->headers = list;
	for (int i = 0; i < 2; i++)
		if (c->half[i] &&
		    http_set_headers(c->half[i], headers, n, err) < 0)
			return -1;
	return 0;
}

int http_url_check(const char *url, char *host, size_t n, struct sd_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL;
	CURLUcode rc;
	int ret = 0;

	if (!u)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		ret = err_set(err, SD_EXIT_USAGE, "invalid URL '%s': %s", url,
			      curl_url_strerror(rc));
	} else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		   (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		ret = err_set(err, SD_EXIT_USAGE,
			      "invalid URL '%s': the scheme must be http:// or "
			      "https://",
			      url);
	} else if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !*h) {
		ret = err_set(err, SD_EXIT_USAGE, "invalid URL '%s': no host",
			      url);
	} else if (host && n) {
		snprintf(host, n, "%s", h);
	}
	curl_free(scheme);
	curl_free(h);
	curl_url_cleanup(u);
	return ret;
}

char *http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}

void http_set_deadline(struct http_client *c, int64_t deadline_ms)
{
	c->opt.deadline_ms = deadline_ms;
	for (int i = 0; i < 2; i++)
		if (c->half[i])
			c->half[i]->opt.deadline_ms = deadline_ms;
}

void http_result_release(struct http_result *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct transfer *t = user;
	struct http_result *r = t->res;
	size_t n = size * nmemb;
	char *bigger;

	if (r->len + n > t->max_body) {
		t->too_large = true;
		return 0; /* aborts the transfer */
	}
	bigger = realloc(r->body, r->len + n + 1);
	if (!bigger)
		return 0;
	r->body = bigger;
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static CURL *easy_for(struct http_client *c, const struct http_request *rq,
		      struct transfer *t)
{
	const struct http_options *o = &c->opt;
	struct curl_slist *headers = c->headers;
	bool follow = rq->follow < 0 ? o->follow : rq->follow > 0;
	CURL *e;

	if (rq->nheaders) {
		headers = NULL;
		for (struct curl_slist *h = c->headers; h; h = h->next)
			if (!(headers = curl_slist_append(headers, h->data)))
				return NULL;
		for (size_t i = 0; i < rq->nheaders; i++) {
			struct curl_slist *more =
				curl_slist_append(headers, rq->headers[i]);

			if (!more) {
				curl_slist_free_all(headers);
				return NULL;
			}
			headers = more;
		}
		t->headers = headers;
	}

	/* A handle from the pool costs a reset, not a fresh allocation. */
	if (c->npool) {
		e = c->pool[--c->npool];
		curl_easy_reset(e);
	} else {
		e = curl_easy_init();
	}

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 rq->timeout_ms > 0 ? rq->timeout_ms : o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 rq->timeout_ms > 0 &&
					 rq->timeout_ms < o->connect_timeout_ms
				 ? rq->timeout_ms
				 : o->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "safedeploy/" SD_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* A target names an HTTP(S) endpoint, never file:// or the like. */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	if (rq->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)rq->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body);
	}
	if (rq->method && strcmp(rq->method, rq->body ? "POST" : "GET")) {
		if (!strcmp(rq->method, "HEAD"))
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		else
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	/* A probe measures a whole cycle: DNS, TCP and TLS every time, so
	 * that a reused connection cannot hide an outage of one of them. */
	if (rq->fresh) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	}
	if (rq->connect_only)
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	if (rq->certinfo)
		curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	if (rq->resolve && (t->resolve = curl_slist_append(NULL, rq->resolve)))
		curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
	if (o->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
	if (o->client_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->client_cert);
	if (o->client_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->client_key);
	if (o->ca_pem) {
		struct curl_blob b = {(void *)o->ca_pem, o->ca_pem_len,
				      CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (o->cert_pem) {
		struct curl_blob b = {(void *)o->cert_pem, o->cert_pem_len,
				      CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (o->key_pem) {
		struct curl_blob b = {(void *)o->key_pem, o->key_pem_len,
				      CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (o->insecure || rq->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return e;
}

static enum http_failure classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_TIMEOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_TOO_LARGE;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
		return HTTP_TLS;
	default:
		return HTTP_BROKEN;
	}
}

static int64_t info_us(CURL *e, CURLINFO what)
{
	curl_off_t v = 0;

	return curl_easy_getinfo(e, what, &v) == CURLE_OK ? (int64_t)v : 0;
}

static void read_timings(CURL *e, struct http_result *r)
{
	r->t.dns = info_us(e, CURLINFO_NAMELOOKUP_TIME_T);
	r->t.connect = info_us(e, CURLINFO_CONNECT_TIME_T);
	r->t.tls = info_us(e, CURLINFO_APPCONNECT_TIME_T);
	r->t.first_byte = info_us(e, CURLINFO_STARTTRANSFER_TIME_T);
	r->t.total = info_us(e, CURLINFO_TOTAL_TIME_T);
	r->connected = r->t.connect > 0 || r->ip[0];
}

/* A certificate date as libcurl's backends print it: OpenSSL's
 * "Nov 21 12:00:00 2027 GMT", or "2027-11-21 12:00:00 GMT". */
static int64_t cert_time(const char *s)
{
	static const char *const formats[] = {
		"%b %d %H:%M:%S %Y GMT",
		"%Y-%m-%d %H:%M:%S GMT",
		"%Y-%m-%d %H:%M:%S",
	};

	while (*s == ' ')
		s++;
	for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
		struct tm tm = {0};
		const char *end = strptime(s, formats[i], &tm);

		if (end && !*end)
			return (int64_t)timegm(&tm);
	}
	return 0;
}

static void read_certinfo(CURL *e, struct http_result *r)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci)
		return;
	for (int i = 0; i < ci->num_of_certs; i++)
		for (struct curl_slist *l = ci->certinfo[i]; l; l = l->next) {
			int64_t when;

			if (strncmp(l->data, "Expire date:", 12))
				continue;
			when = cert_time(l->data + 12);
			if (!when)
				continue;
			if (i == 0)
				r->cert_expiry = when;
			if (!r->chain_expiry || when < r->chain_expiry)
				r->chain_expiry = when;
		}
}

static void finish(struct transfer *t, CURLcode rc)
{
	struct http_result *r = t->res;
	char *s = NULL;
	long status = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &r->seconds);
	r->status = status;
	if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &s) == CURLE_OK &&
	    s)
		snprintf(r->ip, sizeof(r->ip), "%s", s);
	s = NULL;
	if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK &&
	    s)
		snprintf(r->content_type, sizeof(r->content_type), "%s", s);
	s = NULL;
	if (curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &s) == CURLE_OK &&
	    s)
		snprintf(r->location, sizeof(r->location), "%s", s);
	read_timings(t->easy, r);
	if (t->req && t->req->certinfo)
		read_certinfo(t->easy, r);
	r->failure = t->too_large ? HTTP_TOO_LARGE : classify(rc);
	if (r->failure == HTTP_TOO_LARGE) {
		snprintf(r->error, sizeof(r->error),
			 "answer larger than %zu bytes", t->max_body);
		http_result_release(r);
	} else if (r->failure == HTTP_TIMEOUT) {
		snprintf(r->error, sizeof(r->error), "no answer within %.1fs",
			 r->seconds);
	} else if (r->failure != HTTP_OK) {
		snprintf(r->error, sizeof(r->error), "%s",
			 t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	}
	if (r->failure != HTTP_OK)
		r->status = r->failure == HTTP_TOO_LARGE ? r->status : 0;
}

static int get_batch(struct http_client *c, const struct http_request *reqs,
		     size_t n, struct http_result *results, struct sd_err *err)
{
	struct transfer *t = calloc(n ? n : 1, sizeof(*t));
	size_t next = 0, active = 0, done = 0;

	if (!t)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	memset(results, 0, n * sizeof(*results));
	/* Keep a connection per target between calls (--wait rounds); the
	 * default cache follows the handles in flight and would close some. */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
			  (long)(n > (size_t)c->opt.concurrency * 4
					 ? n
					 : (size_t)c->opt.concurrency * 4));
	while (done < n) {
		struct CURLMsg *msg;
		int running, left;

		/* Keep the window full. */
		while (next < n && active < (size_t)c->opt.concurrency) {
			t[next].res = &results[next];
			t[next].req = &reqs[next];
			t[next].max_body = c->opt.max_body;
			t[next].easy = easy_for(c, &reqs[next], &t[next]);
			if (!t[next].easy ||
			    curl_multi_add_handle(c->multi, t[next].easy)) {
				results[next].failure = HTTP_BROKEN;
				snprintf(results[next].error,
					 sizeof(results[next].error),
					 "cannot start the request");
				if (t[next].easy)
					curl_easy_cleanup(t[next].easy);
				curl_slist_free_all(t[next].headers);
				curl_slist_free_all(t[next].resolve);
				t[next].headers = t[next].resolve = NULL;
				t[next].easy = NULL;
				done++;
			} else {
				active++;
			}
			next++;
		}
		if (done == n)
			break;
		/* Wait for a socket or libcurl's timer, at most a second. */
		{
			struct epoll_event evs[64];
			int64_t now = progress_monotonic_ms();
			long wait = 1000;
			int nev;

			if (c->timer_at >= 0)
				wait = c->timer_at <= now
					       ? 0
					       : (long)(c->timer_at - now);
			if (wait > 1000)
				wait = 1000;
			if (c->opt.deadline_ms &&
			    c->opt.deadline_ms - now < wait)
				wait = c->opt.deadline_ms > now
					       ? (long)(c->opt.deadline_ms -
							now)
					       : 0;
			nev = epoll_wait(c->epfd, evs, 64, (int)wait);
			for (int i = 0; i < nev; i++) {
				int flags = 0;

				if (evs[i].events & EPOLLIN)
					flags |= CURL_CSELECT_IN;
				if (evs[i].events & EPOLLOUT)
					flags |= CURL_CSELECT_OUT;
				if (evs[i].events & (EPOLLERR | EPOLLHUP))
					flags |= CURL_CSELECT_ERR;
				curl_multi_socket_action(c->multi,
							 evs[i].data.fd, flags,
							 &running);
			}
			if (c->timer_at >= 0 &&
			    progress_monotonic_ms() >= c->timer_at) {
				c->timer_at = -1;
				curl_multi_socket_action(c->multi,
							 CURL_SOCKET_TIMEOUT, 0,
							 &running);
			}
		}
		while ((msg = curl_multi_info_read(c->multi, &left))) {
			struct transfer *tr = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&tr);
			finish(tr, msg->data.result);
			curl_multi_remove_handle(c->multi, tr->easy);
			curl_slist_free_all(tr->headers);
			curl_slist_free_all(tr->resolve);
			tr->headers = tr->resolve = NULL;
			if (c->npool < (size_t)c->opt.concurrency)
				c->pool[c->npool++] = tr->easy;
			else
				curl_easy_cleanup(tr->easy);
			tr->easy = NULL;
			active--;
			done++;
		}
		if (done == n)
			break;
		if (c->opt.deadline_ms &&
		    progress_monotonic_ms() >= c->opt.deadline_ms)
			break;
	}
	/* Whatever the deadline cut short, or never started. */
	for (size_t i = 0; i < n; i++) {
		if (i < next && !t[i].easy)
			continue;
		if (t[i].easy) {
			curl_multi_remove_handle(c->multi, t[i].easy);
			curl_easy_cleanup(t[i].easy);
			http_result_release(&results[i]);
		}
		curl_slist_free_all(t[i].headers);
		curl_slist_free_all(t[i].resolve);
		results[i].failure = HTTP_DEADLINE;
		results[i].status = 0;
		snprintf(results[i].error, sizeof(results[i].error),
			 "the overall deadline passed first");
	}
	free(t);
	return 0;
}

/* Below this many requests one thread is as fast. */
#define SPLIT_AT 128

struct batch {
	struct http_client *c;
	const struct http_request *reqs;
	size_t n;
	struct http_result *results;
	struct sd_err err;
	int rc;
};

static void *run_batch(void *arg)
{
	struct batch *b = arg;

	b->rc = get_batch(b->c, b->reqs, b->n, b->results, &b->err);
	return NULL;
}

int http_get_all(struct http_client *c, const char *const *urls, size_t n,
		 struct http_result *results, struct sd_err *err)
{
	struct http_request *reqs = calloc(n ? n : 1, sizeof(*reqs));
	int rc;

	if (!reqs)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	for (size_t i = 0; i < n; i++) {
		reqs[i].url = urls[i];
		reqs[i].follow = -1;
	}
	rc = http_request_all(c, reqs, n, results, err);
	free(reqs);
	return rc;
}

int http_request_all(struct http_client *c, const struct http_request *reqs,
		     size_t n, struct http_result *results, struct sd_err *err)
{
	struct batch b[2];
	pthread_t thread;

	if (c->is_half || n < SPLIT_AT || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return get_batch(c, reqs, n, results, err);
	for (int i = 0; i < 2; i++) {
		if (c->half[i])
			continue;
		struct http_options o = c->opt;

		o.concurrency =
			c->opt.concurrency > 1 ? c->opt.concurrency / 2 : 1;
		c->half[i] = http_client_new(&o, err);
		if (!c->half[i])
			return -1;
		c->half[i]->is_half = true;
		c->half[i]->opt.deadline_ms = c->opt.deadline_ms;
		/* The same headers as the whole. */
		curl_slist_free_all(c->half[i]->headers);
		c->half[i]->headers = NULL;
		for (struct curl_slist *h = c->headers; h; h = h->next) {
			struct curl_slist *more =
				curl_slist_append(c->half[i]->headers, h->data);

			if (!more)
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			c->half[i]->headers = more;
		}
	}
	b[0] = (struct batch){c->half[0], reqs, n / 2, results};
	b[1] = (struct batch){c->half[1], reqs + n / 2, n - n / 2,
			      results + n / 2};
	if (pthread_create(&thread, NULL, run_batch, &b[1]) != 0)
		return get_batch(c, reqs, n, results, err);
	run_batch(&b[0]);
	pthread_join(thread, NULL);
	for (int i = 0; i < 2; i++)
		if (b[i].rc < 0) {
			if (err)
				*err = b[i].err;
			return -1;
		}
	return 0;
}
