/* saferun's sandbox, after the run: what the command changed, read from
 * the upper layers of its overlays (lib/sandbox.c mounts one overlay per
 * host directory, userxattr mode as in an unprivileged user namespace:
 * redirect_dir=nofollow, no metacopy), and the commit that applies those
 * changes to the host later, refused when the host changed meanwhile.
 *
 * What the upper layer holds, and what it means:
 *   - a whiteout (a character device 0:0, or an empty file with the xattr
 *     user.overlay.whiteout) over a host path: that path is deleted; a
 *     whiteout over nothing on the host is overlay bookkeeping, skipped;
 *   - an opaque directory (user.overlay.opaque = "y") over a host path, or
 *     any entry over a host path of another type: the host path is deleted
 *     and the new entry created (`rm -r d; mkdir d`);
 *   - a directory over a host directory: a merge directory, walked; its own
 *     mode and owner are compared with the host's (chmod, chown);
 *   - anything else over nothing on the host: created;
 *   - a file, symlink or special file over one of the same type: compared.
 *
 * Effects (lib/effects.h), sorted with effects_sort:
 *   EFFECT_CREATE   a new file ('f'), directory ('d'), symlink ('l') or
 *                   special file ('s'). A created directory is one effect:
 *                   files counts it and every entry inside, bytes the sizes
 *                   of the regular files inside; its children are not
 *                   listed.
 *   EFFECT_DELETE   files counts the host path and every entry below it
 *                   (on the same filesystem: a mount below a host directory
 *                   is not visible in the overlay), bytes the sizes of the
 *                   regular files.
 *   EFFECT_MODIFY   new content: bytes the new size of a regular file; a
 *                   symlink with a new target or a special file with a new
 *                   device number (bytes 0: bytes only ever count regular
 *                   files, in every effect). A file
 *                   whose content, mode and owner are the same but whose
 *                   mtime is not (touch, a rewrite with the same bytes) is a
 *                   modify with detail OVDIFF_TIMES_ONLY: the commit sets the
 *                   times only.
 *   EFFECT_MODE     "0644 -> 0600": the permission bits of a file or a
 *                   directory (chmod copies a whole file up: with the same
 *                   content it is a mode change, not a modify; with new
 *                   content both are reported).
 *   EFFECT_OWNER    "0:0 -> 1000:1000", likewise.
 *   EFFECT_RENAME   path -> to. A deleted regular file (not empty) whose
 *                   content (same size, then SHA-256) equals a created or
 *                   rewritten file is a rename, not a delete and a create;
 *                   a deleted directory whose whole tree (names, types,
 *                   permission bits, owners, contents, symlink targets)
 *                   reappears as a created directory is one rename
 *                   (redirect_dir=nofollow makes `mv dir` copy the tree).
 *                   files and bytes count what moves. A rename over an
 *                   existing file adds EFFECT_OVERWRITE for `to` (bytes: the
 *                   size of what it replaces). A mode or owner that differs
 *                   after the move adds EFFECT_MODE / EFFECT_OWNER for `to`.
 *                   Candidates are matched in path order: deterministic.
 *
 * Not captured: extended attributes (neither compared nor copied), the
 * mode, owner and times of each layer's top directory (the runner creates
 * the upper directory), directory times, hard links (a created hard link
 * is a copy). A metacopy upper file (no data of its own) is an error.
 *
 * Targets: a JSON array of lib/fprint.h fingerprints, sorted by path, one
 * per host path an effect depends on, taken at analysis time (right after
 * the run): deep for each deleted or renamed path and each directory whose
 * mode or owner changes, shallow for each modified or chmod'ed file, and
 * {"absent"} for each path that is created (the target of a rename too).
 */
#ifndef SD_OVDIFF_H
#define SD_OVDIFF_H

#include <stddef.h>

#include <jansson.h>

#include "effects.h"
#include "err.h"

/* A host directory overlaid and the upper directory of its overlay. Both
 * should be absolute (the effects name host + "/" + the path below it);
 * trailing slashes are ignored. */
struct ovdiff_layer {
	const char *host;
	const char *upper;
};

/* The detail of a modify that changes only the times of a file. */
#define OVDIFF_TIMES_ONLY "times only"

/* Walk each upper directory, compare it with its host directory (the lower
 * layer) and append the effects to *effects (sorted); *targets is set to a
 * new JSON array of the fingerprints. On error (-1, err set, code
 * SD_EXIT_SAFERUN, or SD_EXIT_CANNOT when a host path cannot be read for a
 * fingerprint), *effects is left as it was and *targets is NULL. */
int ovdiff_analyse(const struct ovdiff_layer *layers, size_t n,
		   struct effects *effects, json_t **targets,
		   struct sd_err *err);

/* Apply what ovdiff_analyse found. First every fingerprint in targets is
 * checked again (fprint_check_all): any change is -1 with SD_EXIT_CONFIRM
 * and a message naming what changed, and nothing is applied. So is an
 * upper entry to be copied that is no longer what the plan says (another
 * type, a regular file of another size: SD_EXIT_CONFIRM too), an effect
 * that no layer covers, a path with "." or ".." in it, an effect of a kind
 * a sandbox does not produce, an upper entry that is missing, or a delete
 * or rename that would take a layer's upper directory with it
 * (SD_EXIT_SAFERUN).
 *
 * Then, so that the host ends as the sandbox saw it:
 *   1. deletes (lib/rmtree.h, race-safe, not crossing into other
 *      filesystems);
 *   2. renames, with rename(2) on the host (RENAME_NOREPLACE unless the
 *      rename overwrites), each once its target is free: a rename onto
 *      the path another one moves away waits for it, a cycle (a swap) is
 *      broken by first moving one of them to a temporary name; across
 *      filesystems, a copy of the upper entry and the removal of the old
 *      path. Mode, owner and times of `to` are then set from the upper
 *      entry;
 *   3. creates and modifies, in path order (parents first): each copied
 *      from the upper layer into a temporary entry beside the target
 *      (".saferun.XXXXXX"), with content, mode, owner (when permitted:
 *      a chown refused with EPERM or EINVAL is skipped) and times
 *      (regular files are fsync'ed), directories
 *      recursively, symlinks and special files recreated, then renamed
 *      onto the target (a create never replaces a path that appeared
 *      meanwhile); a times-only modify sets the times;
 *   4. owners, then modes (fchownat, fchmodat), deepest path first, from
 *      the upper entry.
 * An error on one path is recorded and the rest goes on; then -1
 * (SD_EXIT_SAFERUN) with a message that says how many changes failed and
 * names the first. */
int ovdiff_commit(const struct ovdiff_layer *layers, size_t n,
		  const struct effects *effects, const json_t *targets,
		  struct sd_err *err);

#endif
