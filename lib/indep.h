/* safedeploy probe independence: does the status page (page.url), or the
 * probe itself, share anything with what it watches? AWS S3, 2017: the
 * status page lived on S3. Each check gives PASS, WARN or FAIL:
 *   address      the page's host and a target resolve to the same address
 *                (FAIL), or to the same /24 or /64 (WARN);
 *   domain       the page's host is a monitored domain or under one (WARN);
 *   provider     the page's and a target's CNAME chains end in the same
 *                domain, the same hosting provider (WARN);
 *   nameservers  the page's zone and a target's have a name server in
 *                common (FAIL), or name servers under the same domain
 *                (WARN);
 *   probe        the probe's own addresses are a target's (FAIL), or in
 *                its /24 or /64 (WARN);
 *   assets       the published page loads something from a monitored host
 *                (FAIL) or from any other host (WARN).
 * Domains are compared by their last two labels (no public suffix list:
 * "example.co.uk" is taken as "co.uk"; say so when it matters). */
#ifndef SD_INDEP_H
#define SD_INDEP_H

#include <jansson.h>

#include "err.h"
#include "probe.h"

/* Run every check. dns_server: "IP[:PORT]" or NULL for the system's.
 * *findings gets [{"verdict": "PASS|WARN|FAIL", "check": NAME, "message":
 * TEXT}, ...]. -1 only when the checks could not run at all. */
int indep_run(const struct probe_config *pc, const char *page_url,
	      const char *dns_server, long timeout_ms, json_t **findings,
	      struct sd_err *err);

#endif
