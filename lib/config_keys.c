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
	{NULL},
};
