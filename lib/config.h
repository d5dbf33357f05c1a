/* Configuration: YAML (or JSON) files read through libyaml, converted once to
 * jansson values, validated against the table of known keys, and merged in
 * DESIGN.md's order (later wins):
 *   $SAFEDEPLOY_SYSCONFDIR/config.yml (default /etc/safedeploy/config.yml),
 *   $XDG_CONFIG_HOME/safedeploy/config.yml, .safedeploy.yml at the repository
 *   root, then the file given with --config.
 * Objects merge key by key; any other value (lists included) is replaced. */
#ifndef SD_CONFIG_H
#define SD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct config {
	json_t *root;	  /* merged values, always an object */
	json_t *origins;  /* dotted key -> "file:line:column" of its value */
	json_t *warnings; /* strings, e.g. "FILE:3:1: unknown key 'tokn'
			     (did you mean 'token'?)" */
	json_t *files;	  /* the files that were read, in merge order */
};

void config_init(struct config *cfg);
void config_release(struct config *cfg);

/* Read the standard files that exist (a missing file is skipped silently,
 * an unreadable or invalid one is an error), then explicit_file if not NULL
 * (which must exist). Errors are SD_EXIT_CANNOT with "file:line:column:
 * message", naming the key where there is one. */
int config_load(struct config *cfg, const char *explicit_file,
		struct sd_err *err);

/* Parse, validate and merge one file over what cfg holds. A name ending in
 * ".json" is read as JSON, anything else as YAML. */
int config_load_file(struct config *cfg, const char *path, struct sd_err *err);

/* Value at a dotted path ("token.ttl"), or NULL. */
json_t *config_get(const struct config *cfg, const char *path);
/* "file:line:column" where the value at path was set, or NULL. */
const char *config_origin(const struct config *cfg, const char *path);

/* Typed getters: 1 when set (value stored), 0 when absent (value untouched),
 * -1 on a value of the wrong type, with an error naming origin and key. */
int config_get_string(const struct config *cfg, const char *path,
		      const char **value, struct sd_err *err);
int config_get_bool(const struct config *cfg, const char *path, bool *value,
		    struct sd_err *err);
int config_get_duration(const struct config *cfg, const char *path, int64_t *ms,
			struct sd_err *err);
int config_get_size(const struct config *cfg, const char *path, uint64_t *bytes,
		    struct sd_err *err);

/* YAML text to a jansson value. name is used in messages. When origins is
 * not NULL, each mapping key's dotted path (prefix + key, list elements as
 * "[N]") is recorded there with "name:line:column" of the key. Scalars follow the YAML
 * 1.2 core schema (null, true/false, integers, floats; quoted = string);
 * anchors and aliases are resolved, "<<" merge keys applied, duplicate keys
 * and more than one document are errors. Errors: "name:line:column: …". */
int yaml_to_json(const char *text, size_t len, const char *name,
		 const char *prefix, json_t **out, json_t *origins,
		 struct sd_err *err);

/* The table of known keys, one place for the whole suite (config_keys.c):
 * each command's issue adds its rows. */
enum config_type {
	CFG_SECTION, /* an object whose keys are listed in the table */
	CFG_STRING,
	CFG_BOOL,
	CFG_INT,
	CFG_DURATION, /* a string like "5m", see units.h */
	CFG_SIZE,     /* a string like "10M" or an integer */
	CFG_STRINGS,  /* a list of strings */
	CFG_ENUM,     /* a string among choices */
	CFG_LIST,     /* a list of objects whose keys are rows "path[].key" */
	CFG_ANY,      /* anything below is accepted as is */
};

struct config_key {
	const char *path; /* "token.ttl", "flags.define[].pattern" */
	enum config_type type;
	const char *choices; /* CFG_ENUM: "auto|always|never" */
	const char *help;    /* one line, for `safedeploy config --keys` */
};

extern const struct config_key config_keys[]; /* ends with {NULL} */

#endif
