/* The independence check; see indep.h. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dnsq.h"
#include "http.h"
#include "indep.h"

#define MAX_ADDRS 32
#define MAX_NS	  16

struct host {
	char name[256];
	char keys[512]; /* the endpoints that use it, for messages */
	char addrs[MAX_ADDRS][64];
	size_t naddrs;
	char last_cname[256]; /* the end of the CNAME chain, or "" */
	char ns[MAX_NS][256];
	size_t nns;
	bool is_ip;
};

struct ctx {
	const char *server;
	long timeout_ms;
	json_t *out;
	int fails[8], warns[8]; /* per check, for the PASS lines */
};

enum check { C_ADDRESS, C_DOMAIN, C_PROVIDER, C_NS, C_PROBE, C_ASSETS, C_N };
static const char *const CHECKS[] = {"address",	    "domain", "provider",
				     "nameservers", "probe",  "assets"};

static void finding(struct ctx *c, const char *verdict, enum check k,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void finding(struct ctx *c, const char *verdict, enum check k,
		    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strcmp(verdict, "FAIL"))
		c->fails[k]++;
	else if (!strcmp(verdict, "WARN"))
		c->warns[k]++;
	json_array_append_new(c->out,
			      json_pack("{s:s, s:s, s:s}", "verdict", verdict,
					"check", CHECKS[k], "message", msg));
}

/* The last two labels of a name: its domain, roughly. */
static const char *base_domain(const char *name)
{
	const char *last = strrchr(name, '.'), *p;

	if (!last || last == name)
		return name;
	for (p = last - 1; p > name && *p != '.'; p--)
		;
	return *p == '.' ? p + 1 : p;
}

static bool ends_with_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return !strcasecmp(name, domain);
	return n > d && name[n - d - 1] == '.' &&
	       !strcasecmp(name + n - d, domain);
}

/* Same /24 (IPv4) or /64 (IPv6). */
static bool same_network(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return !memcmp(x, y, 3);
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return !memcmp(x, y, 8);
	return false;
}

static void add_addr(struct host *h, const char *a)
{
	for (size_t i = 0; i < h->naddrs; i++)
		if (!strcmp(h->addrs[i], a))
			return;
	if (h->naddrs < MAX_ADDRS)
		snprintf(h->addrs[h->naddrs++], sizeof(h->addrs[0]), "%s", a);
}

static void resolve(struct ctx *c, struct host *h)
{
	static const char *const types[] = {"A", "AAAA"};
	unsigned char buf[16];
	struct dnsq_result r;
	struct sd_err e = {0};
	char zone[256];

	if (inet_pton(AF_INET, h->name, buf) == 1 ||
	    inet_pton(AF_INET6, h->name, buf) == 1) {
		h->is_ip = true;
		add_addr(h, h->name);
		return;
	}
	for (size_t t = 0; t < 2; t++) {
		if (dnsq_query(c->server, h->name, types[t], c->timeout_ms, &r,
			       &e) == 0) {
			for (size_t i = 0; i < r.n; i++)
				add_addr(h, r.answers[i]);
			if (r.ncnames)
				snprintf(h->last_cname, sizeof(h->last_cname),
					 "%s", r.cnames[r.ncnames - 1]);
		} else if (t == 0) {
			finding(c, "WARN", C_ADDRESS, "cannot resolve %s: %s",
				h->name, e.msg);
		}
		dnsq_result_release(&r);
		memset(&e, 0, sizeof(e));
	}
	if (dnsq_zone_ns(c->server, h->name, c->timeout_ms, &r, zone,
			 sizeof(zone), &e) == 0) {
		for (size_t i = 0; i < r.n && h->nns < MAX_NS; i++)
			snprintf(h->ns[h->nns++], sizeof(h->ns[0]), "%s",
				 r.answers[i]);
	}
	dnsq_result_release(&r);
}

/* The host of a URL ("http://h:1/x", "tcp://h:1"), or of a DNS server
 * ("IP", "IP:PORT", "[v6]:PORT"). */
static void url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://"), *end;

	p = p ? p + 3 : url;
	if (*p == '[') {
		end = strchr(p, ']');
		p++;
	} else {
		end = p + strcspn(p, ":/?#");
	}
	if (!end)
		end = p + strlen(p);
	snprintf(out, n, "%.*s", (int)(end - p), p);
}

static struct host *target_for(struct host *v, size_t *n, const char *name,
			       const char *key)
{
	struct host *h = NULL;

	for (size_t i = 0; i < *n && !h; i++)
		if (!strcasecmp(v[i].name, name))
			h = &v[i];
	if (!h) {
		h = &v[(*n)++];
		memset(h, 0, sizeof(*h));
		snprintf(h->name, sizeof(h->name), "%s", name);
	}
	if (strlen(h->keys) + strlen(key) + 3 < sizeof(h->keys))
		snprintf(h->keys + strlen(h->keys),
			 sizeof(h->keys) - strlen(h->keys), "%s%s",
			 h->keys[0] ? ", " : "", key);
	return h;
}

static void check_pair(struct ctx *c, const struct host *page,
		       const struct host *t)
{
	bool shared = false, near = false;
	const char *why = "";

	for (size_t i = 0; i < page->naddrs; i++)
		for (size_t k = 0; k < t->naddrs; k++) {
			if (!strcmp(page->addrs[i], t->addrs[k]) && !shared) {
				shared = true;
				finding(c, "FAIL", C_ADDRESS,
					"the page's %s and %s (%s) share the "
					"address %s",
					page->name, t->name, t->keys,
					t->addrs[k]);
			} else if (!shared && !near &&
				   same_network(page->addrs[i], t->addrs[k])) {
				near = true;
				why = t->addrs[k];
			}
		}
	if (!shared && near)
		finding(c, "WARN", C_ADDRESS,
			"the page's %s and %s (%s) are in the same network (%s)",
			page->name, t->name, t->keys, why);
	if (!t->is_ip && !page->is_ip &&
	    ends_with_domain(page->name, base_domain(t->name)))
		finding(c, "WARN", C_DOMAIN,
			"the page's %s is under %s, a monitored domain (%s): "
			"its DNS, registrar and certificates are shared",
			page->name, base_domain(t->name), t->keys);
	if (page->last_cname[0] && t->last_cname[0] &&
	    !strcasecmp(base_domain(page->last_cname),
			base_domain(t->last_cname)))
		finding(c, "WARN", C_PROVIDER,
			"the page's %s and %s (%s) are both served through %s",
			page->name, t->name, t->keys,
			base_domain(t->last_cname));
	for (size_t i = 0; i < page->nns; i++) {
		bool same = false, sibling = false;

		for (size_t k = 0; k < t->nns; k++) {
			same |= !strcasecmp(page->ns[i], t->ns[k]);
			sibling |= !strcasecmp(base_domain(page->ns[i]),
					       base_domain(t->ns[k]));
		}
		if (same) {
			finding(c, "FAIL", C_NS,
				"the page's %s and %s (%s) have the name "
				"server %s in common",
				page->name, t->name, t->keys, page->ns[i]);
			break;
		}
		if (sibling) {
			finding(c, "WARN", C_NS,
				"the page's %s and %s (%s) use name servers "
				"under %s (one DNS provider)",
				page->name, t->name, t->keys,
				base_domain(page->ns[i]));
			break;
		}
	}
}

static void check_probe(struct ctx *c, const struct host *targets, size_t n)
{
	struct ifaddrs *ifs = NULL;

	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		char a[64];

		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(
				AF_INET,
				&((struct sockaddr_in *)i->ifa_addr)->sin_addr,
				a, sizeof(a));
		else if (i->ifa_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)i->ifa_addr)
					   ->sin6_addr,
				  a, sizeof(a));
		else
			continue;
		if (!strncasecmp(a, "fe80:", 5))
			continue;
		for (size_t t = 0; t < n; t++)
			for (size_t k = 0; k < targets[t].naddrs; k++) {
				if (!strcmp(a, targets[t].addrs[k]))
					finding(c, "FAIL", C_PROBE,
						"the probe runs on %s, the "
						"address of %s (%s)",
						a, targets[t].name,
						targets[t].keys);
				else if (same_network(a, targets[t].addrs[k]))
					finding(c, "WARN", C_PROBE,
						"the probe (%s) is in the "
						"network of %s (%s, %s)",
						a, targets[t].name,
						targets[t].keys,
						targets[t].addrs[k]);
			}
	}
	freeifaddrs(ifs);
}

/* Fetch the published page (at the address just checked) and look at what
 * it loads: src=, href= and url() with a host. */
static void check_assets(struct ctx *c, const char *page_url,
			 const struct host *page, const struct host *targets,
			 size_t n)
{
	struct http_options o = {.timeout_ms = c->timeout_ms,
				 .max_body = 4u << 20};
	struct http_request rq = {.url = page_url, .follow = 1, .fresh = true};
	struct http_result res = {0};
	struct http_client *cl;
	struct sd_err e = {0};
	char resolve[512], port[8] = "";
	const char *p = strstr(page_url, "://");
	pcre2_code *re;
	pcre2_match_data *md;
	int errcode;
	PCRE2_SIZE erroff, off = 0;

	if (page->naddrs && !page->is_ip && p) {
		const char *colon = strchr(p + 3, ':'),
			   *slash = strchr(p + 3, '/');

		if (colon && (!slash || colon < slash))
			snprintf(port, sizeof(port), "%.*s",
				 (int)strcspn(colon + 1, "/"), colon + 1);
		else
			snprintf(port, sizeof(port), "%s",
				 !strncmp(page_url, "https", 5) ? "443" : "80");
		snprintf(resolve, sizeof(resolve), "%s:%s:%s", page->name, port,
			 page->addrs[0]);
		rq.resolve = resolve;
	}
	cl = http_client_new(&o, &e);
	if (!cl || http_request_all(cl, &rq, 1, &res, &e) < 0 ||
	    res.failure != HTTP_OK || res.status != 200) {
		finding(c, "WARN", C_ASSETS, "cannot fetch the page %s: %s",
			page_url,
			e.msg[0]       ? e.msg
			: res.error[0] ? res.error
				       : "not 200");
		http_result_release(&res);
		http_client_free(cl);
		return;
	}
	http_client_free(cl);
	re = pcre2_compile(
		(PCRE2_SPTR) "(?i)(?:src|href)\\s*=\\s*[\"']?(?:https?:)?//"
			     "([^/\"'\\s>:]+)|url\\(\\s*[\"']?(?:https?:)?//"
			     "([^/\"'\\s):]+)",
		PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
	md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
	while (md && res.body &&
	       pcre2_match(re, (PCRE2_SPTR)res.body, res.len, off, 0, md,
			   NULL) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		size_t g = ov[2] != PCRE2_UNSET ? 2 : 4;
		char host[256];
		bool monitored = false;

		snprintf(host, sizeof(host), "%.*s", (int)(ov[g + 1] - ov[g]),
			 res.body + ov[g]);
		off = ov[1] > off ? ov[1] : off + 1;
		for (size_t t = 0; t < n; t++)
			if (!strcasecmp(targets[t].name, host)) {
				monitored = true;
				finding(c, "FAIL", C_ASSETS,
					"the page loads from %s, a monitored "
					"host (%s)",
					host, targets[t].keys);
			}
		if (!monitored && strcasecmp(host, page->name))
			finding(c, "WARN", C_ASSETS,
				"the page loads from %s: it depends on that "
				"host too",
				host);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	http_result_release(&res);
}

int indep_run(const struct probe_config *pc, const char *page_url,
	      const char *dns_server, long timeout_ms, json_t **findings,
	      struct sd_err *err)
{
	struct ctx c = {.server = dns_server, .timeout_ms = timeout_ms};
	struct host page = {0}, *targets;
	size_t n = 0;

	*findings = NULL;
	if (http_url_check(page_url, page.name, sizeof(page.name), err) < 0)
		return err_prefix(err, "page.url");
	targets = calloc(pc->n + 1, sizeof(*targets));
	c.out = json_array();
	if (!targets || !c.out) {
		free(targets);
		json_decref(c.out);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	if (page.name[0] == '[') { /* an IPv6 literal host */
		memmove(page.name, page.name + 1, strlen(page.name));
		page.name[strcspn(page.name, "]")] = '\0';
	}
	for (size_t i = 0; i < pc->n; i++) {
		char host[256];

		url_host(pc->v[i].kind == PROBE_DNS ? pc->v[i].dns_server
						    : pc->v[i].url,
			 host, sizeof(host));
		target_for(targets, &n, host, pc->v[i].key);
	}
	resolve(&c, &page);
	for (size_t t = 0; t < n; t++) {
		resolve(&c, &targets[t]);
		check_pair(&c, &page, &targets[t]);
	}
	check_probe(&c, targets, n);
	check_assets(&c, page_url, &page, targets, n);
	for (int k = 0; k < C_N; k++)
		if (!c.fails[k] && !c.warns[k])
			finding(&c, "PASS", (enum check)k,
				"%s: nothing shared with the %zu monitored "
				"host%s",
				CHECKS[k], n, n == 1 ? "" : "s");
	free(targets);
	*findings = c.out;
	return 0;
}
