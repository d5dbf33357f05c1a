/* Feature flags in a git repository (DESIGN.md §3, "history is data"):
 *   - a state: which flags one version of the tree (a commit, the index or
 *     the working tree) defines and references, and where;
 *   - a history: per-flag timelines over first-parent history, derived in
 *     one pass that skips unchanged subtrees and reads each blob version
 *     once for all flags, cached under .git/safedeploy/;
 *   - findings: dead, undefined, stale, resurrected and
 *     retired-but-referenced, as JSON objects that the table, --json and
 *     SARIF outputs render. */
#ifndef SD_FLAGS_H
#define SD_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include <git2.h>
#include <jansson.h>

#include "err.h"
#include "flagspec.h"
#include "progress.h"

#define FLAG_MAX_LOCS 20 /* locations kept per flag and kind */

struct flag_loc {
	char *path;
	unsigned line, col;
};

struct flag_stat {
	char *key;  /* canonical (flagspec_key) */
	char *name; /* as first written: a definition's spelling if any */
	bool name_from_def;
	int64_t count[2]; /* FLAG_DEF, FLAG_REF tokens */
	struct flag_loc loc[2][FLAG_MAX_LOCS];
	unsigned nloc[2];
};

struct flag_state {
	struct flag_stat *v;
	size_t n, cap;
	json_t *index;	  /* key -> position in v */
	json_t *warnings; /* strings */
	uint64_t files, bytes, skipped_large, skipped_binary;
};

/* Make room for need elements of size bytes in the array *pv of *cap
 * (doubling): 0, or -1 out of memory with the array untouched. */
int flags_reserve(void *pv, size_t *cap, size_t need, size_t size);

void flagstate_init(struct flag_state *st);
void flagstate_release(struct flag_state *st);
struct flag_stat *flagstate_get(const struct flag_state *st, const char *key);
/* The entry of key, created with zero counts when new; NULL out of memory. */
struct flag_stat *flagstate_add(struct flag_state *st, const char *key,
				const char *name);

/* The flags of a tree (a commit's) or of the working tree
 * (tracked files and untracked ones that are not ignored, read from disk). */
int flagstate_scan_tree(git_repository *repo, git_tree *tree,
			const struct flagspec *fs, struct flag_state *st,
			struct sd_err *err);
/* The text of one file (path names it in locations), for the sources in
 * mask. */
int flagstate_scan_text(struct flag_state *st, const struct flagspec *fs,
			uint32_t mask, const char *path, const char *text,
			size_t len, struct sd_err *err);
/* One blob, for the sources in mask (flagspec_classify of path). */
int flagstate_scan_blob(git_repository *repo, const git_oid *oid,
			const struct flagspec *fs, struct flag_state *st,
			uint32_t mask, const char *path, struct sd_err *err);
int flagstate_scan_workdir(git_repository *repo, const struct flagspec *fs,
			   struct flag_state *st, struct sd_err *err);

/* Timelines. */
enum flag_event_type { EV_BORN, EV_EXTINCT, EV_BORN_AGAIN };

struct flag_event {
	uint8_t kind;	 /* FLAG_DEF or FLAG_REF */
	uint8_t type;	 /* enum flag_event_type */
	uint32_t commit; /* index into flag_history.commits */
	char *path;	 /* a file where the count changed that way */
};

struct flag_commit {
	char id[41];
	int64_t time; /* committer time, seconds */
	char *author;
	char *subject;
};

struct flag_timeline {
	char *key, *name;
	int64_t count[2]; /* tokens at the tip */
	struct flag_event *ev;
	size_t nev, cap;
};

struct flag_history {
	char tip[41];	  /* last commit scanned, "" when none */
	uint64_t scanned; /* commits in the timelines */
	bool shallow;	  /* history stops at a shallow boundary */
	char root[41];	  /* the oldest commit scanned */
	int64_t tip_time;
	struct flag_commit *commits; /* those that carry events */
	size_t ncommits, ccap;
	struct flag_timeline *fl;
	size_t nfl, flcap;
	json_t *index; /* key -> position in fl; commit id -> position */
	json_t *cindex;
	json_t *warnings; /* strings: cache rebuilt, shallow clone, ... */
	/* What the last flaghist_update did. */
	uint64_t new_commits, blobs_read, bytes_read;
	bool cache_used, cache_saved;
};

struct flaghist_opts {
	bool use_cache;		   /* read .git/safedeploy/ first */
	bool save_cache;	   /* write it back */
	struct progress *progress; /* or NULL */
};

void flaghist_init(struct flag_history *h);
void flaghist_release(struct flag_history *h);

/* Bring h up to the first-parent history of target: from the cache when
 * it is valid and its tip is on that line, else from the root. */
int flaghist_update(git_repository *repo, const struct flagspec *fs,
		    const git_oid *target, struct flag_history *h,
		    const struct flaghist_opts *o, struct sd_err *err);

const struct flag_timeline *flaghist_get(const struct flag_history *h,
					 const char *key);

/* The cache file of this configuration for a tip (40 hex; malloc'd). */
char *flaghist_cache_path(git_repository *repo, const struct flagspec *fs,
			  const char *tip);

/* Findings. now is the time stale ages are measured against (seconds).
 * h may be NULL (no history: dead and undefined only). Each finding:
 * {kind, severity, flag, path, line, column, message, ...}. Sorted: errors
 * first, then by kind, flag. */
json_t *flags_findings(const struct flagspec *fs, const struct flag_state *st,
		       const struct flag_history *h, int64_t now);

/* A flag's events as JSON ({kind, type, commit, date, author, subject,
 * path}), or NULL when the history never saw it. */
json_t *flags_timeline_json(const struct flag_history *h, const char *key);

/* SARIF 2.1.0 for findings. */
json_t *flags_sarif(const json_t *findings, const char *version);

/* The pre-commit check: what the index adds over HEAD. Problems, as
 * {path, line, column, severity, kind, flag, message}: a reference to a
 * flag the index does not define; a definition of a name that is retired
 * (config) or extinct in h (which may be NULL: no history). */
int flags_check_staged(git_repository *repo, const struct flagspec *fs,
		       const struct flag_history *h, int64_t now, json_t **out,
		       struct sd_err *err);

/* The pre-push check: the definitions that come back (born again, or a
 * retired name born) in one of the pushed commits (an object whose keys
 * are their ids). */
int flags_check_pushed(const struct flagspec *fs, const struct flag_history *h,
		       const json_t *pushed, json_t **out);

/* A relative URI for a path (RFC 3986 percent-encoding of its bytes). */
json_t *flags_uri(const char *path);

/* A string for JSON from bytes that may not be UTF-8: invalid bytes become
 * U+FFFD. */
json_t *flags_json_string(const char *s);

#endif
