/* What a feature flag is, from the `flags:` configuration: where flags are
 * defined and referenced (path globs and PCRE2 patterns whose first capture
 * group is the name, or the keys of a JSON object), which paths to skip,
 * which spellings are one flag (aliases), and the policy (max-age, retired
 * names, severities). Compiled once; then flagspec_scan finds every flag
 * token in a file's text. */
#ifndef SD_FLAGSPEC_H
#define SD_FLAGSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "err.h"

#define FLAG_MAX_SOURCES   32
#define FLAG_MAX_FILE_SIZE (10u << 20) /* larger blobs are skipped */

enum flag_kind { FLAG_DEF = 0, FLAG_REF = 1 };

enum flag_finding {
	FINDING_DEAD,
	FINDING_UNDEFINED,
	FINDING_STALE,
	FINDING_RESURRECTED,
	FINDING_RETIRED_REFERENCED,
	FINDING_KINDS,
};

enum flag_severity { SEV_OFF, SEV_WARNING, SEV_ERROR };

struct flag_source {
	enum flag_kind kind;
	char **paths; /* globs, NULL-terminated */
	size_t npaths;
	char *pattern;	/* NULL for a JSON source */
	char *json_key; /* a JSON source: the keys of the object at this
			   dotted path ("flags") are the names */
	void *re;	/* pcre2_code */
	char *literal;	/* every match contains it; NULL when none */
	size_t literal_len;
	char *origin; /* "FILE:LINE:COL" or "preset 'kubernetes'" */
};

struct flag_alias_re {
	void *re; /* pcre2_code */
	char *pattern;
	char *replace;
};

struct flagspec {
	struct flag_source src[FLAG_MAX_SOURCES];
	size_t nsrc;
	char **exclude; /* globs, NULL-terminated */
	size_t nexclude;
	unsigned case_forms; /* FLAG_FORM_* bits: spellings that are one flag */
	struct flag_alias_re *alias_re;
	size_t nalias_re;
	int64_t max_age_ms;	  /* default 90 days */
	int64_t revert_window_ms; /* default 7 days */
	uint64_t max_file_size;	  /* default FLAG_MAX_FILE_SIZE */
	json_t *retired;	  /* key -> name as written in config */
	json_t *allow_resurrect;  /* key -> true */
	enum flag_severity severity[FINDING_KINDS];
	char digest[65]; /* SHA-256 of what decides the timelines */
	bool any;	 /* at least one define source */
};

#define FLAG_FORM_SNAKE 1u
#define FLAG_FORM_KEBAB 2u
#define FLAG_FORM_CAMEL 4u
#define FLAG_FORM_UPPER 8u

extern const char *const flag_finding_names[FINDING_KINDS];
extern const char *const flag_severity_names[3];

/* Compile the `flags:` section of cfg. Errors (SD_EXIT_CANNOT) name the
 * file:line:column and key, and for a bad regex the offset in it. */
int flagspec_load(const struct config *cfg, struct flagspec *fs,
		  struct sd_err *err);
/* The same from a `flags:` object alone; origins may be NULL. */
int flagspec_from_json(json_t *flags, const struct config *cfg,
		       struct flagspec *fs, struct sd_err *err);
void flagspec_release(struct flagspec *fs);

/* Bit i set when source i applies to path; 0 when nothing does or the
 * path is excluded. */
uint32_t flagspec_classify(const struct flagspec *fs, const char *path);
/* Is the directory excluded, or can no source match below it? */
bool flagspec_skip_dir(const struct flagspec *fs, const char *dir);

/* A flag token: the name as written (not NUL-terminated) at byte offset
 * off of the text, from source src. Return nonzero to stop. */
typedef int (*flag_hit_fn)(void *ud, const struct flag_source *src,
			   const char *name, size_t len, size_t off);

/* Per-thread match state for flagspec_scan. */
struct flagscan {
	const struct flagspec *fs;
	void *md[FLAG_MAX_SOURCES]; /* pcre2_match_data */
	json_t *warnings;	    /* strings, borrowed from the caller */
};

int flagscan_init(struct flagscan *sc, const struct flagspec *fs);
void flagscan_release(struct flagscan *sc);

/* Every token of the sources in mask in text (len bytes; binary text,
 * with a NUL in its first 8000 bytes, has none). name is the file, for
 * warnings (a pattern that hit PCRE2's match limit on it). Returns 0, or
 * what cb returned when it stopped. */
int flagscan_text(struct flagscan *sc, uint32_t mask, const char *name,
		  const char *text, size_t len, flag_hit_fn cb, void *ud);

/* Does text look binary (a NUL in its first 8000 bytes, like git)? */
bool flagspec_is_binary(const char *text, size_t len);

/* The canonical key of a flag name: aliases applied, so that every
 * spelling of one flag gives the same key. Returns the length written
 * (NUL-terminated, truncated to n - 1), or 0 when out is too small. */
size_t flagspec_key(const struct flagspec *fs, const char *name, size_t len,
		    char *out, size_t n);

/* The longest literal every match of a PCRE2 pattern must contain (used
 * to skip files cheaply). Conservative: NULL when unsure. Malloc'd. */
char *flagspec_literal(const char *pattern, size_t *len);

/* Line and column (1-based, column in bytes) of offset off in text. */
void flagspec_line_col(const char *text, size_t off, unsigned *line,
		       unsigned *col);

#endif
