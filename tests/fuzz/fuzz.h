/* Helpers shared by the libFuzzer targets in tests/fuzz/: turning the raw
 * input into the C strings and files the library expects. */
#ifndef SD_FUZZ_H
#define SD_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (an embedded NUL ends the string early,
 * as it would for a caller reading argv or a file with fgets). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split the input at its first newline: *head gets a malloc'd copy of the
 * first line, and the offset of what follows is returned. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **head)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;

	*head = fuzz_cstr(data, n);
	return nl ? n + 1 : size;
}

/* A private directory for targets whose entry point reads a file: made once
 * under $TMPDIR, removed (with the files named in it) at exit. */
static char fuzz_dir[4096];

static inline void fuzz_dir_remove(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(fuzz_dir);
}

/* Write data to NAME in the private directory; returns its path (static). */
static inline const char *fuzz_file(const char *name, const uint8_t *data,
				    size_t size)
{
	static char path[4200];
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sd-fuzz.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_dir_remove);
	}
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
	close(fd);
	return path;
}

#endif
