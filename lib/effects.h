/* What a destructive command will do: the effects of a saferun plan,
 * however they were found (a tool's own dry run, an emulation from the
 * filesystem, or a run in the copy-on-write sandbox). One list, one JSON
 * form, one summary a person can judge in one screen. */
#ifndef SD_EFFECTS_H
#define SD_EFFECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

enum effect_op {
	EFFECT_DELETE,	  /* path goes; files and bytes count what it held */
	EFFECT_CREATE,	  /* path appears; bytes it holds */
	EFFECT_MODIFY,	  /* content changes; bytes is the new size */
	EFFECT_RENAME,	  /* path moves to `to` */
	EFFECT_MODE,	  /* permission bits change: detail "0644 -> 0600" */
	EFFECT_OWNER,	  /* owner or group change: detail "0:0 -> 1000:1000" */
	EFFECT_OVERWRITE, /* an existing path is replaced (mv or cp onto it) */
	EFFECT_TRUNCATE,  /* size changes: detail "1.2 MB -> 0 B", bytes lost */
	EFFECT_DEVICE,	  /* a block device is written (dd, mkfs, wipefs) */
	EFFECT_OBJECT,	  /* a remote object changes (kubectl, helm,
			      terraform, s3, SQL): detail says how */
	EFFECT_UNCAPTURED, /* a write that the sandbox could not capture */
	EFFECT_N_OPS,
};

struct effect {
	enum effect_op op;
	char *path;	/* absolute host path, or an object name
			   ("deployment/web", "s3://bucket/key") */
	char *to;	/* the rename target, else NULL */
	char type;	/* 'f' file, 'd' directory, 'l' symlink, 's' other
			   special file, 'b' block device, 'o' object */
	uint64_t files; /* what a delete removes or a create makes: 1 for a
			   file, a directory counts itself and every entry
			   below it */
	uint64_t bytes; /* bytes a delete or truncate loses, or a create or
			   modify writes */
	char *detail; /* free text or NULL: "0644 -> 0600", "server dry run" */
};

struct effects {
	struct effect *v;
	size_t n, cap;
};

/* Append an effect (strings are copied; to and detail may be NULL).
 * -1 only when out of memory. */
int effects_add(struct effects *e, enum effect_op op, const char *path,
		const char *to, char type, uint64_t files, uint64_t bytes,
		const char *detail);
void effects_release(struct effects *e);
/* Sort by path, then operation: the order of the plan and of --full. */
void effects_sort(struct effects *e);

/* "delete", "create", "modify", "rename", "mode", "owner", "overwrite",
 * "truncate", "device", "object", "uncaptured"; effect_op_parse is the
 * reverse (-1 for an unknown name). */
const char *effect_op_name(enum effect_op op);
int effect_op_parse(const char *name);

/* The JSON array of a plan: [{op, path, to?, type, files, bytes,
 * detail?}, ...]; and back, with an error naming the entry that is wrong. */
json_t *effects_json(const struct effects *e);
int effects_from_json(struct effects *e, const json_t *arr, struct sd_err *err);

/* The one-screen summary: one line per kind of effect, grouped under the
 * deepest directory they share ("would delete 1,234 files (5.6G) under
 * /var/data"), at most max_lines lines (the rest is counted in a last
 * line; 0: no limit). With full, every effect on its own line instead.
 * Paths below base (the working directory; NULL for none) are shown
 * relative to it. Returns a malloc'd text, each line ending in a newline;
 * "no changes\n" for an empty list. */
char *effects_summary(const struct effects *e, bool full, size_t max_lines,
		      const char *base);

/* The totals a policy or a summary needs. */
struct effects_totals {
	uint64_t deleted_files, deleted_bytes;
	size_t n[EFFECT_N_OPS]; /* effects of each kind */
};
void effects_totals(const struct effects *e, struct effects_totals *t);

#endif
