/* The table of known configuration keys; a key not listed here gets a
 * warning that names it. Each command adds its rows. */
#include <stddef.h>

#include "config.h"

const struct config_key config_keys[] = {
	{"color", CFG_ENUM, "auto|always|never",
	 "colour in output: auto (terminal only), always or never"},
	{"token", CFG_SECTION, NULL, "confirmation tokens"},
	{"token.ttl", CFG_DURATION, NULL,
	 "how long an issued token stays valid (default 5m)"},
	{"token.key-file", CFG_STRING, NULL,
	 "the HMAC key file (default $XDG_STATE_HOME/safedeploy/token.key)"},
	{"verify", CFG_SECTION, NULL, "defaults for safedeploy verify"},
	{"verify.fields", CFG_ANY, NULL,
	 "fields to read: a mapping of NAME: PATH (default version, commit)"},
	{"verify.expect", CFG_ANY, NULL,
	 "expected values: a mapping of NAME: VALUE"},
	{"verify.exactly-one", CFG_ANY, NULL,
	 "values exactly one target may hold: a mapping of NAME: VALUE"},
	{"verify.same", CFG_STRINGS, NULL, "fields that must agree everywhere"},
	{"verify.same-prefix", CFG_STRINGS, NULL,
	 "objects whose every key must agree everywhere"},
	{"verify.min-targets", CFG_INT, NULL, "at least this many must agree"},
	{"verify.allow-unreachable", CFG_INT, NULL,
	 "targets that may fail to answer"},
	{"verify.concurrency", CFG_INT, NULL,
	 "requests in flight (default 64)"},
	{"verify.timeout", CFG_DURATION, NULL, "per request (default 5s)"},
	{"verify.connect-timeout", CFG_DURATION, NULL,
	 "per connection (default 2s)"},
	{"verify.deadline", CFG_DURATION, NULL,
	 "for the whole run (default 60s)"},
	{"verify.max-body", CFG_SIZE, NULL, "answer size cap (default 1M)"},
	{"verify.follow", CFG_BOOL, NULL, "follow redirects"},
	{"verify.insecure", CFG_BOOL, NULL, "do not verify TLS certificates"},
	{"verify.cacert", CFG_STRING, NULL, "CA certificates for TLS"},
	{"verify.headers", CFG_STRINGS, NULL, "request headers"},
	{"verify.port", CFG_INT, NULL, "the pods' port, with --kubectl-json"},
	{"verify.path", CFG_STRING, NULL,
	 "the path asked on each pod (default /actuator/info)"},
	{NULL},
};
