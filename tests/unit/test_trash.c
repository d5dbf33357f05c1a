/* Unit tests for lib/trash.c and lib/mounts.c: real files in a temporary
 * HOME; topdir trashes on a tmpfs in a private mount namespace (skipped
 * when namespaces are not available). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "mounts.h"
#include "rmtree.h"
#include "trash.h"
#include "unit.h"

static char tmp[256], home[300], work[300], trashdir[400];

/* snprintf for test paths: they fit; a cut one would fail a check. */
static void pfmt(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void pfmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static void put_file(const char *path, const char *text)
{
	struct sd_err err = {0};

	if (fs_write_atomic(path, text, strlen(text), 0644, &err) < 0)
		UNIT_FAIL("%s", err.msg);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *slurp(const char *path)
{
	char *data = NULL;

	if (fs_read_file(path, 1 << 20, &data, NULL, NULL) < 0)
		return NULL;
	return data;
}

static int count_dir(const char *path)
{
	char cmd[600];
	FILE *f;
	int n = -1;

	pfmt(cmd, sizeof(cmd), "ls -A '%s' | wc -l", path);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

/* Fresh HOME with no trash, and an empty work directory. */
static void fresh_home(const char *tag)
{
	char cmd[4096];

	pfmt(home, sizeof(home), "%s/home-%s", tmp, tag);
	pfmt(work, sizeof(work), "%s/work-%s", tmp, tag);
	pfmt(trashdir, sizeof(trashdir), "%s/.local/share/Trash", home);
	pfmt(cmd, sizeof(cmd), "rm -rf '%s' '%s' && mkdir -p '%s' '%s'", home,
	     work, home, work);
	if (system(cmd) != 0)
		UNIT_FAIL("cannot make %s", home);
	setenv("HOME", home, 1);
	unsetenv("XDG_DATA_HOME");
}

/* Trash work/NAME through the public API; the entry name or "" on
 * failure (err filled). */
static int put(struct trash_set *s, const char *name, char *entry, int *errnum,
	       struct sd_err *err)
{
	char abs[700];
	struct trash *t;
	int dfd = open(work, O_PATH | O_DIRECTORY | O_CLOEXEC), r = -1;

	entry[0] = '\0';
	pfmt(abs, sizeof(abs), "%s/%s", work, name);
	if (trash_select(s, dfd, name, &t, err) == 0)
		r = trash_put(t, dfd, name, abs, time(NULL), entry,
			      NAME_MAX + 1, errnum, err);
	close(dfd);
	return r;
}

static void encoding_round_trips(void)
{
	const char *cases[] = {
		"/plain/path.txt", "/with space/and\nnewline",
		"/100%/a+b=c",	   "/bad\xff\xfeutf8/\xc3\xa9t\xc3\xa9",
		"/tab\there/#?&;", "",
	};
	char buf[256], small[8], *d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		CHECK(trash_path_encode(buf, sizeof(buf), cases[i]) >= 0);
		for (char *p = buf; *p; p++)
			CHECK(*p != ' ' && *p != '\n' && *p != '+' &&
			      (unsigned char)*p < 0x80);
		d = trash_path_decode(buf);
		CHECK_STR(d, cases[i]);
		free(d);
	}
	CHECK_INT(trash_path_encode(buf, sizeof(buf), "/a b%\n"), 12);
	CHECK_STR(buf, "/a%20b%25%0A");
	CHECK_INT(trash_path_encode(small, sizeof(small), "/a b c"), -1);
	CHECK_INT(trash_path_encode(small, sizeof(small), "/abcdef"), 7);
	/* Readers take any RFC 2396 escape, lower case too, and never read
	 * '+' as a space. */
	d = trash_path_decode("/%61%2fb+c%7E");
	CHECK_STR(d, "/a/b+c~");
	free(d);
	CHECK(trash_path_decode("/a%") == NULL);
	CHECK(trash_path_decode("/a%4") == NULL);
	CHECK(trash_path_decode("/a%zz") == NULL);
	CHECK(trash_path_decode("/a%00b") == NULL);
}

static void trashinfo_format_and_parse(void)
{
	struct sd_err err = {0};
	char buf[512], want[512], date[32], *path = NULL;
	time_t when = 1700000000;
	struct tm tm;
	int64_t deleted;

	localtime_r(&when, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	pfmt(want, sizeof(want),
	     "[Trash Info]\nPath=/h/a%%20b%%0A.txt\nDeletionDate=%s\n", date);
	CHECK(trashinfo_format(buf, sizeof(buf), "/h/a b\n.txt", when) > 0);
	CHECK_STR(buf, want);
	CHECK_INT(trashinfo_format(buf, 20, "/h/a b\n.txt", when), -1);
	CHECK_INT(trashinfo_parse(want, strlen(want), &path, &deleted, &err),
		  0);
	CHECK_STR(path, "/h/a b\n.txt");
	CHECK_INT(deleted, when);
	free(path);

	/* The spec's own example has no dashes; CRLF, blank and unknown
	 * lines are fine; the first Path and DeletionDate win. */
	pfmt(buf, sizeof(buf),
	     "[Trash Info]\r\n\r\nX=y\r\nPath=/first\r\nPath=/second\r\n"
	     "DeletionDate=20040831T22:32:08\r\nDeletionDate=nonsense\r\n");
	CHECK_INT(trashinfo_parse(buf, strlen(buf), &path, &deleted, &err), 0);
	CHECK_STR(path, "/first");
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 104, tm.tm_mon = 7, tm.tm_mday = 31, tm.tm_hour = 22,
	tm.tm_min = 32, tm.tm_sec = 8, tm.tm_isdst = -1;
	CHECK_INT(deleted, mktime(&tm));
	free(path);

	/* A missing or invalid date is unknown, not an error. */
	pfmt(buf, sizeof(buf), "[Trash Info]\nPath=/x\nDeletionDate=x\n");
	CHECK_INT(trashinfo_parse(buf, strlen(buf), &path, &deleted, &err), 0);
	CHECK_INT(deleted, -1);
	free(path);

	/* Keys of another group are not the trash's. */
	pfmt(buf, sizeof(buf), "[Trash Info]\n[Other]\nPath=/x\n");
	CHECK_INT(trashinfo_parse(buf, strlen(buf), &path, &deleted, &err), -1);
	CHECK_CONTAINS(err.msg, "no Path");

	struct {
		const char *text, *msg;
	} bad[] = {
		{"", "first line is not '[Trash Info]'"},
		{"Path=/x\n[Trash Info]\n", "first line is not '[Trash Info]'"},
		{"[Trash Info] \nPath=/x\n", "first line is not"},
		{"[Trash Info]\nDeletionDate=2020-01-01T00:00:00\n", "no Path"},
		{"[Trash Info]\nPath=\n", "Path is empty"},
		{"[Trash Info]\nPath=/a%zz\n", "invalid percent escape"},
		{"[Trash Info]\nPath=/a%00/etc\n", "encoded NUL"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		path = (char *)"unset";
		CHECK_INT(trashinfo_parse(bad[i].text, strlen(bad[i].text),
					  &path, &deleted, &err),
			  -1);
		CHECK_CONTAINS(err.msg, bad[i].msg);
		CHECK(path == NULL);
	}
	CHECK_INT(trashinfo_parse("[Trash Info]\nPath=/a\0b\n", 21, &path,
				  &deleted, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "NUL byte");
}

static void mountinfo_is_parsed(void)
{
	const char *text =
		"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
		"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
		"60 27 8:17 /sub\\134dir /mnt/my\\040disk\\011x ro,nosuid "
		"shared:5 master:2 - vfat /dev/sdb\\0401 ro,fmask=0022\n"
		"\n";
	struct mount_table t = {0};
	struct sd_err err = {0};
	const struct mount_info *m;
	uint64_t id, id2;
	bool root;
	int fd;

	CHECK_INT(mounts_parse(&t, text, strlen(text), "mi", &err), 0);
	CHECK_INT(t.n, 3);
	m = mounts_by_id(&t, 60);
	CHECK(m != NULL);
	if (m) {
		CHECK_STR(m->point, "/mnt/my disk\tx");
		CHECK_STR(m->root, "/sub\\dir");
		CHECK_STR(m->source, "/dev/sdb 1");
		CHECK_STR(m->fstype, "vfat");
		CHECK(m->read_only);
		CHECK_INT(m->parent, 27);
		CHECK_INT(major(m->dev), 8);
		CHECK_INT(minor(m->dev), 17);
	}
	CHECK(!mounts_by_id(&t, 27)->read_only);
	CHECK(mounts_by_id(&t, 99) == NULL);
	mounts_release(&t);

	CHECK_INT(mounts_parse(&t, "1 2 3:4 / /\n", 12, "mi", &err), -1);
	CHECK_STR(err.msg, "'mi' line 1: too few fields");
	CHECK_INT(mounts_parse(&t, "\n1 2 0:1 / / rw - x\n", 20, "mi", &err),
		  -1);
	CHECK_STR(err.msg, "'mi' line 2: too few fields after ' - '");
	CHECK_INT(mounts_parse(&t, "a 2 3:4 / / rw - x y z\n", 23, "mi", &err),
		  -1);
	CHECK_CONTAINS(err.msg, "invalid mount ID");
	CHECK_INT(mounts_parse(&t, "1 2 34 / / rw - x y z\n", 22, "mi", &err),
		  -1);
	CHECK_CONTAINS(err.msg, "invalid device number");

	/* The real table and statx agree on '/'. */
	CHECK_INT(mounts_load(&t, NULL, &err), 0);
	CHECK_INT(mounts_id_at(AT_FDCWD, "/", &id, &root, &err), 0);
	CHECK(root);
	m = mounts_by_id(&t, id);
	CHECK(m && !strcmp(m->point, "/"));
	fd = open(tmp, O_PATH | O_DIRECTORY);
	CHECK_INT(mounts_id_at(fd, "", &id2, &root, &err), 0);
	CHECK(mounts_by_id(&t, id2) != NULL);
	CHECK_INT(mounts_id_at(fd, "nonexistent", &id2, &root, &err), -1);
	CHECK_CONTAINS(err.msg, "No such file");
	close(fd);
	mounts_release(&t);
	CHECK_INT(mounts_load(&t, "/nonexistent/mountinfo", &err), -1);
	CHECK_CONTAINS(err.msg, "cannot open '/nonexistent/mountinfo'");
}

static void home_trash_location(void)
{
	struct trash_set s;
	struct sd_err err = {0};
	char want[400];

	fresh_home("loc");
	setenv("XDG_DATA_HOME", "", 1);
	CHECK_INT(trash_set_init(&s, &err), 0);
	CHECK_STR(s.home_dir, trashdir);
	trash_set_release(&s);
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	CHECK_INT(trash_set_init(&s, &err), 0);
	CHECK_STR(s.home_dir, trashdir);
	trash_set_release(&s);
	pfmt(want, sizeof(want), "%s/xdg//", home);
	setenv("XDG_DATA_HOME", want, 1);
	pfmt(want, sizeof(want), "%s/xdg/Trash", home);
	CHECK_INT(trash_set_init(&s, &err), 0);
	CHECK_STR(s.home_dir, want);
	/* Nothing is created before something is trashed. */
	CHECK(!exists(want));
	trash_set_release(&s);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "", 1);
	CHECK_INT(trash_set_init(&s, &err), -1);
	CHECK_CONTAINS(err.msg, "cannot find the home trash");
	setenv("HOME", home, 1);
}

static void put_writes_info_first_and_picks_free_names(void)
{
	const char *names[] = {"a.txt",	      "a.txt",	 "a.txt",
			       ".bashrc",     ".bashrc", "arch.tar.gz",
			       "arch.tar.gz", "noext",	 "noext"};
	const char *want[] = {"a.txt",	       "a.2.txt",   "a.3.txt",
			      ".bashrc",       ".bashrc.2", "arch.tar.gz",
			      "arch.2.tar.gz", "noext",	    "noext.2"};
	struct trash_set s;
	struct sd_err err = {0};
	char path[4096], entry[NAME_MAX + 1], *text, expect[4096], enc[900];
	struct stat st;
	int errnum;

	fresh_home("put");
	CHECK_INT(trash_set_init(&s, &err), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		pfmt(path, sizeof(path), "%s/%s", work, names[i]);
		put_file(path, "data\n");
		CHECK_INT(put(&s, names[i], entry, &errnum, &err), 0);
		CHECK_STR(entry, want[i]);
		CHECK(!exists(path));
		pfmt(path, sizeof(path), "%s/files/%s", trashdir, want[i]);
		CHECK(exists(path));
	}
	/* The layout and modes of the spec; the info file is complete. */
	CHECK_INT(stat(trashdir, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0700);
	pfmt(path, sizeof(path), "%s/info/a.2.txt.trashinfo", trashdir);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	text = slurp(path);
	pfmt(path, sizeof(path), "%s/a.txt", work);
	trash_path_encode(enc, sizeof(enc), path);
	pfmt(expect, sizeof(expect),
	     "[Trash Info]\nPath=%s\nDeletionDate=", enc);
	CHECK(text && !strncmp(text, expect, strlen(expect)));
	CHECK(text && strlen(text) == strlen(expect) + 20);
	free(text);

	/* A stale orphan holding files/b.txt: the next name is used and no
	 * info file is left for the name that was taken. */
	pfmt(path, sizeof(path), "%s/files/b.txt", trashdir);
	put_file(path, "orphan\n");
	pfmt(path, sizeof(path), "%s/b.txt", work);
	put_file(path, "mine\n");
	CHECK_INT(put(&s, "b.txt", entry, &errnum, &err), 0);
	CHECK_STR(entry, "b.2.txt");
	pfmt(path, sizeof(path), "%s/info/b.txt.trashinfo", trashdir);
	CHECK(!exists(path));
	pfmt(path, sizeof(path), "%s/files/b.txt", trashdir);
	text = slurp(path);
	CHECK_STR(text, "orphan\n");
	free(text);

	/* A name too long for NAME.trashinfo is cut, keeping UTF-8 whole. */
	{
		char longname[NAME_MAX + 1];
		size_t n = 0;

		while (n + 2 <= 250) {
			longname[n++] = '\xc3';
			longname[n++] = '\xa9';
		}
		memcpy(longname + n, ".txt", 5);
		pfmt(path, sizeof(path), "%s/%s", work, longname);
		close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
		CHECK_INT(put(&s, longname, entry, &errnum, &err), 0);
		CHECK(strlen(entry) + strlen(TRASHINFO_SUFFIX) <= NAME_MAX);
		CHECK(strlen(entry) > 200);
		CHECK((unsigned char)entry[strlen(entry) - 5] == 0xa9);
		CHECK_STR(entry + strlen(entry) - 4, ".txt");
	}

	/* A missing object: rm's errno, nothing created. */
	{
		int dfd = open(work, O_PATH | O_DIRECTORY);

		CHECK_INT(trash_put(s.v[0], dfd, "missing", "/x/missing",
				    time(NULL), entry, sizeof(entry), &errnum,
				    &err),
			  -1);
		CHECK_INT(errnum, ENOENT);
		close(dfd);
	}
	pfmt(path, sizeof(path), "%s/info/missing.trashinfo", trashdir);
	CHECK(!exists(path));

	/* The trash directories are known as such. */
	CHECK_INT(stat(trashdir, &st), 0);
	CHECK(trash_is_trash_dir(&s, st.st_dev, st.st_ino));
	pfmt(path, sizeof(path), "%s/files", trashdir);
	CHECK_INT(stat(path, &st), 0);
	CHECK(trash_is_trash_dir(&s, st.st_dev, st.st_ino));
	CHECK_INT(stat(work, &st), 0);
	CHECK(!trash_is_trash_dir(&s, st.st_dev, st.st_ino));
	trash_set_release(&s);
}

static void failed_put_changes_nothing(void)
{
	struct trash_set s;
	struct sd_err err = {0};
	char path[4096], entry[NAME_MAX + 1];
	struct trash *t;
	int errnum = 0, hfd;

	fresh_home("fail");
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/first", work);
	put_file(path, "x");
	CHECK_INT(put(&s, "first", entry, &errnum, &err), 0);
	/* Moving a directory into its own subdirectory (HOME holds the
	 * trash) fails after the info file was written: it must go, and
	 * so must the placeholder of the no-RENAME_NOREPLACE path. */
	hfd = open(home, O_PATH | O_DIRECTORY);
	pfmt(path, sizeof(path), "%s/.local", home);
	CHECK_INT(trash_select(&s, hfd, ".local", &t, &err), 0);
	CHECK_INT(trash_put(t, hfd, ".local", path, time(NULL), entry,
			    sizeof(entry), &errnum, &err),
		  -1);
	CHECK_INT(errnum, EINVAL);
	CHECK_CONTAINS(err.msg, "cannot move");
	CHECK(exists(path));
	pfmt(path, sizeof(path), "%s/info", trashdir);
	CHECK_INT(count_dir(path), 1);
	pfmt(path, sizeof(path), "%s/files", trashdir);
	CHECK_INT(count_dir(path), 1);
	close(hfd);
	trash_set_release(&s);

	/* files/ replaced by a regular file: the trash cannot be used, and
	 * the object stays where it is. */
	pfmt(path, sizeof(path), "%s/files", trashdir);
	{
		char cmd[4096];

		pfmt(cmd, sizeof(cmd), "rm -rf '%s' && echo > '%s'", path,
		     path);
		CHECK_INT(system(cmd), 0);
	}
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/second", work);
	put_file(path, "x");
	CHECK_INT(put(&s, "second", entry, &errnum, &err), -1);
	CHECK_CONTAINS(err.msg, "/files': Not a directory");
	CHECK(exists(path));
	pfmt(path, sizeof(path), "%s/info", trashdir);
	CHECK_INT(count_dir(path), 1);
	trash_set_release(&s);

	/* The home trash as a symlink is never used. */
	fresh_home("fail2");
	{
		char target[700];

		pfmt(target, sizeof(target), "%s/elsewhere", home);
		CHECK_INT(mkdir(target, 0700), 0);
		pfmt(path, sizeof(path), "%s/.local/share", home);
		CHECK_INT(fs_mkdirs(path, 0700, &err), 0);
		CHECK_INT(symlink(target, trashdir), 0);
	}
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/third", work);
	put_file(path, "x");
	CHECK_INT(put(&s, "third", entry, &errnum, &err), -1);
	CHECK_CONTAINS(err.msg, "is a symbolic link");
	CHECK(exists(path));
	trash_set_release(&s);
}

struct warnings {
	char text[8192];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	size_t n = strlen(w->text);

	pfmt(w->text + n, sizeof(w->text) - n, "%s\n", msg);
	w->n++;
}

static const struct trash_entry *find_entry(const struct trash_list *l,
					    const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static void put_info(const char *name, const char *text)
{
	char path[4096];

	pfmt(path, sizeof(path), "%s/info/%s", trashdir, name);
	put_file(path, text);
}

static void listing_skips_hostile_info_and_shows_orphans(void)
{
	struct trash_set s;
	struct sd_err err = {0};
	struct trash_list l = {0};
	struct warnings w = {0};
	char path[4096], entry[NAME_MAX + 1], big[70000];
	const struct trash_entry *e;
	int errnum;

	fresh_home("list");
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/good", work);
	put_file(path, "x");
	CHECK_INT(put(&s, "good", entry, &errnum, &err), 0);
	put_info("old.trashinfo", "[Trash Info]\nPath=/old\n"
				  "DeletionDate=2001-01-01T00:00:00\n");
	put_info("older.trashinfo", "[Trash Info]\nPath=/older%20one\n"
				    "DeletionDate=2000-01-01T00:00:00\n");
	put_info("nohead.trashinfo", "Path=/x\n");
	put_info("dotdot.trashinfo", "[Trash Info]\nPath=/a/../etc/passwd\n");
	put_info("relative.trashinfo", "[Trash Info]\nPath=etc/passwd\n");
	put_info("escape.trashinfo", "[Trash Info]\nPath=/a%g1\n");
	put_info("nul.trashinfo", "[Trash Info]\nPath=/a%00b\n");
	put_info("nopath.trashinfo", "[Trash Info]\nDeletionDate=x\n");
	put_info("README", "not an info file\n");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "[Trash Info]\nPath=/", 19);
	put_info("big.trashinfo", big);
	pfmt(path, sizeof(path), "%s/info/link.trashinfo", trashdir);
	CHECK_INT(symlink("old.trashinfo", path), 0);
	pfmt(path, sizeof(path), "%s/info/fifo.trashinfo", trashdir);
	CHECK_INT(mkfifo(path, 0600), 0);
	/* Behind a bad info file, the files/ entry shows as an orphan: it
	 * stays visible and can be purged, never restored. */
	pfmt(path, sizeof(path), "%s/files/dotdot", trashdir);
	put_file(path, "x");
	pfmt(path, sizeof(path), "%s/files/old", trashdir);
	put_file(path, "x");
	pfmt(path, sizeof(path), "%s/files/lost", trashdir);
	put_file(path, "x");

	CHECK_INT(trash_list_all(&s, false, collect, &w, &l, &err), 0);
	CHECK_INT(l.n, 5);
	CHECK_INT(w.n, 9);
	CHECK_CONTAINS(w.text, "info/nohead.trashinfo': its first line is "
			       "not '[Trash Info]'");
	CHECK_CONTAINS(w.text, "info/dotdot.trashinfo': its Path has a '..' "
			       "component");
	CHECK_CONTAINS(w.text, "info/relative.trashinfo': its Path is "
			       "relative in the home trash");
	CHECK_CONTAINS(w.text, "info/escape.trashinfo': its Path has an "
			       "invalid percent escape");
	CHECK_CONTAINS(w.text, "info/nul.trashinfo': its Path has an invalid "
			       "percent escape or an encoded NUL");
	CHECK_CONTAINS(w.text, "info/nopath.trashinfo': it has no Path");
	CHECK_CONTAINS(w.text, "info/big.trashinfo': it is larger than 64 KiB");
	CHECK_CONTAINS(w.text, "info/link.trashinfo': it is a symbolic link");
	CHECK_CONTAINS(w.text, "info/fifo.trashinfo': it is not a regular "
			       "file");
	CHECK_CONTAINS(w.text, "skipping '");
	CHECK(!strstr(w.text, "README"));
	/* Oldest first; the unknown orphan dates sort before all. */
	if (l.n == 5) {
		CHECK_STR(l.v[0].name, "dotdot");
		CHECK_STR(l.v[1].name, "lost");
		CHECK_STR(l.v[2].name, "older");
		CHECK_STR(l.v[3].name, "old");
		CHECK_STR(l.v[4].name, "good");
	}
	e = find_entry(&l, "dotdot");
	CHECK(e && e->state == TRASH_ENTRY_NO_INFO && !e->path);
	e = find_entry(&l, "lost");
	CHECK(e && e->state == TRASH_ENTRY_NO_INFO && !e->path &&
	      e->deleted == -1);
	e = find_entry(&l, "older");
	CHECK(e && e->state == TRASH_ENTRY_NO_FILE);
	CHECK_STR(e ? e->path : NULL, "/older one");
	e = find_entry(&l, "old");
	CHECK(e && e->state == TRASH_ENTRY_OK && !e->is_dir);
	CHECK(e && e->size == TRASH_SIZE_UNKNOWN);
	e = find_entry(&l, "good");
	CHECK(e && e->state == TRASH_ENTRY_OK);
	CHECK(e && e->trash && !strcmp(e->trash->dir, trashdir));
	CHECK(e && e->deleted > time(NULL) - 60);
	trash_list_release(&l);

	/* A hostile entry cannot be loaded for undo nor restored. */
	CHECK_INT(trash_entry_load(&s, trashdir, "dotdot",
				   &(struct trash_entry){0}, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "'..' component");
	trash_set_release(&s);
}

/* du -B1 of path, by du itself. */
static long long du(const char *path)
{
	char cmd[4096];
	long long n = -1;
	FILE *f;

	pfmt(cmd, sizeof(cmd), "du -s -B1 '%s'", path);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%lld", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void directorysizes_cache(void)
{
	struct trash_set s;
	struct sd_err err = {0};
	struct trash_list l = {0};
	char path[4096], sizes[4096], entry[NAME_MAX + 1], line[4096], *text;
	const struct trash_entry *e;
	struct stat st;
	struct timespec ts[2] = {{0}, {0}};
	int errnum;

	fresh_home("sizes");
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/big dir%%", work);
	CHECK_INT(mkdir(path, 0755), 0);
	pfmt(path, sizeof(path), "%s/big dir%%/f", work);
	{
		char data[20000];

		memset(data, 'x', sizeof(data) - 1);
		data[sizeof(data) - 1] = '\0';
		put_file(path, data);
	}
	pfmt(path, sizeof(path), "%s/small", work);
	put_file(path, "x");
	CHECK_INT(put(&s, "big dir%", entry, &errnum, &err), 0);
	CHECK_INT(put(&s, "small", entry, &errnum, &err), 0);
	/* Trashing does not touch the cache. */
	pfmt(sizes, sizeof(sizes), "%s/directorysizes", trashdir);
	CHECK(!exists(sizes));

	CHECK_INT(trash_list_all(&s, true, NULL, NULL, &l, &err), 0);
	pfmt(path, sizeof(path), "%s/files/big dir%%", trashdir);
	e = find_entry(&l, "big dir%");
	CHECK(e && e->is_dir && (long long)e->size == du(path));
	e = find_entry(&l, "small");
	pfmt(path, sizeof(path), "%s/files/small", trashdir);
	CHECK(e && (long long)e->size == du(path));
	trash_list_release(&l);
	/* One line per directory: size, the .trashinfo's mtime, the name
	 * encoded. */
	pfmt(path, sizeof(path), "%s/info/big dir%%.trashinfo", trashdir);
	CHECK_INT(stat(path, &st), 0);
	pfmt(path, sizeof(path), "%s/files/big dir%%", trashdir);
	pfmt(line, sizeof(line), "%lld %lld big%%20dir%%25\n", du(path),
	     (long long)st.st_mtime);
	text = slurp(sizes);
	CHECK_STR(text, line);
	free(text);

	/* The cache is used while the .trashinfo's mtime matches; readers
	 * take any escape; malformed lines and gone entries are dropped. */
	pfmt(line, sizeof(line),
	     "12345 %lld big%%20dir%%25\ngarbage\n"
	     "7 1 gone\n99 1 a%%2Fb\n",
	     (long long)st.st_mtime);
	put_file(sizes, line);
	CHECK_INT(trash_list_all(&s, true, NULL, NULL, &l, &err), 0);
	e = find_entry(&l, "big dir%");
	CHECK(e && e->size == 12345);
	trash_list_release(&l);
	text = slurp(sizes);
	pfmt(line, sizeof(line), "12345 %lld big%%20dir%%25\n",
	     (long long)st.st_mtime);
	CHECK_STR(text, line);
	free(text);
	/* Another mtime: counted again. */
	ts[0].tv_sec = ts[1].tv_sec = st.st_mtime - 100;
	pfmt(path, sizeof(path), "%s/info/big dir%%.trashinfo", trashdir);
	CHECK_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
	CHECK_INT(trash_list_all(&s, true, NULL, NULL, &l, &err), 0);
	e = find_entry(&l, "big dir%");
	pfmt(path, sizeof(path), "%s/files/big dir%%", trashdir);
	CHECK(e && (long long)e->size == du(path));
	trash_list_release(&l);
	text = slurp(sizes);
	pfmt(line, sizeof(line), "%lld %lld big%%20dir%%25\n", du(path),
	     (long long)st.st_mtime - 100);
	CHECK_STR(text, line);
	free(text);
	/* After a purge, the line goes; no temporary file is left. */
	CHECK_INT(trash_forget_size(s.v[0], "big dir%", &err), 0);
	text = slurp(sizes);
	CHECK_STR(text, "");
	free(text);
	CHECK_INT(count_dir(trashdir), 3);
	trash_set_release(&s);
}

static void restore_never_overwrites(void)
{
	struct trash_set s;
	struct sd_err err = {0};
	struct trash_list l = {0};
	struct trash_entry e = {0};
	char path[4096], entry[NAME_MAX + 1], dest[PATH_MAX], *text, cmd[4096];
	struct stat st;
	mode_t old_umask;
	int errnum;

	fresh_home("restore");
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/sub/deeper", work);
	CHECK_INT(fs_mkdirs(path, 0755, &err), 0);
	pfmt(path, sizeof(path), "%s/sub/deeper/f.txt", work);
	put_file(path, "old\n");
	{
		int dfd;
		char dir[700];
		struct trash *t;

		pfmt(dir, sizeof(dir), "%s/sub/deeper", work);
		dfd = open(dir, O_PATH | O_DIRECTORY);
		CHECK_INT(trash_select(&s, dfd, "f.txt", &t, &err), 0);
		CHECK_INT(trash_put(t, dfd, "f.txt", path, time(NULL), entry,
				    sizeof(entry), &errnum, &err),
			  0);
		close(dfd);
	}
	/* Something new took the place: restore refuses, both stay. */
	put_file(path, "new\n");
	CHECK_INT(trash_entry_load(&s, trashdir, "f.txt", &e, &err), 0);
	CHECK_INT(e.state, TRASH_ENTRY_OK);
	CHECK_STR(e.path, path);
	CHECK_INT(trash_restore(&e, NULL, dest, sizeof(dest), &err), -1);
	CHECK_CONTAINS(err.msg, "already exists");
	CHECK_CONTAINS(err.msg, path);
	text = slurp(path);
	CHECK_STR(text, "new\n");
	free(text);
	pfmt(path, sizeof(path), "%s/files/f.txt", trashdir);
	CHECK(exists(path));
	pfmt(path, sizeof(path), "%s/info/f.txt.trashinfo", trashdir);
	CHECK(exists(path));

	/* Its parents gone: they are made again (0777 & ~umask). */
	pfmt(cmd, sizeof(cmd), "rm -rf '%s/sub'", work);
	CHECK_INT(system(cmd), 0);
	old_umask = umask(022);
	CHECK_INT(trash_restore(&e, NULL, dest, sizeof(dest), &err), 0);
	umask(old_umask);
	pfmt(path, sizeof(path), "%s/sub/deeper/f.txt", work);
	CHECK_STR(dest, path);
	text = slurp(path);
	CHECK_STR(text, "old\n");
	free(text);
	pfmt(path, sizeof(path), "%s/sub", work);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0755);
	pfmt(path, sizeof(path), "%s/info/f.txt.trashinfo", trashdir);
	CHECK(!exists(path));
	trash_entry_release(&e);
	/* Gone from the trash now: nothing to load. */
	CHECK_INT(trash_entry_load(&s, trashdir, "f.txt", &e, &err), -1);
	CHECK_CONTAINS(err.msg, "is not in the trash");

	/* Restoring a directory elsewhere (to_dir), by the listing. */
	pfmt(path, sizeof(path), "%s/d", work);
	CHECK_INT(mkdir(path, 0700), 0);
	pfmt(path, sizeof(path), "%s/d/inside", work);
	put_file(path, "in\n");
	CHECK_INT(put(&s, "d", entry, &errnum, &err), 0);
	CHECK_INT(trash_list_all(&s, false, NULL, NULL, &l, &err), 0);
	CHECK_INT(l.n, 1);
	if (l.n == 1) {
		pfmt(path, sizeof(path), "%s/elsewhere/x", work);
		CHECK_INT(
			trash_restore(&l.v[0], path, dest, sizeof(dest), &err),
			0);
		pfmt(path, sizeof(path), "%s/elsewhere/x/d/inside", work);
		CHECK(exists(path));
	}
	trash_list_release(&l);

	/* Orphans cannot be restored; hostile entries made up by a caller
	 * neither; undo checks the trash is one of ours. */
	pfmt(path, sizeof(path), "%s/files/orphan", trashdir);
	put_file(path, "x");
	CHECK_INT(trash_entry_load(&s, trashdir, "orphan", &e, &err), 0);
	CHECK_INT(e.state, TRASH_ENTRY_NO_INFO);
	CHECK_INT(trash_restore(&e, NULL, dest, sizeof(dest), &err), -1);
	CHECK_CONTAINS(err.msg, "has no .trashinfo");
	e.state = TRASH_ENTRY_OK;
	e.path = strdup("/tmp/../etc/x");
	CHECK_INT(trash_restore(&e, NULL, dest, sizeof(dest), &err), -1);
	CHECK_CONTAINS(err.msg, "refusing to restore");
	CHECK(exists(path));
	trash_entry_release(&e);
	CHECK_INT(trash_entry_load(&s, work, "orphan", &e, &err), -1);
	CHECK_CONTAINS(err.msg, "is not one of your trash directories");
	CHECK_INT(trash_entry_load(&s, trashdir, "../x", &e, &err), -1);
	CHECK_CONTAINS(err.msg, "invalid trash entry name");
	trash_set_release(&s);
}

/* --- Topdir trashes, on a tmpfs in a private mount namespace ------------- */

static char mnt[400];

static int ns_put(struct trash_set *s, const char *dir, const char *name,
		  struct trash **t, char *entry, struct sd_err *err)
{
	char abs[800];
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), errnum, r;

	pfmt(abs, sizeof(abs), "%s/%s", dir, name);
	r = trash_select(s, dfd, name, t, err);
	if (r == 0)
		r = trash_put(*t, dfd, name, abs, time(NULL), entry,
			      NAME_MAX + 1, &errnum, err);
	close(dfd);
	return r;
}

static void topdir_checks(void)
{
	struct trash_set s;
	struct sd_err err = {0};
	struct trash_list l = {0};
	struct warnings w = {0};
	struct trash *t = NULL;
	char path[4096], entry[NAME_MAX + 1], dest[PATH_MAX], *text, want[4096];
	char bind[4096], cmd[4096];
	int uid = (int)getuid();

	CHECK_INT(trash_set_init(&s, &err), 0);
	/* No .Trash: .Trash-$uid, 0700, Path relative to the topdir. */
	pfmt(path, sizeof(path), "%s/a b", mnt);
	put_file(path, "x");
	CHECK_INT(ns_put(&s, mnt, "a b", &t, entry, &err), 0);
	pfmt(want, sizeof(want), "%s/.Trash-%d", mnt, uid);
	CHECK(t && t->kind == TRASH_TOPDIR_USER);
	CHECK_STR(t ? t->dir : NULL, want);
	CHECK_STR(t ? t->topdir : NULL, mnt);
	pfmt(path, sizeof(path), "%s/info/a b.trashinfo", want);
	text = slurp(path);
	CHECK(text && !strncmp(text, "[Trash Info]\nPath=a%20b\n", 24));
	free(text);
	trash_set_release(&s);

	/* .Trash without the sticky bit: not used, and said so when the
	 * fallback fails too; with it, .Trash/$uid is made and used. */
	pfmt(path, sizeof(path), "%s/.Trash", mnt);
	CHECK_INT(mkdir(path, 0777), 0);
	CHECK_INT(chmod(path, 0777), 0);
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/b", mnt);
	put_file(path, "x");
	CHECK_INT(ns_put(&s, mnt, "b", &t, entry, &err), 0);
	CHECK(t && t->kind == TRASH_TOPDIR_USER);
	trash_set_release(&s);
	pfmt(path, sizeof(path), "%s/.Trash", mnt);
	CHECK_INT(chmod(path, 01777), 0);
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/c", mnt);
	put_file(path, "x");
	CHECK_INT(ns_put(&s, mnt, "c", &t, entry, &err), 0);
	pfmt(want, sizeof(want), "%s/.Trash/%d", mnt, uid);
	CHECK(t && t->kind == TRASH_TOPDIR_UID);
	CHECK_STR(t ? t->dir : NULL, want);
	/* A hostile absolute Path outside the topdir is skipped. */
	pfmt(path, sizeof(path), "%s/info/evil.trashinfo", want);
	put_file(path, "[Trash Info]\nPath=/etc/passwd\n");
	pfmt(path, sizeof(path), "%s/info/abs.trashinfo", want);
	pfmt(cmd, sizeof(cmd), "[Trash Info]\nPath=%s/abs\n", mnt);
	put_file(path, cmd);
	pfmt(path, sizeof(path), "%s/files/abs", want);
	put_file(path, "x");

	/* Listing: both trashes of the mount, each once although the
	 * tmpfs is also bind-mounted elsewhere. */
	pfmt(bind, sizeof(bind), "%s-bind", mnt);
	CHECK_INT(mkdir(bind, 0700), 0);
	CHECK_INT(mount(mnt, bind, "none", MS_BIND, NULL), 0);
	trash_set_release(&s);
	CHECK_INT(trash_set_init(&s, &err), 0);
	CHECK_INT(trash_list_all(&s, true, collect, &w, &l, &err), 0);
	CHECK_CONTAINS(w.text, "info/evil.trashinfo': its Path is outside");
	{
		int seen_ab = 0, seen_c = 0, seen_abs = 0;

		for (size_t i = 0; i < l.n; i++) {
			seen_ab += !strcmp(l.v[i].name, "a b");
			seen_c += !strcmp(l.v[i].name, "c");
			if (!strcmp(l.v[i].name, "abs")) {
				seen_abs++;
				pfmt(want, sizeof(want), "%s/abs", mnt);
				CHECK_STR(l.v[i].path, want);
			}
			if (!strcmp(l.v[i].name, "a b")) {
				pfmt(want, sizeof(want), "%s/a b", mnt);
				CHECK_STR(l.v[i].path, want);
			}
		}
		CHECK_INT(seen_ab, 1);
		CHECK_INT(seen_c, 1);
		CHECK_INT(seen_abs, 1);
	}
	trash_list_release(&l);
	/* Undo finds a topdir trash by its directory. */
	pfmt(want, sizeof(want), "%s/.Trash-%d", mnt, uid);
	{
		struct trash_entry e = {0};

		if (trash_entry_load(&s, want, "a b", &e, &err) < 0) {
			UNIT_FAIL("%s", err.msg);
			trash_set_release(&s);
			return;
		}
		CHECK_INT(e.state, TRASH_ENTRY_OK);
		CHECK_INT(trash_restore(&e, NULL, dest, sizeof(dest), &err), 0);
		pfmt(path, sizeof(path), "%s/a b", mnt);
		CHECK_STR(dest, path);
		CHECK(exists(path));
		trash_entry_release(&e);
		/* Into another filesystem: refused before anything is
		 * made. */
		if (trash_entry_load(&s, want, "b", &e, &err) < 0) {
			UNIT_FAIL("%s", err.msg);
			trash_set_release(&s);
			return;
		}
		pfmt(path, sizeof(path), "%s/newdir", tmp);
		CHECK_INT(trash_restore(&e, path, dest, sizeof(dest), &err),
			  -1);
		CHECK_CONTAINS(err.msg, "it is on another filesystem");
		CHECK(!exists(path));
		/* Through the bind mount: the same trash, reopened there. */
		CHECK_INT(trash_restore(&e, bind, dest, sizeof(dest), &err), 0);
		pfmt(path, sizeof(path), "%s/b", bind);
		CHECK_STR(dest, path);
		CHECK(exists(path));
		trash_entry_release(&e);
	}
	umount(bind);
	trash_set_release(&s);

	/* An object on this tmpfs trashed into the home trash directly: the
	 * rename fails with EXDEV; the info file goes. */
	CHECK_INT(trash_set_init(&s, &err), 0);
	{
		int hfd = open(tmp, O_PATH | O_DIRECTORY), dfd, errnum = 0;

		pfmt(path, sizeof(path), "%s/here", tmp);
		put_file(path, "x");
		CHECK_INT(trash_select(&s, hfd, "here", &t, &err), 0);
		CHECK(t && t->kind == TRASH_HOME);
		pfmt(path, sizeof(path), "%s/x", mnt);
		put_file(path, "x");
		dfd = open(mnt, O_PATH | O_DIRECTORY);
		CHECK_INT(trash_put(t, dfd, "x", path, time(NULL), entry,
				    sizeof(entry), &errnum, &err),
			  -1);
		CHECK_INT(errnum, EXDEV);
		CHECK(exists(path));
		pfmt(path, sizeof(path), "%s/info/x.trashinfo", t->dir);
		CHECK(!exists(path));
		close(dfd);
		close(hfd);
	}
	trash_set_release(&s);

	/* A .Trash-$uid that is not ours or is a symlink is not used; on a
	 * read-only filesystem the message says why. */
	pfmt(cmd, sizeof(cmd),
	     "rm -rf '%s/.Trash' '%s/.Trash-%d' && mkdir '%s/.Trash-%d' "
	     "&& chown 4321 '%s/.Trash-%d'",
	     mnt, mnt, uid, mnt, uid, mnt, uid);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(trash_set_init(&s, &err), 0);
	pfmt(path, sizeof(path), "%s/d", mnt);
	put_file(path, "x");
	CHECK_INT(ns_put(&s, mnt, "d", &t, entry, &err), -1);
	pfmt(want, sizeof(want),
	     "no usable trash on the filesystem mounted at '%s': "
	     "'%s/.Trash-%d' is not owned by you",
	     mnt, mnt, uid);
	CHECK_STR(err.msg, want);
	trash_set_release(&s);
	pfmt(cmd, sizeof(cmd),
	     "rm -rf '%s/.Trash-%d' && ln -s /tmp '%s/.Trash-%d' && "
	     "ln -s /tmp '%s/.Trash'",
	     mnt, uid, mnt, uid, mnt);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(trash_set_init(&s, &err), 0);
	CHECK_INT(ns_put(&s, mnt, "d", &t, entry, &err), -1);
	pfmt(want, sizeof(want),
	     "no usable trash on the filesystem mounted at '%s': '%s/.Trash' "
	     "is a symbolic link; '%s/.Trash-%d' is a symbolic link",
	     mnt, mnt, mnt, uid);
	CHECK_STR(err.msg, want);
	trash_set_release(&s);
	pfmt(cmd, sizeof(cmd), "rm -f '%s/.Trash-%d' '%s/.Trash'", mnt, uid,
	     mnt);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(mount(NULL, mnt, "none", MS_REMOUNT | MS_RDONLY, NULL), 0);
	CHECK_INT(trash_set_init(&s, &err), 0);
	CHECK_INT(ns_put(&s, mnt, "d", &t, entry, &err), -1);
	pfmt(want, sizeof(want),
	     "no usable trash on the filesystem mounted at '%s': cannot "
	     "create '%s/.Trash-%d': Read-only file system",
	     mnt, mnt, uid);
	CHECK_STR(err.msg, want);
	pfmt(path, sizeof(path), "%s/d", mnt);
	CHECK(exists(path));
	trash_set_release(&s);
}

static void topdir_trashes(void)
{
	pid_t pid;
	int status = 0;

	fresh_home("ns");
	pfmt(mnt, sizeof(mnt), "%s/mnt", tmp);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* The type of a bind, remount or propagation change is
		 * ignored; "none" rather than NULL, which valgrind reports
		 * as an unaddressable mount(type). */
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mkdir(mnt, 0755) < 0 ||
		    mount("sdtest", mnt, "tmpfs", 0, "mode=0755") < 0)
			_exit(77);
		topdir_checks();
		fflush(stdout);
		_exit(unit_current_failed ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("# skipped: no private mount namespace\n");
		return;
	}
	if (WIFSIGNALED(status))
		UNIT_FAIL("the namespace child died of signal %d",
			  WTERMSIG(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	pfmt(tmp, sizeof(tmp), "%s", unit_mkdtemp("trash"));
	RUN(encoding_round_trips, "percent-encoding round-trips any byte");
	RUN(trashinfo_format_and_parse,
	    "trashinfo: format, parse, and hostile files refused");
	RUN(mountinfo_is_parsed, "mountinfo: escapes, ro, malformed lines");
	RUN(home_trash_location, "home trash: XDG_DATA_HOME unset or empty");
	RUN(put_writes_info_first_and_picks_free_names,
	    "put: info first, a.2.txt collisions, orphan names skipped");
	RUN(failed_put_changes_nothing, "put: a failure leaves nothing");
	RUN(listing_skips_hostile_info_and_shows_orphans,
	    "list: hostile info skipped with a warning, orphans shown");
	RUN(directorysizes_cache, "list: directorysizes used and rewritten");
	RUN(restore_never_overwrites,
	    "restore: never overwrites, makes parents, refuses orphans");
	RUN(topdir_trashes,
	    "topdir: .Trash checks, .Trash-$uid, ro, bind mounts, EXDEV");
	UNIT_DONE();
}
