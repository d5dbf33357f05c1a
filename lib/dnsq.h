/* DNS queries for `safedeploy probe`: Gatus-style DNS checks (the answer and
 * the rcode) and the independence check (addresses, CNAME chain, NS). */
#ifndef SD_DNSQ_H
#define SD_DNSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Caps: records kept from one answer (more are dropped), and CNAME hops
 * followed (a longer chain stops there); either sets `truncated`. */
#define DNSQ_MAX_ANSWERS 256
#define DNSQ_MAX_CNAMES	 16

struct dnsq_result {
	/* "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	 * or "RCODE<n>" */
	char rcode[16];
	/* The answer section's records of the asked type whose owner is the
	 * name asked or a name of its CNAME chain, as text, in the server's
	 * order: A/AAAA the address, CNAME/NS/PTR the name without the final
	 * dot, MX "10 mail.example.com", TXT the strings joined (control
	 * characters as \DDD), SOA "mname rname serial refresh retry expire
	 * minimum", SRV "prio weight port target". At most DNSQ_MAX_ANSWERS. */
	char **answers;
	size_t n;
	/* The CNAME chain met on the way from the name asked, in order (empty
	 * when the type asked is CNAME). At most DNSQ_MAX_CNAMES. */
	char **cnames;
	size_t ncnames;
	bool truncated;	 /* answers or cnames hit their cap */
	bool tcp;	 /* the answer came over TCP (UDP's had the TC bit) */
	char server[64]; /* the server asked, "IP:PORT" or "[IPv6]:PORT" */
	int64_t ms;	 /* time to the answer */
	char error[256]; /* set when no answer came: timeout, refused, ... */
};

/* Ask server for the records of one type of name, over UDP, and again over
 * TCP when the answer is truncated (TC bit). Exactly one UDP datagram is
 * sent: a lost one is a timeout, as a check should see it.
 *
 * server: "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (port 53 when absent;
 * a bare IPv6 address has no port), or NULL for the first nameserver of
 * /etc/resolv.conf. Names are not resolved: a server is an address.
 * type: "A", "AAAA", "CNAME", "MX", "NS", "TXT", "PTR", "SOA", "SRV"
 * (case-insensitive). timeout_ms (1ms to 1h) bounds the whole exchange,
 * TCP included.
 *
 * A datagram whose ID, question or source does not match the query is
 * ignored, and the wait goes on. An answer with no question section is
 * taken only with an error rcode (servers answer FORMERR so).
 *
 * Returns 0 when an answer came, whatever its rcode. Returns -1 when none
 * could: bad arguments are SD_EXIT_USAGE with a message naming what is
 * wrong; a timeout, a network failure or a malformed answer is
 * SD_EXIT_CANNOT and also fills r->error (r->rcode is then empty). r is
 * overwritten; release it with dnsq_result_release either way. */
int dnsq_query(const char *server, const char *name, const char *type,
	       long timeout_ms, struct dnsq_result *r, struct sd_err *err);

/* The name servers of the zone that holds host, for the independence
 * check: NS is asked for host, then for each parent in turn
 * (www.example.com, example.com, com), until an answer holds NS records;
 * zone (if not NULL) gets the name that had them. timeout_ms bounds all the
 * queries together. Returns 0 with the last answer in r (r->n == 0 when no
 * level had NS records), or -1 as dnsq_query. */
int dnsq_zone_ns(const char *server, const char *host, long timeout_ms,
		 struct dnsq_result *r, char *zone, size_t zone_size,
		 struct sd_err *err);

void dnsq_result_release(struct dnsq_result *r);

/* Check the arguments of dnsq_query at config load time: the type known,
 * the name a valid DNS name (letters, digits, '-', '_', '*'; labels of 1 to
 * 63 characters; at most 253 in all; one final dot allowed), the server
 * parseable (NULL is the default server). SD_EXIT_USAGE when not. */
int dnsq_validate(const char *server, const char *name, const char *type,
		  struct sd_err *err);

/* The server that dnsq_query(NULL, ...) asks, as "IP:PORT", from
 * /etc/resolv.conf (127.0.0.1:53 when it names none). */
int dnsq_default_server(char *buf, size_t size, struct sd_err *err);

#endif
