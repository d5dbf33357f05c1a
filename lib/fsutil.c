/* File helpers; see fsutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

int fs_read_fd(int fd, const char *name, size_t max, char **data, size_t *len,
	       struct sd_err *err)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	for (;;) {
		ssize_t n;

		if (used == cap) {
			char *bigger;

			if (cap > max) {
				free(buf);
				return err_set(
					err, SD_EXIT_CANNOT,
					"'%s' is too large (more than %zu bytes)",
					name, max);
			}
			cap *= 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				free(buf);
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			}
			buf = bigger;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return err_errno(err, SD_EXIT_CANNOT,
					 "cannot read '%s'", name);
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(buf);
		return err_set(err, SD_EXIT_CANNOT,
			       "'%s' is too large (more than %zu bytes)", name,
			       max);
	}
	buf[used] = '\0';
	*data = buf;
	if (len)
		*len = used;
	return 0;
}

int fs_read_file(const char *path, size_t max, char **data, size_t *len,
		 struct sd_err *err)
{
	struct stat st;
	int fd, r;

	if (!strcmp(path, "-"))
		return fs_read_fd(STDIN_FILENO, "standard input", max, data,
				  len, err);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(err, SD_EXIT_CANNOT, "'%s' is a directory",
			       path);
	}
	r = fs_read_fd(fd, path, max, data, len, err);
	close(fd);
	return r;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* The temporary file beside path, written (and synced when sync). */
static int write_tmp(const char *path, const void *data, size_t len,
		     mode_t mode, bool sync, char *tmp, size_t n,
		     struct sd_err *err)
{
	int fd;

	if ((size_t)snprintf(tmp, n, "%s.tmp.XXXXXX", path) >= n)
		return err_set(err, SD_EXIT_CANNOT, "path too long: '%s'",
			       path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot write '%s'",
				 path);
	if (fchmod(fd, mode) < 0 || fs_write_all(fd, data, len) < 0 ||
	    (sync && fsync(fd) < 0)) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s'", path);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s'", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* fs_write_atomic in two steps (tests/faults.bats: the status page). */
int fs_write_tmp(const char *path, const void *data, size_t len, mode_t mode,
		 char *tmp, size_t n, struct sd_err *err)
{
	return write_tmp(path, data, len, mode, true, tmp, n, err);
}

int fs_commit_tmp(const char *tmp, const char *path, struct sd_err *err)
{
	if (rename(tmp, path) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s'", path);
		unlink(tmp);
		return -1;
	}
	fsync_dir_of(path);
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct sd_err *err)
{
	char tmp[PATH_MAX];

	if (fs_write_tmp(path, data, len, mode, tmp, sizeof(tmp), err) < 0)
		return -1;
	return fs_commit_tmp(tmp, path, err);
}

int fs_write_nosync(const char *path, const void *data, size_t len, mode_t mode,
		    struct sd_err *err)
{
	char tmp[PATH_MAX];

	if (write_tmp(path, data, len, mode, false, tmp, sizeof(tmp), err) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s'", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int fs_mkdirs(const char *path, mode_t mode, struct sd_err *err)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return err_set(err, SD_EXIT_CANNOT, "invalid directory '%s'",
			       path);
	/* Usually it is there already: one stat, not a mkdir per level. */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return err_errno(err, SD_EXIT_CANNOT,
					 "cannot create directory '%s'", buf);
		*p = c;
		if (!c)
			break;
	}
	if (stat(path, &st) < 0)
		return err_errno(err, SD_EXIT_CANNOT,
				 "cannot create directory '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, SD_EXIT_CANNOT, "'%s' is not a directory",
			       path);
	return 0;
}
