/* saferm: the state shared by its files (options, protections, operands). */
#ifndef SAFERM_H
#define SAFERM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jansson.h>

#include "config.h"
#include "err.h"
#include "rmtree.h"
#include "trash.h"

enum interactive { RMI_NEVER, RMI_SOMETIMES, RMI_ALWAYS };
enum mode { MODE_REMOVE, MODE_UNDO, MODE_LIST, MODE_RESTORE, MODE_PURGE };

struct options {
	enum mode mode;
	enum interactive interactive;
	bool force;	     /* -f: ignore missing operands */
	bool prompt_once;    /* -I */
	bool recursive;	     /* -r */
	bool dir;	     /* -d */
	bool verbose;	     /* -v */
	bool one_fs;	     /* --one-file-system */
	bool preserve_root;  /* default */
	bool preserve_all;   /* --preserve-root=all */
	bool permanent;	     /* --permanent */
	bool dry_run;	     /* -n */
	bool json;	     /* --json */
	bool presume_tty;    /* ---presume-input-tty (tests) */
	const char *confirm; /* --confirm TOKEN */
	const char *restore; /* --restore PATTERN|ID */
	const char *to;	     /* --to DIR */
	const char *older;   /* --older-than DURATION */
	const char *config;  /* --config FILE */
	int64_t older_ms;
	uint64_t max_files, max_bytes;
	int64_t ttl; /* token lifetime, seconds */
	const char *key_file;
	const char *tty; /* SAFERM_TTY: the terminal to ask on (tests) */
};

/* One protected object: its identity and the rule that protects it. */
struct guard {
	dev_t dev;
	ino_t ino;
	char *rule;    /* "direct child of /", "mount point", ... */
	char *path;    /* the protected path, for "contains '…'" */
	bool ancestor; /* this is an ancestor of path, not path itself */
};

struct protect {
	struct stat root;
	bool have_home;
	struct stat home;
	struct guard *v; /* the protected paths and their ancestors */
	size_t n, cap;
	bool ancestors_loaded;
	/* The mounts whose topdir trashes are among the guards (by index in
	 * the trash set's mount table): found when an operand is on them. */
	bool *trash_scanned;
	bool all_scanned;
};

struct saferm {
	struct options o;
	struct config cfg;
	struct protect prot;
	struct trash_set trash;
	bool trash_ready;
	char state_dir[4096];
	int argc;
	char **argv;	/* as typed, for the re-run line */
	int status;	/* the exit status so far */
	int journal_fd; /* the undo journal, open for appending, or -1 */
	char journal_path[4200];
	char run_id[64]; /* this invocation, in the journal */
};

/* protect.c */
int protect_init(struct saferm *s, struct sd_err *err);
void protect_release(struct protect *p);
/* The rule that protects (dirfd, name) with stat st, or NULL. is_mount:
 * the object is the root of a mount. buf holds the text for dynamic rules. */
const char *protect_rule(struct saferm *s, const struct stat *st,
			 const struct stat *parent, bool is_mount, char *buf,
			 size_t n);

/* Guard the topdir trash directories of the mount (dirfd, name) is on
 * (name "" is dirfd itself; follow: through a final symlink), or of the
 * mount with that ID (0: unknown, every mount); before protect_rule or
 * protect_in_trash is asked about an object on it. -1: out of memory. */
int protect_trash_of(struct saferm *s, int dirfd, const char *name,
		     bool follow);
int protect_trash_mount(struct saferm *s, uint64_t id);

/* Is the directory with stat st a trash directory (or its files/, info/)? */
bool protect_in_trash(struct saferm *s, const struct stat *st);

/* journal.c: what one invocation trashed, for --undo. */
int journal_add(struct saferm *s, const char *trash_dir, const char *entry);
void journal_close(struct saferm *s);
int run_undo(struct saferm *s);

/* trashcmd.c: --list, --restore, --purge. */
int run_list(struct saferm *s);
int run_restore(struct saferm *s);
int run_purge(struct saferm *s);
int saferm_trash_init(struct saferm *s);
void saferm_warn_cb(void *ctx, const char *msg);

/* remove.c: the operands. */
int run_remove(struct saferm *s, int argc, char **operands);

/* main.c */
/* Ask on standard input, like rm: true when the answer starts with y. */
bool saferm_yes(void);
/* A token or a typed code for plan: 0 confirmed, else the exit status
 * (after printing why). what is the summary shown. */
int saferm_confirm(struct saferm *s, json_t *plan, const char *what,
		   bool refuse_without_tty);
/* Issue a token for plan and print the re-run line (--dry-run), or with
 * out, set its "token" and "rerun". */
int saferm_print_rerun(struct saferm *s, json_t *plan, json_t *out);
/* 'name' quoted as rm quotes it (shell style when needed). */
const char *saferm_quote(const char *name, char *buf, size_t n);

#endif
