/* The FreeDesktop.org Trash specification 1.0: the home trash
 * ($XDG_DATA_HOME/Trash) for objects on the home trash's mount, and
 * $topdir/.Trash/$uid (only when $topdir/.Trash is a real directory with the
 * sticky bit) or $topdir/.Trash-$uid (created 0700, owned by us) on other
 * mounts. Trashing is always a rename, never a copy: O(1) whatever the size
 * of the tree. trash-cli and gio read what is written here. */
#ifndef SD_TRASH_H
#define SD_TRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "mounts.h"

#define TRASHINFO_SUFFIX   ".trashinfo"
#define TRASH_SIZE_UNKNOWN UINT64_MAX

enum trash_kind {
	TRASH_HOME,	   /* $XDG_DATA_HOME/Trash */
	TRASH_TOPDIR_UID,  /* $topdir/.Trash/$uid */
	TRASH_TOPDIR_USER, /* $topdir/.Trash-$uid */
};

/* One trash directory. The descriptors are opened O_DIRECTORY|O_NOFOLLOW
 * when the trash is first used and stay open until trash_set_release. */
struct trash {
	enum trash_kind kind;
	char *dir;    /* absolute path of the trash directory */
	char *topdir; /* the mount point it serves; NULL for the home trash */
	uint64_t mnt_id;
	dev_t dev;
	int dir_fd, files_fd, info_fd; /* files_fd, info_fd: -1 when absent */
	/* Identities of dir, files/ and info/, for trash_is_trash_dir. */
	ino_t ino, files_ino, info_ino;
	dev_t files_dev, info_dev;
};

/* The trashes of this user, found or created so far. */
struct trash_set {
	struct mount_table mounts;
	uid_t uid;
	char *home_dir; /* $XDG_DATA_HOME/Trash ($HOME/.local/share/Trash
			   when XDG_DATA_HOME is unset or empty) */
	struct trash **v;
	size_t n;
};

/* Load the mount table and work out the home trash's path (nothing is
 * created). Fails when neither XDG_DATA_HOME nor HOME is usable. */
int trash_set_init(struct trash_set *s, struct sd_err *err);
void trash_set_release(struct trash_set *s);

/* The trash an object at (parent_fd, name) goes to: the home trash when it
 * is on the home trash's mount, else its mount's topdir trash. The trash is
 * created when missing (home: mkdir -p, 0700; topdir: the spec's checks).
 * When none can be used, -1 with a message that says why, naming the mount
 * point and each trash tried, e.g. "no usable trash on the filesystem
 * mounted at '/mnt': '/mnt/.Trash' has no sticky bit; cannot create
 * '/mnt/.Trash-1000': Read-only file system". */
int trash_select(struct trash_set *s, int parent_fd, const char *name,
		 struct trash **out, struct sd_err *err);

/* Is (dev, ino) a trash directory of this user, or its files/ or info/
 * directory, among those found so far? */
bool trash_is_trash_dir(const struct trash_set *s, dev_t dev, ino_t ino);

/* Move (parent_fd, name), whose absolute path is abs_path, into t. The
 * .trashinfo is created first and whole, never over a name taken: written
 * unnamed (O_TMPFILE) and then linked, or where there is no O_TMPFILE
 * created with O_EXCL and then written (Path
 * percent-encoded: absolute in the home trash, relative to topdir in a
 * topdir trash), then renameat2(RENAME_NOREPLACE) moves the object; if the
 * move fails the info file is removed. A name taken in info/ or files/ gets
 * the next free one ("a.txt", "a.2.txt", "a.3.txt", ...). The entry name
 * chosen is written to entry. On failure *errnum holds the errno of the
 * step that failed (so that callers can word the message like rm) and
 * nothing has changed. */
int trash_put(struct trash *t, int parent_fd, const char *name,
	      const char *abs_path, time_t when, char *entry, size_t entry_len,
	      int *errnum, struct sd_err *err);

enum trash_entry_state {
	TRASH_ENTRY_OK,
	TRASH_ENTRY_NO_FILE, /* an info file without its files/ entry */
	TRASH_ENTRY_NO_INFO, /* a files/ entry without its info file */
};

struct trash_entry {
	struct trash *trash;
	char *name;	 /* the name in files/ (info/NAME.trashinfo) */
	char *path;	 /* the original absolute path; NULL when NO_INFO */
	int64_t deleted; /* DeletionDate as epoch seconds; -1 when unknown */
	enum trash_entry_state state;
	bool is_dir;
	uint64_t size; /* disk usage (du -B1); TRASH_SIZE_UNKNOWN */
};

struct trash_list {
	struct trash_entry *v;
	size_t n;
};

typedef void (*trash_warn_fn)(void *ctx, const char *msg);

/* Every entry of every trash of this user: the home trash and, on every
 * mount, $topdir/.Trash/$uid (only when .Trash passes the checks) and
 * $topdir/.Trash-$uid. A .trashinfo that is unreadable, malformed, hostile
 * (a Path with "..", a relative Path in the home trash, an absolute Path
 * outside the topdir of a topdir trash) is skipped with a warning through
 * warn, which names the file and what is wrong. With sizes, each entry's
 * size is filled, using and refreshing each trash's directorysizes cache
 * (rewritten atomically). Sorted by deletion date, oldest first. */
int trash_list_all(struct trash_set *s, bool sizes, trash_warn_fn warn,
		   void *ctx, struct trash_list *out, struct sd_err *err);
/* The single entry NAME of the trash whose directory is dir (for undo). */
int trash_entry_load(struct trash_set *s, const char *dir, const char *name,
		     struct trash_entry *e, struct sd_err *err);
void trash_entry_release(struct trash_entry *e);
void trash_list_release(struct trash_list *l);

/* Put e back where it came from, or into to_dir (keeping the original
 * base name) when to_dir is not NULL. Missing parent directories are
 * created. Never overwrites: an existing destination is an error naming it.
 * The info file is removed after the move. The destination path goes to
 * dest. */
int trash_restore(const struct trash_entry *e, const char *to_dir, char *dest,
		  size_t dest_len, struct sd_err *err);

/* Drop e's line from its trash's directorysizes (after a purge). */
int trash_forget_size(struct trash *t, const char *name, struct sd_err *err);

/* The .trashinfo format: path (not encoded yet) and when, as local time.
 * Returns the length written, or -1 when it does not fit in n bytes. */
int trashinfo_format(char *buf, size_t n, const char *path, time_t when);
/* Parse a .trashinfo: the first line must be "[Trash Info]"; the first
 * Path= and DeletionDate= win; other lines are ignored. *path is malloc'd
 * and decoded; *deleted is -1 when DeletionDate is missing or invalid. */
int trashinfo_parse(const char *text, size_t len, char **path, int64_t *deleted,
		    struct sd_err *err);
/* Percent-encoding as RFC 2396, keeping '/' literal: bytes in
 * [A-Za-z0-9-._~/] as they are, every other byte as %XX. Returns the length
 * written, or -1 when it does not fit in n bytes. */
int trash_path_encode(char *buf, size_t n, const char *path);
/* Decoding; -1 for a malformed escape or an encoded NUL. */
char *trash_path_decode(const char *text);

#endif
