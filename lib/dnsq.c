/* DNS queries; see dnsq.h. glibc's resolver library builds the query and
 * reads the answer; the exchange is ours (a non-blocking socket and poll),
 * so that the timeout is exact and a stray datagram is not taken. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include "dnsq.h"
#include "progress.h"

#define MAX_TIMEOUT_MS (3600 * 1000L)
#define ANSWER_MAX     65536 /* a TCP answer's length is 16 bits */

static const struct dns_type {
	const char *name;
	ns_type type;
} dns_types[] = {
	{"A", ns_t_a},	   {"AAAA", ns_t_aaaa}, {"CNAME", ns_t_cname},
	{"MX", ns_t_mx},   {"NS", ns_t_ns},	{"TXT", ns_t_txt},
	{"PTR", ns_t_ptr}, {"SOA", ns_t_soa},	{"SRV", ns_t_srv},
};

static const struct dns_type *type_lookup(const char *name)
{
	for (size_t i = 0; name && i < sizeof(dns_types) / sizeof(*dns_types);
	     i++)
		if (!strcasecmp(name, dns_types[i].name))
			return &dns_types[i];
	return NULL;
}

/* The type, or NULL with err set. */
static const struct dns_type *check_type(const char *type, struct sd_err *err)
{
	const struct dns_type *t = type_lookup(type);

	if (!type || !*type)
		err_set(err, SD_EXIT_USAGE, "empty DNS type");
	else if (!t)
		err_set(err, SD_EXIT_USAGE,
			"unknown DNS type '%s' (expected A, AAAA, CNAME, MX, "
			"NS, TXT, PTR, SOA or SRV)",
			type);
	return t;
}

static int bad_name(struct sd_err *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad_name(struct sd_err *err, const char *name, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set(err, SD_EXIT_USAGE, "invalid DNS name '%s': %s", name,
		       why);
}

/* Stricter than the DNS itself (which allows any byte in a label): what a
 * check's config should hold. */
static int check_name(const char *name, struct sd_err *err)
{
	size_t len, label = 0;

	if (!name || !*name)
		return err_set(err, SD_EXIT_USAGE, "empty DNS name");
	if (!strcmp(name, "."))
		return 0;
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;
	if (len > 253)
		return bad_name(err, name, "longer than 253 characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (!label)
				return bad_name(err, name, "empty label");
			label = 0;
			continue;
		}
		if (c >= 0x80)
			return bad_name(err, name,
					"not ASCII (write an international "
					"name in its xn-- form)");
		if (!isalnum(c) && c != '-' && c != '_' && c != '*')
			return isgraph(c) ? bad_name(err, name,
						     "character '%c'", c)
					  : bad_name(err, name,
						     "character 0x%02x", c);
		if (++label > 63) {
			const char *l = name + i - 63;

			return bad_name(err, name,
					"label '%.*s' longer than 63 "
					"characters",
					(int)strcspn(l, "."), l);
		}
	}
	if (!label)
		return bad_name(err, name, "empty label");
	return 0;
}

struct server {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];
};

static int server_text(struct server *sv, struct sd_err *err)
{
	char host[NI_MAXHOST];
	unsigned port;
	int n;

	if (getnameinfo((struct sockaddr *)&sv->ss, sv->len, host, sizeof(host),
			NULL, 0, NI_NUMERICHOST))
		return err_set(err, SD_EXIT_CANNOT, "cannot print an address");
	if (sv->ss.ss_family == AF_INET6) {
		port = ntohs(((struct sockaddr_in6 *)&sv->ss)->sin6_port);
		n = snprintf(sv->text, sizeof(sv->text), "[%s]:%u", host, port);
	} else {
		port = ntohs(((struct sockaddr_in *)&sv->ss)->sin_port);
		n = snprintf(sv->text, sizeof(sv->text), "%s:%u", host, port);
	}
	if (n < 0 || (size_t)n >= sizeof(sv->text))
		return err_set(err, SD_EXIT_CANNOT, "address '%s' too long",
			       host);
	return 0;
}

static int bad_server(const char *s, const char *why, struct sd_err *err)
{
	return err_set(err, SD_EXIT_USAGE,
		       "invalid DNS server '%s': %s (expected IP, IP:PORT or "
		       "[IPv6]:PORT)",
		       s, why);
}

/* "IP", "IP:PORT", "[IPv6]", "[IPv6]:PORT", or a bare IPv6 address. */
static int parse_server(const char *s, struct server *sv, struct sd_err *err)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = s, *port = NULL, *colon;
	size_t hl;
	int v6 = 0;
	unsigned long p = 53;

	memset(sv, 0, sizeof(*sv));
	if (!*s)
		return err_set(err, SD_EXIT_USAGE, "empty DNS server");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return bad_server(s, "no ']'", err);
		h = s + 1;
		hl = (size_t)(close - h);
		v6 = 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return bad_server(s, "text after ']'", err);
	} else if ((colon = strchr(s, ':')) && !strchr(colon + 1, ':')) {
		hl = (size_t)(colon - s);
		port = colon + 1;
	} else {
		hl = strlen(s);
		v6 = colon != NULL;
	}
	if (!hl || hl >= sizeof(host))
		return bad_server(s, "no IP address", err);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port) {
		const char *d = port;

		p = 0;
		while (isdigit((unsigned char)*d) && p <= 65535)
			p = p * 10 + (unsigned long)(*d++ - '0');
		if (!*port || *d || !p || p > 65535)
			return bad_server(s, "bad port", err);
	}
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sv->ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return bad_server(s, "not an IPv6 address", err);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		sv->len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&sv->ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return bad_server(s, "not an IP address", err);
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		sv->len = sizeof(*a);
	}
	return server_text(sv, err);
}

/* The first nameserver of /etc/resolv.conf, as glibc reads it (IPv6 ones
 * are kept in the _ext part of the state). */
static int default_server(struct server *sv, struct sd_err *err)
{
	struct __res_state st;
	int rc = 0;

	memset(sv, 0, sizeof(*sv));
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) < 0)
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot read '/etc/resolv.conf'");
	if (st.nscount > 0 && st.nsaddr_list[0].sin_family == AF_INET) {
		memcpy(&sv->ss, &st.nsaddr_list[0], sizeof(st.nsaddr_list[0]));
		sv->len = sizeof(st.nsaddr_list[0]);
	} else if (st.nscount > 0 && st._u._ext.nsaddrs[0] &&
		   st._u._ext.nsaddrs[0]->sin6_family == AF_INET6) {
		memcpy(&sv->ss, st._u._ext.nsaddrs[0],
		       sizeof(struct sockaddr_in6));
		sv->len = sizeof(struct sockaddr_in6);
	} else {
		rc = err_set(err, SD_EXIT_CANNOT,
			     "no nameserver in '/etc/resolv.conf'");
	}
	res_nclose(&st);
	return rc < 0 ? rc : server_text(sv, err);
}

static int get_server(const char *s, struct server *sv, struct sd_err *err)
{
	return s ? parse_server(s, sv, err) : default_server(sv, err);
}

int dnsq_validate(const char *server, const char *name, const char *type,
		  struct sd_err *err)
{
	struct server sv;

	if (!check_type(type, err) || check_name(name, err) < 0)
		return -1;
	return server ? parse_server(server, &sv, err) : 0;
}

int dnsq_default_server(char *buf, size_t size, struct sd_err *err)
{
	struct server sv;

	if (default_server(&sv, err) < 0)
		return -1;
	if (snprintf(buf, size, "%s", sv.text) >= (int)size)
		return err_set(err, SD_EXIT_CANNOT, "buffer too small");
	return 0;
}

void dnsq_result_release(struct dnsq_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->answers[i]);
	for (size_t i = 0; i < r->ncnames; i++)
		free(r->cnames[i]);
	free(r->answers);
	free(r->cnames);
	r->answers = r->cnames = NULL;
	r->n = r->ncnames = 0;
}

/* The exchange. Each step reports failure in `why` (r->error). */
struct exchange {
	const struct server *sv;
	const unsigned char *q; /* the query */
	int qlen;
	char qname[NS_MAXDNAME]; /* its question, as glibc prints it */
	ns_type qtype;
	unsigned char *a; /* ANSWER_MAX bytes */
	int alen;
	int64_t start, deadline;
	long timeout_ms;
	unsigned ignored; /* datagrams that did not answer the query */
	char *why;
	size_t why_size;
};

/* Wait until fd is ready for events: 1, or 0 at the deadline, or -1. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - progress_monotonic_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int fail(struct exchange *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct exchange *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, x->why_size, fmt, ap);
	va_end(ap);
	return -1;
}

static int timed_out(struct exchange *x, const char *over)
{
	int n = snprintf(x->why, x->why_size, "timed out after %ldms%s",
			 x->timeout_ms, over);

	if (x->ignored && n > 0 && (size_t)n < x->why_size)
		snprintf(x->why + n, x->why_size - (size_t)n,
			 " (ignored %u datagram%s that did not answer the "
			 "query)",
			 x->ignored, x->ignored == 1 ? "" : "s");
	return -1;
}

static int sys_fail(struct exchange *x, const char *what, int e)
{
	if (e == ECONNREFUSED)
		return fail(x, "%s: connection refused", what);
	return fail(x, "%s: %s", what, strerror(e));
}

/* Names as glibc prints them (ns_name_ntop: letters never escaped, other
 * bytes always the same way) are the same name when equal but for case. */
static int same_name(const char *a, const char *b)
{
	return !strcasecmp(a, b);
}

/* 1 when a answers the query: same ID, a response, the same question; 0
 * for anything else. Only the header and the question are read, which a
 * truncated answer has whole. */
static int answers_query(const struct exchange *x, const unsigned char *a,
			 int alen)
{
	char name[NS_MAXDNAME];
	const unsigned char *p;
	HEADER qh, ah;
	int n;

	if (alen < HFIXEDSZ)
		return 0;
	memcpy(&qh, x->q, HFIXEDSZ);
	memcpy(&ah, a, HFIXEDSZ);
	if (ah.id != qh.id || !ah.qr || ah.opcode != qh.opcode)
		return 0;
	if (!ah.qdcount)
		return ah.rcode != NOERROR && !ah.ancount;
	if (ntohs(ah.qdcount) != 1)
		return 0;
	n = dn_expand(a, a + alen, a + HFIXEDSZ, name, sizeof(name));
	if (n < 0 || alen - HFIXEDSZ - n < 2 * NS_INT16SZ)
		return 0;
	p = a + HFIXEDSZ + n;
	return ns_get16(p) == x->qtype && ns_get16(p + 2) == ns_c_in &&
	       same_name(name, x->qname);
}

static int tc_bit(const unsigned char *a)
{
	HEADER h;

	memcpy(&h, a, HFIXEDSZ);
	return h.tc;
}

static int open_socket(struct exchange *x, int type)
{
	int fd = socket(x->sv->ss.ss_family,
			type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return sys_fail(x, "socket", errno);
	/* Connected, so that the kernel drops datagrams from other sources
	 * and reports ICMP errors. */
	if (connect(fd, (const struct sockaddr *)&x->sv->ss, x->sv->len) < 0 &&
	    errno != EINPROGRESS) {
		sys_fail(x, "connect", errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* 0: an answer in x->a; 1: it is truncated (TC), ask over TCP; -1. */
static int udp_exchange(struct exchange *x)
{
	int fd = open_socket(x, SOCK_DGRAM), rc = -1;

	if (fd < 0)
		return -1;
	while (send(fd, x->q, (size_t)x->qlen, 0) < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			sys_fail(x, "send", errno);
			goto out;
		}
		if (wait_fd(fd, POLLOUT, x->deadline) <= 0) {
			timed_out(x, "");
			goto out;
		}
	}
	for (;;) {
		int ready = wait_fd(fd, POLLIN, x->deadline);
		ssize_t n;
		ns_msg h;

		if (ready <= 0) {
			if (ready < 0)
				sys_fail(x, "poll", errno);
			else
				timed_out(x, "");
			goto out;
		}
		n = recv(fd, x->a, ANSWER_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			sys_fail(x, "receive", errno);
			goto out;
		}
		if (!answers_query(x, x->a, (int)n)) {
			x->ignored++;
			continue;
		}
		x->alen = (int)n;
		if (tc_bit(x->a)) {
			rc = 1;
			goto out;
		}
		/* Over UDP a datagram that does not parse may be forged as
		 * well as broken: the wait goes on. */
		if (ns_initparse(x->a, x->alen, &h) < 0) {
			x->ignored++;
			continue;
		}
		rc = 0;
		goto out;
	}
out:
	close(fd);
	return rc;
}

/* Move n bytes over a stream socket, within the deadline. */
static int tcp_io(struct exchange *x, int fd, unsigned char *buf, size_t n,
		  int out)
{
	while (n) {
		ssize_t m = out ? send(fd, buf, n, MSG_NOSIGNAL)
				: recv(fd, buf, n, 0);
		int ready;

		if (m > 0) {
			buf += m;
			n -= (size_t)m;
			continue;
		}
		if (m == 0)
			return fail(x, "%s", "closed by the server over TCP");
		if (errno != EAGAIN && errno != EINTR)
			return sys_fail(
				x, out ? "send over TCP" : "receive over TCP",
				errno);
		ready = wait_fd(fd, out ? POLLOUT : POLLIN, x->deadline);
		if (ready < 0)
			return sys_fail(x, "poll", errno);
		if (!ready)
			return timed_out(x, " over TCP");
	}
	return 0;
}

static int tcp_exchange(struct exchange *x)
{
	unsigned char out[2 + PACKETSZ], len[2];
	int fd = open_socket(x, SOCK_STREAM), rc = -1, e = 0, ready;
	socklen_t elen = sizeof(e);
	ns_msg h;

	if (fd < 0)
		return -1;
	ready = wait_fd(fd, POLLOUT, x->deadline);
	if (ready <= 0) {
		if (ready < 0)
			sys_fail(x, "poll", errno);
		else
			timed_out(x, " connecting over TCP");
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 || e) {
		sys_fail(x, "connect over TCP", e ? e : errno);
		goto out;
	}
	ns_put16((unsigned)x->qlen, out);
	memcpy(out + 2, x->q, (size_t)x->qlen);
	if (tcp_io(x, fd, out, (size_t)x->qlen + 2, 1) < 0 ||
	    tcp_io(x, fd, len, 2, 0) < 0)
		goto out;
	x->alen = (int)ns_get16(len);
	if (tcp_io(x, fd, x->a, (size_t)x->alen, 0) < 0)
		goto out;
	if (!answers_query(x, x->a, x->alen))
		fail(x, "%s", "the answer over TCP does not match the query");
	else if (ns_initparse(x->a, x->alen, &h) < 0)
		fail(x, "%s", "malformed answer over TCP");
	else
		rc = 0;
out:
	close(fd);
	return rc;
}

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
};

/* A name in rdata at *p (compressed, within the message), as text; *p moves
 * past it. -1 when it does not fit in rdata. */
static int rd_name(const ns_msg *h, const unsigned char **p,
		   const unsigned char *end, char *out, size_t size)
{
	int n = ns_name_uncompress(ns_msg_base(*h), ns_msg_end(*h), *p, out,
				   size);

	if (n < 0 || n > end - *p)
		return -1;
	*p += n;
	return 0;
}

/* The text of one record (see struct dnsq_result), malloc'd; NULL with
 * *bad set when its data does not fit its type. */
static char *rr_text(const ns_msg *h, const ns_rr *rr, int *bad)
{
	const unsigned char *rd = ns_rr_rdata(*rr), *p = rd;
	const unsigned char *end = rd + ns_rr_rdlen(*rr);
	char n1[NS_MAXDNAME], n2[NS_MAXDNAME], buf[2 * NS_MAXDNAME + 64];
	char *s, *o;

	*bad = 1;
	switch (ns_rr_type(*rr)) {
	case ns_t_a:
	case ns_t_aaaa: {
		int af = ns_rr_type(*rr) == ns_t_a ? AF_INET : AF_INET6;

		if (end - p != (af == AF_INET ? 4 : 16) ||
		    !inet_ntop(af, p, buf, sizeof(buf)))
			return NULL;
		break;
	}
	case ns_t_cname:
	case ns_t_ns:
	case ns_t_ptr:
		if (rd_name(h, &p, end, buf, sizeof(buf)) < 0 || p != end)
			return NULL;
		break;
	case ns_t_mx:
		if (end - p < 2)
			return NULL;
		p += 2;
		if (rd_name(h, &p, end, n1, sizeof(n1)) < 0 || p != end)
			return NULL;
		snprintf(buf, sizeof(buf), "%u %s", ns_get16(rd), n1);
		break;
	case ns_t_srv:
		if (end - p < 6)
			return NULL;
		p += 6;
		if (rd_name(h, &p, end, n1, sizeof(n1)) < 0 || p != end)
			return NULL;
		snprintf(buf, sizeof(buf), "%u %u %u %s", ns_get16(rd),
			 ns_get16(rd + 2), ns_get16(rd + 4), n1);
		break;
	case ns_t_soa:
		if (rd_name(h, &p, end, n1, sizeof(n1)) < 0 ||
		    rd_name(h, &p, end, n2, sizeof(n2)) < 0 || end - p != 20)
			return NULL;
		snprintf(buf, sizeof(buf), "%s %s %lu %lu %lu %lu %lu", n1, n2,
			 ns_get32(p), ns_get32(p + 4), ns_get32(p + 8),
			 ns_get32(p + 12), ns_get32(p + 16));
		break;
	case ns_t_txt:
		/* Character strings joined; control bytes as \DDD. */
		s = o = malloc((size_t)(end - p) * 4 + 1);
		if (!s) {
			*bad = 0;
			return NULL;
		}
		while (p < end) {
			size_t len = *p++;

			if (len > (size_t)(end - p)) {
				free(s);
				return NULL;
			}
			for (; len; len--, p++)
				if (*p < 0x20 || *p == 0x7f)
					o += snprintf(o, 5, "\\%03u", *p);
				else
					*o++ = (char)*p;
		}
		*o = '\0';
		*bad = 0;
		return s;
	default:
		return NULL;
	}
	*bad = 0;
	return strdup(buf);
}

static int push(char ***list, size_t *n, size_t cap, char *s)
{
	if (!*list) {
		*list = calloc(cap, sizeof(**list));
		if (!*list)
			return -1;
	}
	(*list)[(*n)++] = s;
	return 0;
}

/* Whether an owner name is the name asked or on its CNAME chain. */
static int on_chain(const char *owner, const char *qname,
		    const struct dnsq_result *r)
{
	if (same_name(owner, qname))
		return 1;
	for (size_t i = 0; i < r->ncnames; i++)
		if (same_name(owner, r->cnames[i]))
			return 1;
	return 0;
}

static int parse_answer(struct exchange *x, const struct dns_type *t,
			struct dnsq_result *r, struct sd_err *err)
{
	const char *qname = x->qname;
	char cur[NS_MAXDNAME];
	unsigned rcode;
	ns_msg h;
	ns_rr rr;
	int count;

	if (ns_initparse(x->a, x->alen, &h) < 0)
		return fail(x, "%s", "malformed answer");
	rcode = (unsigned)ns_msg_getflag(h, ns_f_rcode);
	if (rcode < sizeof(rcode_names) / sizeof(*rcode_names))
		snprintf(r->rcode, sizeof(r->rcode), "%s", rcode_names[rcode]);
	else
		snprintf(r->rcode, sizeof(r->rcode), "RCODE%u", rcode);
	count = ns_msg_count(h, ns_s_an);

	/* The chain, hop by hop, whatever the order of the records. */
	snprintf(cur, sizeof(cur), "%s", qname);
	for (int hop = 1; t->type != ns_t_cname && hop;) {
		hop = 0;
		for (int i = 0; i < count && !hop; i++) {
			char next[NS_MAXDNAME], *copy;
			const unsigned char *p;

			if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
				return fail(x, "%s", "malformed answer");
			if (ns_rr_type(rr) != ns_t_cname ||
			    ns_rr_class(rr) != ns_c_in ||
			    !same_name(ns_rr_name(rr), cur))
				continue;
			p = ns_rr_rdata(rr);
			if (rd_name(&h, &p, p + ns_rr_rdlen(rr), next,
				    sizeof(next)) < 0)
				return fail(x, "%s", "malformed CNAME record");
			if (r->ncnames == DNSQ_MAX_CNAMES) {
				r->truncated = true;
				break;
			}
			copy = strdup(next);
			if (!copy || push(&r->cnames, &r->ncnames,
					  DNSQ_MAX_CNAMES, copy) < 0) {
				free(copy);
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			}
			snprintf(cur, sizeof(cur), "%s", next);
			hop = 1;
		}
	}

	for (int i = 0; i < count; i++) {
		char *text;
		int bad;

		if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
			return fail(x, "%s", "malformed answer");
		if (ns_rr_type(rr) != t->type || ns_rr_class(rr) != ns_c_in ||
		    !on_chain(ns_rr_name(rr), qname, r))
			continue;
		if (r->n == DNSQ_MAX_ANSWERS) {
			r->truncated = true;
			break;
		}
		text = rr_text(&h, &rr, &bad);
		if (!text && bad)
			return fail(x, "malformed %s record", t->name);
		if (!text ||
		    push(&r->answers, &r->n, DNSQ_MAX_ANSWERS, text) < 0) {
			free(text);
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		}
	}
	return 0;
}

int dnsq_query(const char *server, const char *name, const char *type,
	       long timeout_ms, struct dnsq_result *r, struct sd_err *err)
{
	struct server sv;
	struct __res_state st;
	const struct dns_type *t;
	unsigned char q[PACKETSZ];
	struct exchange x = {.sv = &sv, .q = q};
	int rc;

	memset(r, 0, sizeof(*r));
	x.why = r->error;
	x.why_size = sizeof(r->error);
	t = check_type(type, err);
	if (!t || check_name(name, err) < 0)
		return -1;
	if (timeout_ms <= 0 || timeout_ms > MAX_TIMEOUT_MS)
		return err_set(err, SD_EXIT_USAGE,
			       "DNS timeout of %ldms out of range (1ms to 1h)",
			       timeout_ms);
	if (get_server(server, &sv, err) < 0)
		return -1;
	snprintf(r->server, sizeof(r->server), "%s", sv.text);

	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) < 0)
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot initialise the resolver");
	x.qlen = res_nmkquery(&st, ns_o_query, name, ns_c_in, t->type, NULL, 0,
			      NULL, q, sizeof(q));
	res_nclose(&st);
	if (x.qlen < HFIXEDSZ || dn_expand(q, q + x.qlen, q + HFIXEDSZ, x.qname,
					   sizeof(x.qname)) < 0)
		return err_set(err, SD_EXIT_USAGE,
			       "cannot make a DNS query for '%s'", name);
	x.qtype = t->type;

	x.a = malloc(ANSWER_MAX);
	if (!x.a)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	x.timeout_ms = timeout_ms;
	x.start = progress_monotonic_ms();
	x.deadline = x.start + timeout_ms;
	rc = udp_exchange(&x);
	if (rc == 1) {
		r->tcp = true;
		rc = tcp_exchange(&x);
	}
	r->ms = progress_monotonic_ms() - x.start;
	if (rc == 0)
		rc = parse_answer(&x, t, r, err);
	free(x.a);
	if (rc < 0) {
		dnsq_result_release(r);
		r->rcode[0] = '\0';
		if (r->error[0])
			return err_set(err, SD_EXIT_CANNOT,
				       "no answer from '%s' for '%s' %s: %s",
				       sv.text, name, t->name, r->error);
		return -1;
	}
	return 0;
}

int dnsq_zone_ns(const char *server, const char *host, long timeout_ms,
		 struct dnsq_result *r, char *zone, size_t zone_size,
		 struct sd_err *err)
{
	char name[NS_MAXDNAME];
	const char *cur = name;
	int64_t deadline;

	memset(r, 0, sizeof(*r));
	if (zone && zone_size)
		zone[0] = '\0';
	if (check_name(host, err) < 0)
		return -1;
	if (timeout_ms <= 0 || timeout_ms > MAX_TIMEOUT_MS)
		return err_set(err, SD_EXIT_USAGE,
			       "DNS timeout of %ldms out of range (1ms to 1h)",
			       timeout_ms);
	snprintf(name, sizeof(name), "%s", host);
	deadline = progress_monotonic_ms() + timeout_ms;
	for (;;) {
		int64_t left = deadline - progress_monotonic_ms();
		const char *dot;

		if (left <= 0) {
			snprintf(r->error, sizeof(r->error),
				 "timed out after %ldms", timeout_ms);
			return err_set(err, SD_EXIT_CANNOT,
				       "no NS records for '%s' in time: %s",
				       host, r->error);
		}
		if (dnsq_query(server, cur, "NS", (long)left, r, err) < 0)
			return -1;
		/* A name with a CNAME is no zone's apex: its NS records, if
		 * any, are the target's. */
		if (r->n && !r->ncnames) {
			if (zone && zone_size)
				snprintf(zone, zone_size, "%s", cur);
			return 0;
		}
		dot = strchr(cur, '.');
		if (!dot || !dot[1])
			return 0;
		dnsq_result_release(r);
		cur = dot + 1;
	}
}
