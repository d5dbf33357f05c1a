/* Path globs in the manner of .gitignore, for the paths of a repository
 * ("pkg/features/kube_features.go", always relative, '/' separated):
 *   - `*`, `?` and `[...]` match within one path component;
 *   - `**` as a whole component matches zero or more components
 *     (config/ ** /x.yml matches config/x.yml and config/a/b/x.yml, written
 *     without the spaces);
 *   - a pattern without a '/' (other than a trailing one) matches the last
 *     component at any depth ("*.go" matches "a/b/c.go");
 *   - a trailing '/' matches a directory and everything below it, at any
 *     depth when there is no other '/' ("vendor/" matches "x/vendor/y.go");
 *   - a leading '/' anchors at the root ("/flags.txt" is only the top one).
 * No negation. Matching is byte-wise: non-UTF-8 names are fine. */
#ifndef SD_PATHGLOB_H
#define SD_PATHGLOB_H

#include <stdbool.h>

/* Does the glob match path (a file) or, for a directory glob, one of its
 * parent directories? */
bool pathglob_match(const char *glob, const char *path);

/* Could a file below directory dir (no trailing '/') be matched by glob?
 * Conservative: false only when no path below dir can match, so that a
 * tree walk may skip the directory. */
bool pathglob_may_match_below(const char *glob, const char *dir);

/* Does the directory dir match a directory glob ("vendor/")? Used to
 * prune excluded trees. */
bool pathglob_match_dir(const char *glob, const char *dir);

/* NULL when glob is well formed, else what is wrong with it. */
const char *pathglob_check(const char *glob);

#endif
