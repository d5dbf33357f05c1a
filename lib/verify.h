/* Judging what every target says (DESIGN.md §2): extract fields from each
 * answer, apply the rules, give each target a verdict and the run a
 * summary a person reads at a glance. No I/O here: cmd/ fetches. */
#ifndef SD_VERIFY_H
#define SD_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "http.h"

enum verdict {
	V_MATCH,
	V_MISMATCH,
	V_UNREACHABLE,
	V_INVALID,
	V_TERMINATING,
	V_NOT_READY,
};

extern const char *const verdict_names[];

struct vfield {
	char *name;  /* "version" */
	char *path;  /* "build.version", or "app_build_info.version" */
	bool prom;   /* path is METRIC.LABEL of Prometheus text */
	bool commit; /* compared by prefix when abbreviated (>= 7 chars) */
};

enum rule_kind { R_EXPECT, R_SAME, R_SAME_PREFIX, R_EXACTLY_ONE, R_MIN };

struct vrule {
	enum rule_kind kind;
	char *name;  /* the field named, resolved by verify_check */
	int field;   /* index into fields; -1 for R_SAME_PREFIX and R_MIN */
	char *value; /* R_EXPECT, R_EXACTLY_ONE */
	char *path;  /* R_SAME_PREFIX */
	long min;    /* R_MIN */
	bool ok;
	char *message; /* why it failed, for the summary */
};

struct vtarget {
	char *name; /* pod name, or the URL */
	char *url;
	char *address; /* pod IP, or the address connected to */
	bool terminating, not_ready;
	enum verdict verdict;
	char *reason;	    /* why not a match */
	char **values;	    /* per field: its text, or NULL */
	const char **kinds; /* per field: JSON type of the value */
	json_t *answer;	    /* the parsed answer, when JSON */
	double seconds;
	bool asked;
	bool fixed; /* judged without asking (no IP yet): kept across rounds */
	bool proxied; /* asked through a proxy: address stays the pod's */
};

struct verify {
	struct vfield *fields;
	size_t nfields;
	struct vrule *rules;
	size_t nrules;
	struct vtarget *targets;
	size_t ntargets;
	long allow_unreachable;
	/* Results. */
	size_t counts[6]; /* per verdict */
	bool rules_ok;
	json_t *notes; /* strings: e.g. values compared as text */
	json_t *urls;  /* the set of target URLs, to drop duplicates */
};

void verify_init(struct verify *v);
void verify_release(struct verify *v);

/* "NAME=PATH"; PATH "prom:METRIC.LABEL" reads Prometheus text. Replaces a
 * field of the same name. */
int verify_add_field(struct verify *v, const char *spec, struct sd_err *err);
/* Rules; a field named in a rule must exist (checked by verify_check). */
int verify_add_rule(struct verify *v, enum rule_kind kind, const char *arg,
		    struct sd_err *err);
/* Defaults: fields version and commit when none were given; --same for
 * every field not in an --exactly-one rule when no --same was given. Then
 * check that every rule names a field. */
int verify_check(struct verify *v, struct sd_err *err);

/* Add a target; a URL seen before is not added again (returns 1). */
int verify_add_target(struct verify *v, const char *name, const char *url,
		      const char *address, struct sd_err *err);

/* Read one target's answer into its fields and a first verdict. */
void verify_read_answer(struct verify *v, struct vtarget *t,
			const struct http_result *r);

/* Forget every answer and judgement, for another round (--wait). */
void verify_reset(struct verify *v);

/* Apply the rules to every target: verdicts, counts, rules_ok. */
void verify_judge(struct verify *v);

/* The exit status: 0, 1 (a rule failed, or a target was invalid, mismatched
 * or not ready, or there was no target), 4 (only unreachable targets beyond
 * allow_unreachable). */
int verify_exit_status(const struct verify *v);

/* The summary: lines a person reads at a glance ("7 of 8 targets agree:
 * version=1.2.3 commit=4f2a9c1", "1 differs: pod-8 (10.0.0.8)
 * version=1.1.0"). A JSON array of strings, new reference. */
json_t *verify_summary(const struct verify *v);

/* Whether two values are equal: as text, and for commit fields a prefix of
 * at least 7 characters of the other matches. */
bool verify_values_equal(const struct vfield *f, const char *a, const char *b);

#endif
