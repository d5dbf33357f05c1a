/* Plans: the canonical JSON document of what a destructive operation will
 * do (DESIGN.md §1). Its digest is SHA-256 over the canonical form (keys
 * sorted, no insignificant whitespace), so key order and layout do not
 * change it. */
#ifndef SD_PLAN_H
#define SD_PLAN_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

#define PLAN_DIGEST_LEN 32
#define PLAN_MAX_SIZE	(64u << 20)
/* The canonical form, as DESIGN.md fixes it: sorted keys, compact. */
#define PLAN_CANONICAL (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)

struct plan {
	json_t *doc;
	unsigned char digest[PLAN_DIGEST_LEN];
	char hex[2 * PLAN_DIGEST_LEN + 1];
};

/* Read a plan from path ("-" for standard input). Errors (SD_EXIT_CANNOT)
 * name the file, and line and column for JSON syntax. */
int plan_load(struct plan *plan, const char *path, struct sd_err *err);
/* Parse a plan from text; name is used in messages. */
int plan_parse(struct plan *plan, const char *text, size_t len,
	       const char *name, struct sd_err *err);
/* Take a reference to doc (an object) and digest it. */
int plan_from_json(struct plan *plan, json_t *doc, struct sd_err *err);
void plan_release(struct plan *plan);

/* The canonical text of doc: malloc'd, NUL-terminated. */
char *plan_canonical(const json_t *doc);

#endif
