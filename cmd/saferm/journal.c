/* saferm's undo journal: one append-only file,
 * $XDG_STATE_HOME/safedeploy/saferm/journal, so that trashing creates no
 * file of its own (a new inode per run was a third of a small run's time).
 *
 *   +<TAB>RUN<TAB>TRASHDIR<TAB>ENTRY   an item RUN moved to the trash
 *   -<TAB>RUN<TAB>TRASHDIR<TAB>ENTRY   that item was put back (or is gone)
 *
 * RUN is the invocation's start time and pid ("20261121T101500.123456789-
 * 4242"); the paths are percent-encoded, so a line never holds a tab or a
 * newline of its own. Each line is one write(2) to an O_APPEND descriptor,
 * written after its move: a run killed half way leaves the lines of what it
 * moved. --undo restores the live items of the run that trashed last.
 *
 * Writers hold a shared flock while appending; compaction (past
 * JOURNAL_COMPACT bytes, keeping the live items of the newest JOURNAL_KEEP
 * runs) takes the exclusive lock without waiting, rewrites the file
 * atomically, and a writer that finds the path replaced after locking
 * reopens it, so no line is written to a file that is no longer the
 * journal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"
#include "saferm.h"

#define JOURNAL_NAME	"journal"
#define JOURNAL_KEEP	100
#define JOURNAL_COMPACT (256u << 10)
#define JOURNAL_MAX	(256u << 20)

struct jline {
	char op; /* '+' or '-' */
	const char *run, *dir, *entry;
	size_t pos; /* line number: file order */
};

struct jfile {
	char *data;
	struct jline *v;
	size_t n;
};

static int journal_path(const struct saferm *s, char *buf, size_t n,
			bool dir_only)
{
	int len = snprintf(buf, n, "%s/saferm%s", s->state_dir,
			   dir_only ? "" : "/" JOURNAL_NAME);

	return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* Split data into lines; a malformed line is skipped with a warning. */
static int parse(struct jfile *j, const char *path)
{
	size_t cap = 0, lineno = 0;

	for (char *line = j->data, *next; line && *line; line = next) {
		char *f[4];
		int k = 0;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		f[0] = line;
		for (char *p = line; *p && k < 3; p++)
			if (*p == '\t') {
				*p = '\0';
				f[++k] = p + 1;
			}
		if (k != 3 || (strcmp(f[0], "+") && strcmp(f[0], "-")) ||
		    !*f[1] || !*f[2] || !*f[3] || strchr(f[3], '\t')) {
			msg_warn("%s:%zu: skipping a malformed line", path,
				 lineno);
			continue;
		}
		if (j->n == cap) {
			struct jline *v;

			cap = cap ? 2 * cap : 64;
			v = realloc(j->v, cap * sizeof(*v));
			if (!v)
				return -1;
			j->v = v;
		}
		j->v[j->n] = (struct jline){f[0][0], f[1], f[2], f[3], j->n};
		j->n++;
	}
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const struct jline *x = a, *y = b;
	int c = strcmp(x->run, y->run);

	if (!c)
		c = strcmp(x->dir, y->dir);
	if (!c)
		c = strcmp(x->entry, y->entry);
	return c;
}

/* Mark dead every '+' line that a later '-' line cancels (op becomes 0). */
static int settle(struct jfile *j)
{
	struct jline *gone = NULL;
	size_t ngone = 0;

	for (size_t i = 0; i < j->n; i++)
		ngone += j->v[i].op == '-';
	if (!ngone)
		return 0;
	gone = malloc(ngone * sizeof(*gone));
	if (!gone)
		return -1;
	ngone = 0;
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].op == '-')
			gone[ngone++] = j->v[i];
	qsort(gone, ngone, sizeof(*gone), by_key);
	for (size_t i = 0; i < j->n; i++) {
		struct jline *g;

		if (j->v[i].op != '+')
			continue;
		g = bsearch(&j->v[i], gone, ngone, sizeof(*gone), by_key);
		/* Equal keys sit together: any '-' after this '+' kills it. */
		while (g && g > gone && !by_key(g - 1, &j->v[i]))
			g--;
		for (; g && g < gone + ngone && !by_key(g, &j->v[i]); g++)
			if (g->pos > j->v[i].pos) {
				j->v[i].op = 0;
				break;
			}
	}
	free(gone);
	return 0;
}

static void jfile_release(struct jfile *j)
{
	free(j->data);
	free(j->v);
	memset(j, 0, sizeof(*j));
}

static int jfile_read(struct jfile *j, int fd, const char *path,
		      struct sd_err *err)
{
	size_t len;

	memset(j, 0, sizeof(*j));
	if (fs_read_fd(fd, path, JOURNAL_MAX, &j->data, &len, err) < 0)
		return -1;
	if (parse(j, path) < 0 || settle(j) < 0) {
		jfile_release(j);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	return 0;
}

/* Keep the live items of the newest JOURNAL_KEEP runs (runs in order of
 * their first line). Called with the exclusive lock held. */
static void compact(int fd, const char *path)
{
	struct jfile j;
	struct sd_err err = {0};
	const char **runs = NULL;
	size_t nruns = 0, out_len = 0, cap = 0;
	char *out = NULL;

	if (lseek(fd, 0, SEEK_SET) < 0 || jfile_read(&j, fd, path, &err) < 0)
		return;
	runs = malloc((j.n + 1) * sizeof(*runs));
	for (size_t i = 0; runs && i < j.n; i++)
		if (!nruns || strcmp(runs[nruns - 1], j.v[i].run))
			runs[nruns++] = j.v[i].run;
	for (size_t i = 0; runs && i < j.n; i++) {
		bool recent = false;
		size_t need;

		if (j.v[i].op != '+')
			continue;
		/* Runs interleave only when they ran at once: comparing
		 * with the JOURNAL_KEEP-th newest start is enough. */
		recent = nruns <= JOURNAL_KEEP ||
			 strcmp(j.v[i].run, runs[nruns - JOURNAL_KEEP]) >= 0;
		if (!recent)
			continue;
		need = strlen(j.v[i].run) + strlen(j.v[i].dir) +
		       strlen(j.v[i].entry) + 6;
		if (out_len + need > cap) {
			char *grown;

			cap = 2 * (out_len + need);
			grown = realloc(out, cap);
			if (!grown)
				goto done;
			out = grown;
		}
		out_len +=
			(size_t)sprintf(out + out_len, "+\t%s\t%s\t%s\n",
					j.v[i].run, j.v[i].dir, j.v[i].entry);
	}
	if (runs &&
	    fs_write_atomic(path, out ? out : "", out_len, 0600, &err) < 0)
		msg_warn("cannot compact the undo journal: %s", err.msg);
done:
	free(out);
	free(runs);
	jfile_release(&j);
}

/* A line cut short (a full disk: a short write, then ENOSPC; or SIGKILL
 * in a write across a page) has no newline, and the next line appended
 * was glued to it: the two made one malformed line, and what that next
 * line recorded was lost to --undo (tests/faults.bats). End such a line
 * before appending: it is then skipped alone, with a warning. */
static int end_torn_line(int fd)
{
	struct stat st;
	char c;

	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &c, 1, st.st_size - 1) == 1 && c != '\n')
		return fs_write_all(fd, "\n", 1);
	return 0;
}

/* Open the journal for appending, holding the shared lock, compacting it
 * first when it has grown (and nobody else is writing). */
static int journal_lock_open(const char *path)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat a, b;
		/* O_RDWR, not O_WRONLY: end_torn_line reads the last byte. */
		int fd = open(path,
			      O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
				      O_CLOEXEC,
			      0600);

		if (fd < 0)
			return -1;
		if (fstat(fd, &a) == 0 && a.st_size > JOURNAL_COMPACT &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0) {
			int rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

			if (rfd >= 0) {
				compact(rfd, path);
				close(rfd);
			}
			close(fd); /* drops the lock; the path is new now */
			continue;
		}
		if (flock(fd, LOCK_SH) == 0 && fstat(fd, &a) == 0 &&
		    stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd); /* compacted under us: the path is another file */
	}
	errno = EAGAIN;
	return -1;
}

static void run_id(char *buf, size_t n)
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(buf, n, "%04d%02d%02dT%02d%02d%02d.%09ld-%ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, now.tv_nsec, (long)getpid());
}

static int journal_open(struct saferm *s)
{
	char dir[PATH_MAX];
	struct sd_err err = {0};

	if (journal_path(s, dir, sizeof(dir), true) < 0 ||
	    fs_mkdirs(dir, 0700, &err) < 0 ||
	    journal_path(s, s->journal_path, sizeof(s->journal_path), false) <
		    0)
		return -1;
	s->journal_fd = journal_lock_open(s->journal_path);
	if (s->journal_fd < 0)
		return -1;
	if (end_torn_line(s->journal_fd) < 0) {
		journal_close(s);
		return -1;
	}
	run_id(s->run_id, sizeof(s->run_id));
	return 0;
}

static int append(int fd, char op, const char *run, const char *dir,
		  const char *entry)
{
	char line[PATH_MAX * 3 + NAME_MAX * 3 + 128];
	int len = snprintf(line, sizeof(line), "%c\t%s\t%s\t%s\n", op, run, dir,
			   entry);

	if (len < 0 || (size_t)len >= sizeof(line))
		return -1;
	return fs_write_all(fd, line, (size_t)len);
}

int journal_add(struct saferm *s, const char *trash_dir, const char *entry)
{
	char a[PATH_MAX * 3 + 1], b[NAME_MAX * 3 + 1];

	if (s->journal_fd < 0 && journal_open(s) < 0)
		return -1;
	if (trash_path_encode(a, sizeof(a), trash_dir) < 0 ||
	    trash_path_encode(b, sizeof(b), entry) < 0)
		return -1;
	return append(s->journal_fd, '+', s->run_id, a, b);
}

void journal_close(struct saferm *s)
{
	if (s->journal_fd >= 0)
		close(s->journal_fd);
	s->journal_fd = -1;
}

/* Put back one journal item; 1 when it is settled (restored, or no longer
 * in the trash), 0 when it stays for a later --undo. */
static int undo_one(struct saferm *s, const struct jline *l, int *rc)
{
	char *tdir = trash_path_decode(l->dir),
	     *name = trash_path_decode(l->entry);
	struct trash_entry e = {0};
	struct sd_err err = {0};
	char dest[PATH_MAX], qa[PATH_MAX * 2];
	int settled = 1;

	if (!tdir || !name) {
		msg_warn("skipping a malformed journal line");
	} else if (trash_entry_load(&s->trash, tdir, name, &e, &err) < 0 ||
		   e.state != TRASH_ENTRY_OK) {
		/* Purged or restored since: nothing left to undo. */
		msg_warn("'%s' is no longer in the trash%s%s", name,
			 err.msg[0] ? ": " : "", err.msg);
	} else if (trash_restore(&e, NULL, dest, sizeof(dest), &err) < 0) {
		msg_error("cannot undo: %s", err.msg);
		*rc = SD_EXIT_FAIL;
		settled = 0;
	} else {
		printf("restored %s\n", saferm_quote(dest, qa, sizeof(qa)));
		settled = 2;
	}
	trash_entry_release(&e);
	free(tdir);
	free(name);
	return settled;
}

/* Restore the live items of the run that trashed last, last moved first.
 * An item that cannot go back stays live, so that --undo retries it. */
int run_undo(struct saferm *s)
{
	char path[PATH_MAX];
	struct sd_err err = {0};
	struct jfile j = {0};
	const char *run = NULL;
	size_t restored = 0;
	int fd, rc = SD_EXIT_OK;

	if (journal_path(s, path, sizeof(path), false) < 0)
		return SD_EXIT_CANNOT;
	fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		msg_error("nothing to undo: no saferm run has trashed anything "
			  "(see --list)");
		return SD_EXIT_FAIL;
	}
	if (fd >= 0 && flock(fd, LOCK_SH) == 0) {
		struct stat a, b;

		/* Compacted between the open and the lock: the path is
		 * another file now, and '-' lines must go to that one. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    (a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
			close(fd);
			fd = open(path,
				  O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 && flock(fd, LOCK_SH) < 0) {
				close(fd);
				fd = -1;
			}
		}
	} else if (fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/* Not "cannot read": opened for reading and writing (the '-'
		 * lines), it failed on a read-only state directory with
		 * "cannot read ...: Read-only file system". */
		err_errno(&err, SD_EXIT_CANNOT, "cannot update '%s'", path);
		return msg_err(&err);
	}
	if (jfile_read(&j, fd, path, &err) < 0) {
		close(fd);
		return msg_err(&err);
	}
	if (end_torn_line(fd) < 0) /* before the '-' lines */
		msg_warn("cannot write '%s': %s", path, strerror(errno));
	for (size_t i = j.n; i-- > 0 && !run;)
		if (j.v[i].op == '+')
			run = j.v[i].run;
	if (!run) {
		msg_error("nothing to undo: every saferm run has been undone "
			  "(see --list)");
		rc = SD_EXIT_FAIL;
	} else if (!s->trash_ready && saferm_trash_init(s) != 0) {
		rc = SD_EXIT_CANNOT;
	} else {
		for (size_t i = j.n; i-- > 0;) {
			const struct jline *l = &j.v[i];
			int settled;

			if (l->op != '+' || strcmp(l->run, run))
				continue;
			settled = undo_one(s, l, &rc);
			restored += settled == 2;
			if (settled &&
			    append(fd, '-', l->run, l->dir, l->entry) < 0)
				msg_warn("cannot write '%s': %s", path,
					 strerror(errno));
		}
		if (restored == 0 && rc == SD_EXIT_OK) {
			msg_error("nothing to undo: what the last run trashed "
				  "is no longer in the trash");
			rc = SD_EXIT_FAIL;
		}
	}
	jfile_release(&j);
	close(fd);
	return rc;
}
