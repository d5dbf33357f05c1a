/* Race-safe recursive removal and counting. Everything is relative to
 * directory descriptors (openat/fstatat/unlinkat); symlinks are never
 * followed; before descending, the directory opened is checked to be the one
 * that was examined (same device and inode), so a swap of a directory for a
 * symlink in the middle of the walk cannot lead outside the tree. Open
 * descriptors and memory stay bounded whatever the depth or width of the
 * tree. */
#ifndef SD_RMTREE_H
#define SD_RMTREE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct rmtree_count;

struct rmtree_ops {
	/* Do not descend into another filesystem or another mount (a
	 * different st_dev, or the root of a mount such as a bind mount):
	 * such entries are skipped and reported with what "different device"
	 * and errnum 0. */
	bool one_file_system;
	void *ctx;
	/* After each entry removed. path is display + "/" + the path below
	 * it. May be NULL. */
	void (*removed)(void *ctx, const char *path, bool is_dir);
	/* For each entry that could not be removed, once: errnum is the
	 * errno (0 for a skip, with what saying why). May be NULL. */
	void (*failed)(void *ctx, const char *path, int errnum,
		       const char *what);
	/* While counting, after each entry counted, with the count so far
	 * (for a progress bar). May be NULL. */
	void (*counted)(void *ctx, const struct rmtree_count *c);
};

/* Remove (dirfd, name) and, when it is a directory, everything below it.
 * display is the operand as the user typed it, for the callbacks. Entries
 * that cannot be removed are reported and the walk goes on with the rest;
 * returns 0 when everything was removed, -1 otherwise. As in GNU rm, the
 * top is shown with trailing slashes cut to one ("a/") and the entries
 * below without ("a/x"); a failure is reported at the entry that could not
 * be removed, not again as its parents' "Directory not empty"; entries
 * below the top that vanish meanwhile are not failures. */
int rmtree_remove(int dirfd, const char *name, const char *display,
		  const struct rmtree_ops *ops);

struct rmtree_count {
	uint64_t files;	 /* entries that are not directories */
	uint64_t dirs;	 /* directories, including the top one */
	uint64_t bytes;	 /* apparent size: the sum of st_size */
	uint64_t disk;	 /* disk usage: the sum of st_blocks * 512 (du -B1) */
	bool over;	 /* counting stopped past a limit: "at least" */
	bool unreadable; /* some directory could not be read: "at least" */
};

/* Count what (dirfd, name) holds, without following symlinks. Stops as soon
 * as files + dirs > max_entries or bytes > max_bytes (0: no limit), with
 * c->over set. An unreadable directory below the top sets c->unreadable and
 * the count goes on; -1 only when (dirfd, name) itself cannot be examined.
 * Like du -b / du -B1, directories and symlinks count their own sizes, and
 * a file with several links is counted once per link; with one_file_system,
 * what would be skipped is not counted. */
int rmtree_count(int dirfd, const char *name, uint64_t max_entries,
		 uint64_t max_bytes, bool one_file_system,
		 struct rmtree_count *c, struct sd_err *err);
/* The same, with ops->one_file_system and ops->counted (ops may be NULL). */
int rmtree_count_ops(int dirfd, const char *name, uint64_t max_entries,
		     uint64_t max_bytes, const struct rmtree_ops *ops,
		     struct rmtree_count *c, struct sd_err *err);

#endif
