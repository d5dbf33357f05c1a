/* Resolving a revision (HEAD, a tag, a branch) of the repository holding
 * the current directory to its full commit id, with libgit2. */
#ifndef SD_GITREV_H
#define SD_GITREV_H

#include "err.h"

/* out receives 40 hex digits. Errors (SD_EXIT_CANNOT) say whether there
 * is no repository or no such revision. */
int gitrev_resolve(const char *rev, char out[41], struct sd_err *err);

#endif
