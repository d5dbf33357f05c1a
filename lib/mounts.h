/* The mount table (/proc/self/mountinfo) and the mount an object lives on.
 * A rename works only within one mount, so the trash of a file is chosen by
 * mount, not by st_dev: bind mounts share st_dev, and btrfs subvolumes have
 * their own. */
#ifndef SD_MOUNTS_H
#define SD_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct mount_info {
	uint64_t id;	 /* the mount ID (as statx STATX_MNT_ID reports it) */
	uint64_t parent; /* the parent's mount ID */
	dev_t dev;	 /* major:minor */
	char *point;	 /* mount point, absolute, octal escapes decoded */
	char *root;	 /* root of the mount within its filesystem */
	char *fstype;
	char *source;
	bool read_only; /* the mount is ro */
};

struct mount_table {
	struct mount_info *v;
	size_t n;
};

/* Read path (NULL: /proc/self/mountinfo). Malformed lines are an error
 * naming the file and line. */
int mounts_load(struct mount_table *t, const char *path, struct sd_err *err);
/* Parse mountinfo text (for tests and fuzzing); name is used in messages. */
int mounts_parse(struct mount_table *t, const char *text, size_t len,
		 const char *name, struct sd_err *err);
void mounts_release(struct mount_table *t);

const struct mount_info *mounts_by_id(const struct mount_table *t, uint64_t id);

/* The mount ID of (dirfd, name), without following a final symlink (name
 * "" means dirfd itself); *is_root when it is the root of a mount (a mount
 * point). Uses statx(STATX_MNT_ID). */
int mounts_id_at(int dirfd, const char *name, uint64_t *id, bool *is_root,
		 struct sd_err *err);

#endif
