/* Status-page probe conditions in Gatus's grammar ("[STATUS] == 200",
 * "len([BODY].items) >= 1", "[CERTIFICATE_EXPIRATION] > 30d"): parsed
 * strictly when the configuration is loaded, evaluated against what one
 * check observed, rendered as Gatus renders them. */
#ifndef SD_COND_H
#define SD_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

#define COND_MAX_LEN 4096 /* bytes of condition text */
#define COND_MAX_ANY 64	  /* options of one any() */
#define COND_NO_CERT INT64_MIN

/* What one check observed. */
struct cond_values {
	long status; /* HTTP status; -1 when the check has none */
	int64_t response_time_ms;
	/* May be NULL; not necessarily NUL-terminated. */
	const char *body;
	size_t body_len;
	/* The address connected to; NULL or "" when none. */
	const char *ip;
	int connected; /* 1, 0, or -1 when not applicable */
	/* Time left on the leaf certificate; COND_NO_CERT when none. */
	int64_t cert_expiry_ms;
	/* "NOERROR", "NXDOMAIN"...; NULL unless a DNS check. */
	const char *dns_rcode;
	/* Filled by cond_eval on first need; release with cond_values_release. */
	json_t *json;
	bool json_tried;
};

/* Every field "not applicable": status -1, connected -1, cert COND_NO_CERT,
 * no body, no address, no rcode, response time 0. */
void cond_values_init(struct cond_values *v);

/* Drop the parsed body (call it before reusing v for another body). */
void cond_values_release(struct cond_values *v);

struct cond; /* compiled, immutable */

/* Compile one condition, at config load time. NULL with an SD_EXIT_USAGE
 * error that quotes the condition and says what is wrong:
 *   "condition '[STATSU] == 200': unknown placeholder '[STATSU]' (...)"
 * Beyond Gatus, these are errors rather than conditions that silently pass
 * or fail: no operator, an empty side, a second operator in a side, an
 * unknown placeholder or a wrong-case function name (LEN()), a malformed
 * [BODY] path, a path on another placeholder, len()/has() around anything
 * but a placeholder, unbalanced parentheses or brackets in a side, pat() or
 * any() on both sides or with < <= > >=, an empty any() or option, more
 * than COND_MAX_ANY options, no placeholder on either side, a literal under
 * < <= > >= that is neither a number nor a duration ("30x", "fast"), and a
 * literal that can never equal its placeholder ("[STATUS] == OK",
 * "[CONNECTED] == yes", "[DNS_RCODE] != NXDOMIAN"). Text over COND_MAX_LEN
 * bytes is refused. */
struct cond *cond_parse(const char *text, struct sd_err *err);

void cond_free(struct cond *c);

/* The condition as written: what Gatus shows for a passing condition by
 * default (ui.resolve-successful-conditions is off). */
const char *cond_text(const struct cond *c);

/* True when the condition holds. out (n bytes, always NUL-terminated when
 * n > 0; may be NULL) gets Gatus's rendering with the actual values:
 *   "[STATUS] (500) == 200", "[BODY].status (DOWN) == UP",
 *   "[BODY].data.name (INVALID) == john",
 *   "[CERTIFICATE_EXPIRATION] (24h) > 48h", "len([BODY].items) (0) >= 1".
 * A value that is missing (a path through a missing key, a null or a body
 * that is not JSON; a placeholder the check has no value for) shows as
 * (INVALID) and the condition fails, whatever the operator. Under
 * < <= > >= a value that is neither a number nor a duration fails the
 * condition, shown as it is. Beside a pat(), values over 25 characters are
 * cut to 25 + "...(truncated)". Control characters in values show as '?'
 * (tab, CR and LF as a space). Never reads past body_len. */
bool cond_eval(const struct cond *c, struct cond_values *v, char *out,
	       size_t n);

/* Which values a condition reads, so that a check can skip the rest (not
 * read the body, not resolve the certificate). */
enum cond_uses {
	COND_USES_STATUS = 1 << 0,
	COND_USES_RESPONSE_TIME = 1 << 1,
	COND_USES_BODY = 1 << 2,
	COND_USES_IP = 1 << 3,
	COND_USES_CONNECTED = 1 << 4,
	COND_USES_CERT = 1 << 5,
	COND_USES_DNS_RCODE = 1 << 6,
};

/* A mask of enum cond_uses. */
unsigned cond_uses(const struct cond *c);

#endif
