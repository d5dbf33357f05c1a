/* Fingerprints of the targets a plan was computed against (DESIGN.md §1),
 * so that a token for the plan is refused once a target changed: a file
 * edited, a file added to a directory that would be deleted, a path that
 * was absent and now exists (Terraform's hole for plans made against
 * nothing, closed: absence is recorded as a state).
 *
 * A fingerprint is a JSON object:
 *   {"path": P, "absent": true}
 *   {"path": P, "type": "file"|"directory"|"symlink"|"special",
 *    "dev", "ino", "mode", "uid", "gid", "size", "mtime_ns", "ctime_ns",
 *    directories only, with deep: "entries": N (everything below),
 *    "digest": SHA-256 hex over every entry below, sorted by path: its
 *    relative name, type, mode, uid, gid, size, mtime_ns, ctime_ns}
 * Symlinks are never followed, and a directory swapped for a symlink in
 * the middle of the walk is not entered (openat with O_NOFOLLOW, the device
 * and inode checked on descent, as lib/rmtree does). */
#ifndef SD_FPRINT_H
#define SD_FPRINT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* The fingerprint of path (absolute, or relative to the cwd). With deep,
 * a directory gets "entries" and "digest" over its whole tree; without,
 * only its own lstat fields (enough for the parent of a created file).
 * An unreadable directory below is an error naming it (SD_EXIT_CANNOT):
 * a plan must not be bound to what could not be seen. */
json_t *fprint_path(const char *path, bool deep, struct sd_err *err);

/* Compare a recorded fingerprint with the path's state now (taken the
 * same way, deep when the recorded one is). NULL when the same; else a
 * malloc'd sentence naming what changed: "'/d/x' was absent and now
 * exists", "'/d' changed: 3 entries below it now, 2 in the plan",
 * "'/d/f' was modified". An unreadable path now is a change too. A
 * fingerprint with a "kind" (a device, a cluster object, a SQL text: what a
 * tool planner records) is not a path's: NULL, it is compared by planning
 * again. */
char *fprint_check(const json_t *recorded);

/* fprint_check over an array of fingerprints: NULL when none changed, else
 * the sentences of the first few changes joined with "; " and the number
 * of others. */
char *fprint_check_all(const json_t *recorded);

#endif
