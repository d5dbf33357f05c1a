/* Messages for cmd/: `prog: message` on stderr, with colour when allowed. */
#ifndef SD_MSG_H
#define SD_MSG_H

#include "err.h"

/* Set the program name from argv[0] (its basename). */
void msg_init(const char *argv0);
const char *msg_prog(void);

/* `prog: message` */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `prog: warning: message` */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err's message and return its exit code. */
int msg_err(const struct sd_err *err);
/* `prog: message` and `Try 'CMD --help' for more information.`; returns
 * SD_EXIT_USAGE. cmd is what the user typed, e.g. "safedeploy token". */
int msg_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
