/* Reading one field out of what a target answered: a dot path into JSON
 * ("build.version", "git.commit.id", "items[0].name", a["key.with.dots"])
 * or a label of a Prometheus text-format metric ("app_build_info.version"). */
#ifndef SD_EXTRACT_H
#define SD_EXTRACT_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* Check a path's syntax before any request is made: 0, or -1 with an
 * SD_EXIT_USAGE error that quotes the path and says what is wrong. */
int jpath_validate(const char *path, struct sd_err *err);

/* The value at path in root (a borrowed reference), or NULL with an error
 * naming the first segment that is missing or of the wrong kind, e.g.
 * "'git.commit.id': 'git' is missing" or "'items[3]': 'items' has 2
 * elements". */
json_t *jpath_get(json_t *root, const char *path, struct sd_err *err);

/* The text of a value, for comparison: a string as it is; a number or a
 * boolean as its JSON text; Spring's {"full": …, "abbrev": …} commit object
 * as "full" (or "abbrev" when there is no "full"). NULL for null, arrays and
 * other objects. *kind is set to "string", "number", "boolean", "null",
 * "array" or "object" (the JSON type of v) for messages. Malloc'd. */
char *jpath_text(json_t *v, const char **kind);

/* The value of label in the first sample of metric in Prometheus text
 * exposition format (label values unescaped: \\ \" \n). Returns 0 with a
 * malloc'd *value, or -1 with an error: "metric 'x' not found", "metric 'x'
 * has no label 'y'", or "line N: …" for a malformed line. Never reads past
 * len. */
int promtext_label(const char *text, size_t len, const char *metric,
		   const char *label, char **value, struct sd_err *err);

#endif
