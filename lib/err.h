/* Errors from library code: lib/ never prints and never exits; it fills a
 * struct sd_err and returns -1, and cmd/ decides how to report it. */
#ifndef SD_ERR_H
#define SD_ERR_H

/* The exit-status table of the whole suite (README, the man pages). */
enum sd_exit {
	SD_EXIT_OK = 0,
	SD_EXIT_FAIL = 1,      /* a check failed, an operation was refused */
	SD_EXIT_USAGE = 2,     /* bad arguments */
	SD_EXIT_CONFIRM = 3,   /* confirmation required or token refused */
	SD_EXIT_CANNOT = 4,    /* could not check: I/O, network, bad config */
	SD_EXIT_SAFERUN = 125, /* saferun's own failures */
};

struct sd_err {
	int code;	/* an enum sd_exit value */
	char msg[1024]; /* lower case, no full stop, subject quoted */
};

/* Fill err (which may be NULL) and return -1, so that
 * `return err_set(err, SD_EXIT_CANNOT, "cannot open '%s'", path);` works. */
int err_set(struct sd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set, with ": strerror(errno)" appended. */
int err_errno(struct sd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "prefix: " in front of an existing message. */
int err_prefix(struct sd_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
