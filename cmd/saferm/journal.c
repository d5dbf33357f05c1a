/* saferm's undo journal: one file per invocation under
 * $XDG_STATE_HOME/safedeploy/saferm/, a line per item trashed (the trash
 * directory and the entry name, percent-encoded), written after each move,
 * so that --undo can put back exactly what the last run took. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"
#include "saferm.h"

#define JOURNAL_SUFFIX ".journal"
#define JOURNAL_KEEP   100
#define JOURNAL_MAX    (64u << 20)

static int journal_dir(const struct saferm *s, char *buf, size_t n)
{
	int len = snprintf(buf, n, "%s/saferm", s->state_dir);

	return len < 0 || (size_t)len >= n ? -1 : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The journal names in dir, oldest first (names start with the time). */
static char **journal_names(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	*count = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len <= strlen(JOURNAL_SUFFIX) ||
		    strcmp(e->d_name + len - strlen(JOURNAL_SUFFIX),
			   JOURNAL_SUFFIX))
			continue;
		if (n == cap) {
			char **grown;

			cap = cap ? 2 * cap : 16;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				break;
			v = grown;
		}
		v[n] = strdup(e->d_name);
		if (v[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), by_name);
	*count = n;
	return v;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void prune(const char *dir)
{
	size_t n;
	char **v = journal_names(dir, &n);

	for (size_t i = 0; n > JOURNAL_KEEP && i < n - JOURNAL_KEEP; i++) {
		char path[PATH_MAX + NAME_MAX + 2];

		snprintf(path, sizeof(path), "%s/%s", dir, v[i]);
		unlink(path);
	}
	free_names(v, n);
}

static int journal_open(struct saferm *s)
{
	char dir[PATH_MAX];
	struct timespec now;
	struct tm tm;
	struct sd_err err = {0};
	int fd;

	if (journal_dir(s, dir, sizeof(dir)) < 0 ||
	    fs_mkdirs(dir, 0700, &err) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(s->journal_path, sizeof(s->journal_path),
		 "%s/%04d%02d%02dT%02d%02d%02d.%09ld-%ld" JOURNAL_SUFFIX, dir,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, now.tv_nsec, (long)getpid());
	fd = open(s->journal_path,
		  O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	s->journal = fdopen(fd, "a");
	if (!s->journal) {
		close(fd);
		return -1;
	}
	prune(dir);
	return 0;
}

int journal_add(struct saferm *s, const char *trash_dir, const char *entry)
{
	char a[PATH_MAX * 3 + 1], b[NAME_MAX * 3 + 1];

	if (!s->journal && journal_open(s) < 0)
		return -1;
	if (trash_path_encode(a, sizeof(a), trash_dir) < 0 ||
	    trash_path_encode(b, sizeof(b), entry) < 0)
		return -1;
	/* One line per item, flushed at once: a run killed half way still
	 * leaves a journal of what it moved. */
	if (fprintf(s->journal, "%s\t%s\n", a, b) < 0 ||
	    fflush(s->journal) != 0)
		return -1;
	return 0;
}

void journal_close(struct saferm *s)
{
	if (s->journal)
		fclose(s->journal);
	s->journal = NULL;
}

/* Restore each line of the newest journal, last moved first. Lines that
 * fail stay in the journal, so that --undo can be run again. */
int run_undo(struct saferm *s)
{
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2], *data = NULL;
	char **names, **lines = NULL;
	size_t n, len = 0, nlines = 0, kept = 0, restored = 0;
	struct sd_err err = {0};
	int fd, rc = SD_EXIT_OK;
	FILE *out = NULL;

	if (journal_dir(s, dir, sizeof(dir)) < 0)
		return SD_EXIT_CANNOT;
	names = journal_names(dir, &n);
	if (!n) {
		free_names(names, n);
		msg_error("nothing to undo: no saferm run has trashed anything "
			  "(see --list)");
		return SD_EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, names[n - 1]);
	free_names(names, n);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 ||
	    fs_read_fd(fd, path, JOURNAL_MAX, &data, &len, &err) < 0) {
		if (fd >= 0)
			close(fd);
		if (!err.msg[0])
			err_errno(&err, SD_EXIT_CANNOT, "cannot read '%s'",
				  path);
		return msg_err(&err);
	}
	if (s->trash_ready || saferm_trash_init(s) == 0) {
		for (char *line = data, *next; line && *line; line = next) {
			char **grown;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			grown = realloc(lines, (nlines + 1) * sizeof(*lines));
			if (!grown)
				break;
			lines = grown;
			lines[nlines++] = line;
		}
	} else {
		rc = SD_EXIT_CANNOT;
	}
	for (size_t i = nlines; i-- > 0;) {
		char *tab = strchr(lines[i], '\t'), *tdir, *name,
		     dest[PATH_MAX];
		struct trash_entry e = {0};
		char qa[PATH_MAX * 2];

		if (!tab) {
			msg_warn("%s: skipping a malformed line", path);
			lines[i] = NULL;
			continue;
		}
		*tab = '\0';
		tdir = trash_path_decode(lines[i]);
		name = trash_path_decode(tab + 1);
		*tab = '\t';
		if (!tdir || !name) {
			msg_warn("%s: skipping a malformed line", path);
			lines[i] = NULL;
		} else if (trash_entry_load(&s->trash, tdir, name, &e, &err) <
				   0 ||
			   e.state != TRASH_ENTRY_OK) {
			/* Purged or restored since: nothing left to undo. */
			msg_warn("'%s' is no longer in the trash%s%s", name,
				 err.msg[0] ? ": " : "", err.msg);
			lines[i] = NULL;
		} else if (trash_restore(&e, NULL, dest, sizeof(dest), &err) <
			   0) {
			msg_error("cannot undo: %s", err.msg);
			rc = SD_EXIT_FAIL;
		} else {
			printf("restored %s\n",
			       saferm_quote(dest, qa, sizeof(qa)));
			restored++;
			lines[i] = NULL;
		}
		memset(&err, 0, sizeof(err));
		trash_entry_release(&e);
		free(tdir);
		free(name);
	}
	/* What is left stays for another --undo; an empty journal goes. */
	for (size_t i = 0; i < nlines; i++)
		kept += lines[i] != NULL;
	if (!kept) {
		unlink(path);
	} else {
		char tmp[sizeof(path) + 8];

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		out = fopen(tmp, "w");
		for (size_t i = 0; out && i < nlines; i++)
			if (lines[i])
				fprintf(out, "%s\n", lines[i]);
		if (!out || fclose(out) != 0 || rename(tmp, path) < 0)
			msg_warn("cannot rewrite '%s'", path);
	}
	if (restored == 0 && rc == SD_EXIT_OK)
		msg_error("nothing to undo");
	close(fd);
	free(lines);
	free(data);
	return rc;
}
