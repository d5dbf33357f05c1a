/* File helpers with the guarantees the suite needs: bounded reads, atomic
 * writes (a reader never sees half a file), mkdir -p with a mode. */
#ifndef SD_FSUTIL_H
#define SD_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Read all of path ("-" is standard input) into a NUL-terminated malloc'd
 * buffer; a file larger than max bytes is an error. Errors are
 * SD_EXIT_CANNOT and name the file. */
int fs_read_file(const char *path, size_t max, char **data, size_t *len,
		 struct sd_err *err);
int fs_read_fd(int fd, const char *name, size_t max, char **data, size_t *len,
	       struct sd_err *err);

/* Write data to path atomically: a temporary file beside it, fsync, rename,
 * fsync of the directory. The file gets mode (umask not applied). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct sd_err *err);
/* The same in two steps, for files that change together (a status page):
 * fs_write_tmp writes and syncs the temporary file beside path, its name
 * in tmp (n bytes); fs_commit_tmp renames it over path. Each step removes
 * the temporary file when it fails; one not committed is the caller's to
 * unlink. */
int fs_write_tmp(const char *path, const void *data, size_t len, mode_t mode,
		 char *tmp, size_t n, struct sd_err *err);
int fs_commit_tmp(const char *tmp, const char *path, struct sd_err *err);
/* fs_write_atomic without the fsyncs: a reader still sees the old file or
 * the new one, but after a crash it may be either, or empty. For files
 * whose loss a crash makes harmless, written where an fsync would cost
 * more than the file is worth (it commits everything else the filesystem
 * has pending, such as a sandbox's thousands of new files). */
int fs_write_nosync(const char *path, const void *data, size_t len, mode_t mode,
		    struct sd_err *err);

/* Create path and any missing parents; created directories get mode. */
int fs_mkdirs(const char *path, mode_t mode, struct sd_err *err);

/* Write all of buf to fd, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *buf, size_t len);

#endif
