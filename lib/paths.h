/* Where the suite keeps things: XDG state and config directories, the
 * system config directory, the repository root. */
#ifndef SD_PATHS_H
#define SD_PATHS_H

#include <stddef.h>

#include "err.h"

/* $XDG_STATE_HOME/safedeploy, or ~/.local/state/safedeploy. Not created. */
int paths_state_dir(char *buf, size_t n, struct sd_err *err);

/* $XDG_CONFIG_HOME/safedeploy/config.yml, or ~/.config/safedeploy/…. */
int paths_user_config(char *buf, size_t n, struct sd_err *err);

/* $SAFEDEPLOY_SYSCONFDIR, or /etc/safedeploy. */
const char *paths_sysconfdir(void);

/* The top of the git work tree containing the current directory (the first
 * ancestor with a .git entry). -1 when there is none. */
int paths_repo_root(char *buf, size_t n);

#endif
