/* saferun's planners for what lives outside the file tree: block devices
 * (dd, mkfs, wipefs), databases (psql), clusters (kubectl, helm) and clouds
 * (terraform, aws s3). Each runs the tool's own preview, or inspects the
 * target, and turns what it shows into effects; output that cannot be
 * parsed is an error that quotes it, never a guess (see tools.h).
 *
 * The parsers are separate functions, not static, so that the unit test
 * (tests/unit/test_toolsremote.c) feeds them recorded output; their
 * prototypes are below and repeated there. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>
#include <openssl/evp.h>

#include "config.h"
#include "fprint.h"
#include "fsutil.h"
#include "mounts.h"
#include "shquote.h"
#include "tools.h"
#include "tools_parse.h"
#include "units.h"

/* What a preview may print, and an SQL file may hold. */
#define OUT_MAX (64u << 20)
#define SQL_MAX (64u << 20)
/* How deep psql's \i may nest, and holders of a device may stack. */
#define NEST_MAX 8

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static int oom(struct sd_err *err)
{
	return err_set(err, SD_EXIT_SAFERUN, "out of memory");
}

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	hex[0] = 0;
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		return;
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* SHA-256 of text's lines, sorted: the same listing printed in another
 * order (a tool's threads) is the same plan. */
static void sha256_lines(const char *text, char hex[65])
{
	size_t n = 0, cap = 0, total = 0;
	char **v = NULL, *copy = strdup(text ? text : ""), *buf, *save = NULL;

	hex[0] = 0;
	if (!copy)
		return;
	for (char *l = strtok_r(copy, "\r\n", &save); l;
	     l = strtok_r(NULL, "\r\n", &save)) {
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 64) *
						       sizeof(*v));

			if (!nv)
				goto out;
			v = nv;
		}
		v[n++] = l;
		total += strlen(l) + 1;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	buf = malloc(total + 1);
	if (buf) {
		size_t len = 0;

		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(v[i]);

			memcpy(buf + len, v[i], l);
			len += l;
			buf[len++] = '\n';
		}
		sha256_hex(buf, len, hex);
		free(buf);
	}
out:
	free(v);
	free(copy);
}

/* A growing NULL-terminated argument vector. */
struct vec {
	char **v;
	size_t n, cap;
	bool failed;
};

static void vec_add(struct vec *a, const char *s)
{
	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->failed = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s))) {
		a->failed = true;
		return;
	}
	a->v[++a->n] = NULL;
}

static void vec_addf(struct vec *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vec_addf(struct vec *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->failed = true;
		return;
	}
	vec_add(a, s);
	free(s);
}

static void vec_free(struct vec *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The vector, NULL-terminated, now the caller's; NULL when it failed. */
static char **vec_take(struct vec *a)
{
	char **v;

	if (a->failed || !a->v) {
		vec_free(a);
		return NULL;
	}
	v = a->v;
	memset(a, 0, sizeof(*a));
	return v;
}

static char *quote_argv(char *const *argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	for (size_t cap = 256; cap <= (16u << 20); cap *= 4) {
		char *buf = malloc(cap);

		if (!buf)
			return NULL;
		if (shquote_argv(buf, cap, argv, argc) == 0)
			return buf;
		free(buf);
	}
	return strdup(argv[0]);
}

/* The command quoted for a message: at most 200 bytes of it. */
static char *quote_short(char *const *argv)
{
	char *q = quote_argv(argv);

	if (q && strlen(q) > 200)
		strcpy(q + 197, "...");
	return q ? q : strdup("?");
}

/* Record a preview command in p->native ("a; b" when several ran). */
static void note_native(struct tool_plan *p, char *const *argv)
{
	char *q = quote_argv(argv), *n = NULL;

	if (!q)
		return;
	if (!p->native) {
		p->native = q;
		return;
	}
	if (asprintf(&n, "%s; %s", p->native, q) >= 0) {
		free(p->native);
		p->native = n;
	}
	free(q);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The text of one line (up to a newline), trimmed, for messages. */
static void line_copy(char *dst, size_t n, const char *src)
{
	size_t len = strcspn(src, "\r\n");

	while (len && isspace((unsigned char)src[len - 1]))
		len--;
	if (len >= n) {
		len = n - 4;
		snprintf(dst, n, "%.*s...", (int)len, src);
		return;
	}
	snprintf(dst, n, "%.*s", (int)len, src);
}

/* Klog's prefix: "E1122 03:19:16.163646   15187 memcache.go:265] ". */
static bool is_klog(const char *l)
{
	return strchr("IWEF", l[0]) && l[0] && isdigit((unsigned char)l[1]) &&
	       isdigit((unsigned char)l[2]) && isdigit((unsigned char)l[3]) &&
	       isdigit((unsigned char)l[4]) && l[5] == ' ';
}

/* A line of a tool's error output without colour, without terraform's box
 * ("│ Error: ..."), trimmed; empty when nothing is left. */
static void clean_line(char *dst, size_t n, const char *src)
{
	char tmp[1024];
	size_t o = 0;

	line_copy(tmp, sizeof(tmp), src);
	for (const char *s = tmp; *s && o + 1 < n;) {
		if (s[0] == '\033' && s[1] == '[') {
			s += 2;
			while (*s && !isalpha((unsigned char)*s))
				s++;
			if (*s)
				s++;
			continue;
		}
		/* U+2502, U+2577, U+2575: │ ╷ ╵ */
		if ((unsigned char)s[0] == 0xe2 &&
		    ((unsigned char)s[1] == 0x94 ||
		     (unsigned char)s[1] == 0x95) &&
		    s[2]) {
			s += 3;
			continue;
		}
		dst[o++] = *s++;
	}
	dst[o] = 0;
	o = strspn(dst, " \t");
	memmove(dst, dst + o, strlen(dst + o) + 1);
}

/* The line of a failed preview's output that says why: the first that
 * starts like an error, else the first that is not a log line; from
 * stderr, else stdout. malloc'd, "" when there is none. */
char *remote_error_line(const char *errout, const char *out)
{
	const char *texts[2] = {errout, out};
	char line[1024];

	for (int pass = 0; pass < 2; pass++)
		for (int t = 0; t < 2; t++)
			for (const char *l = texts[t]; l && *l;) {
				clean_line(line, sizeof(line), l);
				if (*line && !is_klog(line) &&
				    (pass == 1 ||
				     !strncasecmp(line, "error", 5) ||
				     !strncasecmp(line, "fatal error", 11) ||
				     strstr(line, "Error:")))
					return strdup(line);
				l += strcspn(l, "\n");
				if (*l)
					l++;
			}
	return strdup("");
}

/* ------------------------------------------------------------------ */
/* Running previews                                                   */

struct run {
	char *out, *errout;
	int code;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
}

/* Run argv, recorded in p->native. -1 with err when it could not run or
 * was killed (127 when it is not installed); else r->code is its exit
 * status, for the caller to judge. */
static int run_cmd(const struct tool_ctx *c, struct tool_plan *p,
		   char *const *argv, struct run *r, struct sd_err *err)
{
	int status = 0;

	memset(r, 0, sizeof(*r));
	if (p)
		note_native(p, argv);
	if (tools_capture(argv, c->timeout_ms, OUT_MAX, &r->out, &r->errout,
			  &status, err) < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		char *q = quote_short(argv);

		err_set(err, SD_EXIT_SAFERUN, "'%s' was killed by signal %d", q,
			WTERMSIG(status));
		free(q);
		run_free(r);
		return -1;
	}
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	/* 127 is the shell's "command not found", what a wrapper (a version
	 * manager's shim) and a spawn that fell back to fork say when the
	 * program is not there: the same as not installed. */
	if (r->code == 127) {
		char *why = remote_error_line(r->errout, "");

		err_set(err, 127, "cannot run '%s'%s%s", argv[0],
			why && *why ? ": " : "", why ? why : "");
		free(why);
		run_free(r);
		return -1;
	}
	return 0;
}

/* "kubectl's dry run failed: 'kubectl delete ...' exited with status 1:
 * the line that says why". Frees r. */
static int run_failed(struct sd_err *err, const char *what, char *const *argv,
		      struct run *r)
{
	char *q = quote_short(argv),
	     *why = remote_error_line(r->errout, r->out);

	err_set(err, SD_EXIT_SAFERUN,
		"%s failed: '%s' exited with status %d%s%s", what, q, r->code,
		why && *why ? ": " : "", why ? why : "");
	free(q);
	free(why);
	run_free(r);
	return -1;
}

static int plan_init(struct tool_plan *p, enum fidelity f, struct sd_err *err)
{
	p->fidelity = f;
	if (!p->targets)
		p->targets = json_array();
	if (!p->facts)
		p->facts = json_object();
	return p->targets && p->facts ? 0 : oom(err);
}

/* A planner's failure: nothing half made is left in p. */
static int plan_fail(struct tool_plan *p)
{
	tool_plan_release(p);
	return -1;
}

static int add_object(struct tool_plan *p, const char *path, const char *detail,
		      struct sd_err *err)
{
	if (effects_add(&p->effects, EFFECT_OBJECT, path, NULL, 'o', 1, 0,
			detail) < 0)
		return oom(err);
	return 0;
}

/* path made absolute against cwd (malloc'd). */
static char *absolute(const char *cwd, const char *path)
{
	char *r = NULL;

	if (path[0] == '/' || !cwd)
		return strdup(path);
	if (asprintf(&r, "%s/%s", cwd, path) < 0)
		return NULL;
	return r;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */

/* A flag a planner must recognise: its name ("-o", "--output") and whether
 * it takes a value (then "--output x", "--output=x" and "-ox" all work). */
struct flag {
	const char *name;
	bool value;
};

/* Whether argv[i] is one of flags: its index, else -1. *used is how many
 * words it takes (1 or 2), *val its value or NULL. */
static int flag_at(char *const *argv, int argc, int i, const struct flag *flags,
		   int *used, const char **val)
{
	const char *a = argv[i];

	*used = 1;
	*val = NULL;
	for (int k = 0; flags[k].name; k++) {
		const char *n = flags[k].name;
		size_t len = strlen(n);

		if (strncmp(a, n, len))
			continue;
		if (!a[len]) {
			if (flags[k].value && i + 1 < argc) {
				*val = argv[i + 1];
				*used = 2;
			}
			return k;
		}
		if (a[len] == '=' && n[1] == '-') {
			*val = a + len + 1;
			return k;
		}
		/* -ovalue, -n=value */
		if (n[1] != '-' && len == 2 && flags[k].value) {
			*val = a + len + (a[len] == '=');
			return k;
		}
	}
	return -1;
}

/* The index of the first word that is not an option (the subcommand),
 * skipping the values of value_flags; argc when there is none. */
static int first_word(char *const *argv, int argc, int from,
		      const struct flag *value_flags)
{
	for (int i = from; i < argc; i++) {
		int used;
		const char *val;

		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : argc;
		if (argv[i][0] != '-' || !argv[i][1])
			return i;
		if (flag_at(argv, argc, i, value_flags, &used, &val) >= 0)
			i += used - 1;
	}
	return argc;
}

/* ------------------------------------------------------------------ */
/* Block devices: dd, mkfs, wipefs                                    */

/* blkid -p -o export: "KEY=value" lines, values with \ before special
 * characters. An object without DEVNAME (the path asked for, not a
 * property of the device). */
json_t *remote_blkid_export(const char *out)
{
	json_t *o = json_object();

	for (const char *l = out; o && l && *l;) {
		size_t len = strcspn(l, "\n");
		const char *eq = memchr(l, '=', len);

		if (eq && eq > l) {
			char key[64], *val = malloc(len + 1);
			size_t k = (size_t)(eq - l), v = 0;

			if (!val)
				break;
			for (const char *s = eq + 1; s < l + len; s++) {
				if (*s == '\\' && s + 1 < l + len)
					s++;
				val[v++] = *s;
			}
			val[v] = 0;
			snprintf(key, sizeof(key), "%.*s", (int)k, l);
			if (strcmp(key, "DEVNAME"))
				json_object_set_new(o, key, json_string(val));
			free(val);
		}
		l += len;
		if (*l)
			l++;
	}
	return o;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "ext4 filesystem 'data' (UUID 1234...)", "dos partition table", "no
 * signature found". */
static void describe_signature(const json_t *sig, char *buf, size_t n)
{
	const char *type = jstr(sig, "TYPE"), *pt = jstr(sig, "PTTYPE");
	const char *label = jstr(sig, "LABEL"), *uuid = jstr(sig, "UUID");
	const char *usage = jstr(sig, "USAGE");

	if (type) {
		snprintf(buf, n, "%s %s%s%s%s%s%s", type,
			 usage && strcmp(usage, "filesystem") ? usage
							      : "filesystem",
			 label ? " '" : "", label ? label : "",
			 label ? "'" : "", uuid ? " UUID " : "",
			 uuid ? uuid : "");
	} else if (pt) {
		snprintf(buf, n, "%s partition table", pt);
	} else {
		snprintf(buf, n, "no signature found");
	}
}

/* Read a small sysfs file, trimmed; -1 when it cannot be read. */
static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return -1;
	got = read(fd, buf, n - 1);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = 0;
	while (got > 0 && isspace((unsigned char)buf[got - 1]))
		buf[--got] = 0;
	return 0;
}

static int parse_devno(const char *s, dev_t *dev)
{
	unsigned maj, min;
	char tail;

	if (sscanf(s, "%u:%u%c", &maj, &min, &tail) != 2)
		return -1;
	*dev = makedev(maj, min);
	return 0;
}

/* Each block device whose contents are this device's, by kernel name:
 * its partitions and what is built on it (device mapper, md), and theirs,
 * into rel as {"name", "dev", "as": "partition"|"holder"|"loop"}. */
static void related_add(json_t *rel, const char *name, const char *as)
{
	char path[PATH_MAX], devno[32];
	size_t i;
	json_t *r;

	json_array_foreach(rel, i, r)
	{
		if (!strcmp(jstr(r, "name"), name))
			return;
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/dev", name);
	if (read_small(path, devno, sizeof(devno)) < 0)
		devno[0] = 0;
	json_array_append_new(rel, json_pack("{s:s,s:s,s:s}", "name", name,
					     "dev", devno, "as", as));
}

static void related_walk(json_t *rel, const char *name, int depth)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (depth > NEST_MAX)
		return;
	snprintf(path, sizeof(path), "/sys/class/block/%s", name);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			char part[PATH_MAX + 300];

			if (e->d_name[0] == '.')
				continue;
			snprintf(part, sizeof(part), "%s/%s/partition", path,
				 e->d_name);
			if (access(part, F_OK) == 0) {
				related_add(rel, e->d_name, "partition");
				related_walk(rel, e->d_name, depth + 1);
			}
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/holders", name);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			related_add(rel, e->d_name, "holder");
			related_walk(rel, e->d_name, depth + 1);
		}
		closedir(d);
	}
}

/* The loop devices whose backing file is real (a regular file). */
static void loops_of(json_t *rel, const char *real)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX], back[PATH_MAX];

		if (strncmp(e->d_name, "loop", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 e->d_name);
		if (read_small(path, back, sizeof(back)) < 0 ||
		    strcmp(back, real))
			continue;
		related_add(rel, e->d_name, "loop");
		related_walk(rel, e->d_name, 1);
	}
	closedir(d);
}

/* /proc/swaps' file names (octal escapes decoded) in use. */
static bool in_swaps(const char *want)
{
	char *text = NULL;
	size_t len;
	bool found = false;

	if (fs_read_file("/proc/swaps", 1u << 20, &text, &len, NULL) < 0)
		return false;
	for (char *l = strchr(text, '\n'); l && *l && !found;) {
		char name[PATH_MAX];
		size_t o = 0;

		l++;
		for (; *l && *l != ' ' && *l != '\t' && *l != '\n' &&
		       o + 1 < sizeof(name);
		     l++) {
			if (l[0] == '\\' && l[1] >= '0' && l[1] <= '7' &&
			    l[2] >= '0' && l[2] <= '7' && l[3] >= '0' &&
			    l[3] <= '7') {
				name[o++] =
					(char)((l[1] - '0') * 64 +
					       (l[2] - '0') * 8 + (l[3] - '0'));
				l += 3;
				continue;
			}
			name[o++] = *l;
		}
		name[o] = 0;
		found = o && !strcmp(name, want);
		l = strchr(l, '\n');
	}
	free(text);
	return found;
}

/* What is known of one device or file a command writes, and why it must
 * not be written now. */
struct device {
	const char *arg; /* as the user wrote it */
	char *path;	 /* absolute */
	char *real;	 /* realpath */
	struct stat st;
	uint64_t size;
	json_t *info; /* facts.device */
	json_t *sig;  /* blkid's properties */
	char *refuse;
};

static void device_free(struct device *d)
{
	free(d->path);
	free(d->real);
	json_decref(d->info);
	json_decref(d->sig);
	free(d->refuse);
	memset(d, 0, sizeof(*d));
}

/* Where this device, a partition of it, what holds it or (for a file) the
 * loop device over it is mounted, or used as swap: into info.mounted, and
 * the first as the reason to refuse. */
static int device_in_use(struct device *d, struct sd_err *err)
{
	struct mount_table t;
	json_t *rel = json_array(), *mounted = json_array();
	json_t *parts = json_array(), *holders = json_array();
	size_t i;
	json_t *r;

	if (!rel || !mounted || !parts || !holders) {
		json_decref(rel);
		json_decref(mounted);
		json_decref(parts);
		json_decref(holders);
		return oom(err);
	}
	if (S_ISBLK(d->st.st_mode)) {
		char sys[64], link[PATH_MAX];
		ssize_t n;

		snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u",
			 major(d->st.st_rdev), minor(d->st.st_rdev));
		n = readlink(sys, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			related_add(rel, base_name(link), "self");
			related_walk(rel, base_name(link), 0);
		}
	} else {
		loops_of(rel, d->real);
	}
	json_object_set_new(d->info, "partitions", parts);
	json_object_set_new(d->info, "holders", holders);
	json_object_set_new(d->info, "mounted", mounted);
	json_array_foreach(rel, i, r)
	{
		const char *as = jstr(r, "as");

		if (!strcmp(as, "partition"))
			json_array_append_new(parts,
					      json_string(jstr(r, "name")));
		else if (strcmp(as, "self"))
			json_array_append_new(holders,
					      json_string(jstr(r, "name")));
	}
	if (mounts_load(&t, NULL, err) < 0) {
		json_decref(rel);
		return -1;
	}
	for (size_t m = 0; m < t.n; m++) {
		const struct mount_info *mi = &t.v[m];
		char name[PATH_MAX + 8] = "";
		bool hit = false;

		json_array_foreach(rel, i, r)
		{
			dev_t dev;

			snprintf(name, sizeof(name), "/dev/%s",
				 jstr(r, "name"));
			if ((!parse_devno(jstr(r, "dev"), &dev) &&
			     dev == mi->dev) ||
			    !strcmp(mi->source, name)) {
				hit = true;
				if (!strcmp(jstr(r, "as"), "self"))
					snprintf(name, sizeof(name), "%s",
						 d->arg);
				break;
			}
		}
		if (!hit && (!strcmp(mi->source, d->real) ||
			     !strcmp(mi->source, d->path))) {
			hit = true;
			snprintf(name, sizeof(name), "%s", d->arg);
		}
		if (!hit)
			continue;
		json_array_append_new(mounted,
				      json_pack("{s:s,s:s}", "device", name,
						"on", mi->point));
		if (!d->refuse &&
		    asprintf(&d->refuse, "'%s' is mounted on '%s'", name,
			     mi->point) < 0)
			d->refuse = NULL;
	}
	mounts_release(&t);
	/* Swap: the file itself, or a device. */
	if (!d->refuse && in_swaps(d->real) &&
	    asprintf(&d->refuse, "'%s' is in use as swap", d->arg) < 0)
		d->refuse = NULL;
	json_array_foreach(rel, i, r)
	{
		char name[PATH_MAX + 8];

		snprintf(name, sizeof(name), "/dev/%s", jstr(r, "name"));
		if (!d->refuse && in_swaps(name) &&
		    asprintf(&d->refuse, "'%s' is in use as swap", name) < 0)
			d->refuse = NULL;
	}
	json_decref(rel);
	return 0;
}

/* The signature: blkid for TYPE, UUID, LABEL (and partition tables), and
 * wipefs for the list of every signature on it. */
static int device_signature(const struct tool_ctx *c, struct tool_plan *p,
			    struct device *d, struct sd_err *err)
{
	char *blkid[] = {"blkid", "-p", "-o", "export", d->real, NULL};
	char *wipefs[] = {"wipefs", "--no-act", "--json", d->real, NULL};
	struct run r;
	struct sd_err e2 = {0};
	bool have_blkid = false;

	if (run_cmd(c, p, blkid, &r, &e2) == 0) {
		/* 2: nothing found; 8: ambivalent (wipefs lists them). */
		if (r.code == 0 || r.code == 2 || r.code == 8) {
			d->sig = r.code == 0 ? remote_blkid_export(r.out)
					     : json_object();
			have_blkid = d->sig != NULL;
			if (r.code == 8)
				json_object_set_new(d->info, "ambivalent",
						    json_true());
			run_free(&r);
		} else {
			return run_failed(err, "blkid", blkid, &r);
		}
	} else if (e2.code != 127) {
		*err = e2;
		return -1;
	}
	if (run_cmd(c, p, wipefs, &r, &e2) == 0) {
		json_t *j, *list;

		if (r.code)
			return run_failed(err, "wipefs", wipefs, &r);
		j = *r.out ? json_loads(r.out, 0, NULL) : json_object();
		list = json_object_get(j, "signatures");
		if (!j || (*r.out && !json_is_array(list))) {
			char line[200];

			line_copy(line, sizeof(line), r.out);
			json_decref(j);
			run_free(&r);
			return err_set(err, SD_EXIT_SAFERUN,
				       "cannot parse wipefs's listing: '%s'",
				       line);
		}
		json_object_set(d->info, "signatures",
				list ? list : json_array());
		/* Without blkid: the first signature stands for it. */
		if (!have_blkid) {
			json_t *first = json_array_get(list, 0);

			d->sig = json_object();
			if (first && d->sig) {
				const char *keys[][2] = {{"type", "TYPE"},
							 {"uuid", "UUID"},
							 {"label", "LABEL"}};

				for (size_t k = 0; k < 3; k++)
					if (jstr(first, keys[k][0]))
						json_object_set_new(
							d->sig, keys[k][1],
							json_string(jstr(
								first,
								keys[k][0])));
			}
		}
		json_decref(j);
		run_free(&r);
	} else if (e2.code != 127 || !have_blkid) {
		*err = e2;
		if (e2.code == 127)
			err_set(err, SD_EXIT_SAFERUN,
				"cannot read the signature of '%s': neither "
				"blkid nor wipefs can be run",
				d->arg);
		return -1;
	}
	if (!d->sig)
		return oom(err);
	json_object_set(d->info, "signature", d->sig);
	return 0;
}

/* Inspect what arg names: d filled, or -1 with err. A path that does not
 * exist is d->st.st_mode == 0 (dd creates it). */
static int device_inspect(const struct tool_ctx *c, struct tool_plan *p,
			  const char *arg, bool may_create, struct device *d,
			  struct sd_err *err)
{
	char rdev[32] = "";

	memset(d, 0, sizeof(*d));
	d->arg = arg;
	d->path = absolute(c->cwd, arg);
	d->info = json_object();
	if (!d->path || !d->info)
		return oom(err);
	if (stat(d->path, &d->st) < 0) {
		if (errno == ENOENT && may_create) {
			memset(&d->st, 0, sizeof(d->st));
			d->real = strdup(d->path);
			json_object_set_new(d->info, "path", json_string(arg));
			json_object_set_new(d->info, "absent", json_true());
			return d->real ? 0 : oom(err);
		}
		return err_errno(err, SD_EXIT_SAFERUN, "cannot read '%s'", arg);
	}
	d->real = realpath(d->path, NULL);
	if (!d->real)
		return err_errno(err, SD_EXIT_SAFERUN, "cannot read '%s'", arg);
	if (S_ISDIR(d->st.st_mode))
		return err_set(err, SD_EXIT_SAFERUN, "'%s' is a directory",
			       arg);
	json_object_set_new(d->info, "path", json_string(arg));
	json_object_set_new(d->info, "realpath", json_string(d->real));
	if (S_ISBLK(d->st.st_mode)) {
		int fd = open(d->real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		uint64_t size = 0;

		if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
			err_errno(err, SD_EXIT_SAFERUN,
				  "cannot read the size of '%s'", arg);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		d->size = size;
		snprintf(rdev, sizeof(rdev), "%u:%u", major(d->st.st_rdev),
			 minor(d->st.st_rdev));
		json_object_set_new(d->info, "type", json_string("block"));
		json_object_set_new(d->info, "rdev", json_string(rdev));
	} else if (S_ISREG(d->st.st_mode)) {
		d->size = (uint64_t)d->st.st_size;
		json_object_set_new(d->info, "type", json_string("file"));
	} else {
		/* Character devices and the like: no size, no signature. */
		json_object_set_new(d->info, "type", json_string("special"));
		return device_in_use(d, err);
	}
	json_object_set_new(d->info, "size", json_integer((json_int_t)d->size));
	if (device_signature(c, p, d, err) < 0 || device_in_use(d, err) < 0)
		return -1;
	return 0;
}

/* The effect, the facts and the fingerprints of one inspected device. */
static int device_record(struct tool_plan *p, struct device *d,
			 const char *extra, bool several, struct sd_err *err)
{
	char size[32], sig[512], detail[1024];
	json_t *fp, *dfp;
	struct sd_err e2 = {0};
	char type = S_ISBLK(d->st.st_mode)   ? 'b'
		    : S_ISREG(d->st.st_mode) ? 'f'
					     : 's';

	units_format_size(d->size, size, sizeof(size));
	if (!d->st.st_mode) {
		snprintf(detail, sizeof(detail), "does not exist: created%s%s",
			 extra ? "; " : "", extra ? extra : "");
		if (effects_add(&p->effects, EFFECT_CREATE, d->path, NULL, 'f',
				1, 0, detail) < 0)
			return oom(err);
	} else {
		if (d->sig)
			describe_signature(d->sig, sig, sizeof(sig));
		snprintf(detail, sizeof(detail), "%s%s%s%s%s%s%s",
			 type == 's' ? "special file" : size,
			 d->sig ? ", " : "", d->sig ? sig : "",
			 strcmp(d->real, d->path) ? " on " : "",
			 strcmp(d->real, d->path) ? d->real : "",
			 extra ? "; " : "", extra ? extra : "");
		if (effects_add(&p->effects, EFFECT_DEVICE, d->path, NULL, type,
				1, d->size, detail) < 0)
			return oom(err);
	}
	if (several) {
		json_t *list = json_object_get(p->facts, "devices");

		if (!list) {
			list = json_array();
			json_object_set_new(p->facts, "devices", list);
		}
		json_array_append(list, d->info);
	} else {
		json_object_set(p->facts, "device", d->info);
	}
	/* The node itself (lstat), the node it leads to, and the device. */
	fp = fprint_path(d->path, false, &e2);
	if (!fp) {
		*err = e2;
		return -1;
	}
	json_array_append_new(p->targets, fp);
	if (strcmp(d->real, d->path)) {
		fp = fprint_path(d->real, false, &e2);
		if (!fp) {
			*err = e2;
			return -1;
		}
		json_array_append_new(p->targets, fp);
	}
	if (d->st.st_mode) {
		dfp = json_pack("{s:s,s:s,s:I}", "kind", "device", "path",
				d->real, "size", (json_int_t)d->size);
		if (!dfp)
			return oom(err);
		if (S_ISBLK(d->st.st_mode))
			json_object_set(dfp, "rdev",
					json_object_get(d->info, "rdev"));
		json_object_set(dfp, "signature",
				d->sig ? d->sig : json_null());
		json_array_append_new(p->targets, dfp);
	}
	if (d->refuse && !p->why_refuse) {
		p->why_refuse = d->refuse;
		d->refuse = NULL;
	}
	return 0;
}

/* Plan the writing of each of devs (extra: what the command does to it,
 * for the detail; may_create: a path that does not exist is created, as
 * dd does, rather than an error). */
static int plan_devices(const struct tool_ctx *c, struct tool_plan *p,
			const char *const *devs, size_t n, const char *extra,
			bool may_create, enum fidelity f, struct sd_err *err)
{
	if (plan_init(p, f, err) < 0)
		return plan_fail(p);
	p->always_confirm = true;
	for (size_t i = 0; i < n; i++) {
		struct device d;

		if (device_inspect(c, p, devs[i], may_create, &d, err) < 0 ||
		    device_record(p, &d, extra, n > 1, err) < 0) {
			device_free(&d);
			return plan_fail(p);
		}
		device_free(&d);
	}
	return 0;
}

/* dd: the last of=. */
static const char *dd_output(const struct tool_ctx *c)
{
	const char *of = NULL;

	for (int i = 1; i < c->argc; i++)
		if (starts_with(c->argv[i], "of="))
			of = c->argv[i] + 3;
	return of && *of ? of : NULL;
}

static bool dd_matches(const struct tool_ctx *c)
{
	return dd_output(c) != NULL;
}

static int dd_plan(const struct tool_ctx *c, struct tool_plan *p,
		   struct sd_err *err)
{
	const char *of = dd_output(c), *seek = NULL;
	char extra[256];

	for (int i = 1; i < c->argc; i++)
		if (starts_with(c->argv[i], "seek=") ||
		    starts_with(c->argv[i], "oseek="))
			seek = c->argv[i];
	snprintf(extra, sizeof(extra), "written by dd%s%s",
		 seek ? " from " : "", seek ? seek : "");
	/* Writing to /dev/null or /dev/zero loses nothing. */
	if (!strcmp(of, "/dev/null") || !strcmp(of, "/dev/zero"))
		return plan_init(p, FIDELITY_PREVIEW, err) < 0 ? plan_fail(p)
							       : 0;
	return plan_devices(c, p, &of, 1, extra, true, FIDELITY_PREVIEW, err);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			break;
	/* mke2fs takes a size with a unit: 100M. */
	return !*s || (strchr("kKmMgGtT", *s) && !s[1]);
}

/* mkfs's device (the last word, or the one before a block count) and the
 * type of the new filesystem. NULL when there is none. */
static const char *mkfs_device(const struct tool_ctx *c, const char **type)
{
	const char *name = base_name(c->argv[0]), *dev;
	int last = c->argc - 1;

	*type = !strncmp(name, "mkfs.", 5) ? name + 5 : "ext2";
	if (!strcmp(name, "mkfs"))
		for (int i = 1; i < c->argc; i++) {
			const char *a = c->argv[i];

			if ((!strcmp(a, "-t") || !strcmp(a, "--type")) &&
			    i + 1 < c->argc)
				*type = c->argv[++i];
			else if (starts_with(a, "--type="))
				*type = a + 7;
			else if (starts_with(a, "-t") && a[2])
				*type = a + 2;
		}
	if (last < 1)
		return NULL;
	if (last >= 2 && all_digits(c->argv[last]) &&
	    c->argv[last - 1][0] != '-')
		last--;
	dev = c->argv[last];
	return dev[0] == '-' || !dev[0] ? NULL : dev;
}

/* mke2fs -n and mkfs.xfs -N only say what they would do. */
static bool mkfs_dry(const struct tool_ctx *c, const char *type)
{
	bool ext = starts_with(type, "ext");

	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (!strcmp(type, "xfs") && !strcmp(a, "-N"))
			return true;
		if (ext && a[0] == '-' && a[1] != '-' &&
		    strspn(a + 1, "cDFjnqSv") == strlen(a + 1) &&
		    strchr(a + 1, 'n'))
			return true;
	}
	return false;
}

static bool mkfs_matches(const struct tool_ctx *c)
{
	const char *type;

	return mkfs_device(c, &type) && !mkfs_dry(c, type);
}

static int mkfs_plan(const struct tool_ctx *c, struct tool_plan *p,
		     struct sd_err *err)
{
	const char *type, *dev = mkfs_device(c, &type);
	char extra[128];

	if (!dev)
		return err_set(err, SD_EXIT_USAGE, "mkfs: no device given");
	snprintf(extra, sizeof(extra), "formatted as %s", type);
	return plan_devices(c, p, &dev, 1, extra, false, FIDELITY_PREVIEW, err);
}

static const struct flag wipefs_values[] = {
	{"-o", true}, {"--offset", true}, {"-O", true},	 {"--output", true},
	{"-t", true}, {"--types", true},  {NULL, false},
};

/* wipefs: erases only with -a or -o, and not with -n. */
static bool wipefs_matches(const struct tool_ctx *c)
{
	bool erase = false;

	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i], *val;
		int used, k;

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--no-act"))
			return false;
		if (!strcmp(a, "--all"))
			erase = true;
		k = flag_at(c->argv, c->argc, i, wipefs_values, &used, &val);
		if (k >= 0) {
			erase = erase || k <= 1; /* -o, --offset */
			i += used - 1;
			continue;
		}
		if (a[0] == '-' && a[1] && a[1] != '-') {
			/* A cluster: -af, -an; a value letter ends it. */
			for (const char *s = a + 1; *s; s++) {
				if (*s == 'n')
					return false;
				if (*s == 'a')
					erase = true;
				if (strchr("oOt", *s)) {
					erase = erase || *s == 'o';
					break;
				}
			}
		}
	}
	return erase;
}

/* wipefs --no-act: "DEV: 2 bytes were erased at offset 0x00000438 (ext4):
 * 53 ef" for each signature; anything else is not understood. */
int remote_wipefs_erased(const char *out, json_t *lines, struct sd_err *err)
{
	for (const char *l = out; l && *l;) {
		char line[1024];
		const char *m;

		line_copy(line, sizeof(line), l);
		l += strcspn(l, "\n");
		if (*l)
			l++;
		if (!*line)
			continue;
		m = strstr(line, ": ");
		if (!m || !isdigit((unsigned char)m[2]) ||
		    !strstr(m, " were erased at offset 0x"))
			return err_set(err, SD_EXIT_SAFERUN,
				       "cannot parse wipefs's dry run: '%s'",
				       line);
		json_array_append_new(lines, json_string(line));
	}
	return 0;
}

static int wipefs_plan(const struct tool_ctx *c, struct tool_plan *p,
		       struct sd_err *err)
{
	const char **devs = calloc((size_t)c->argc + 1, sizeof(*devs));
	struct vec v = {0};
	size_t n = 0;
	struct run r;
	json_t *lines = json_array();
	char **argv;
	bool opts = true;

	if (!devs || !lines) {
		free(devs);
		json_decref(lines);
		return oom(err);
	}
	/* The preview: the same command with --no-act (no backup files, and
	 * not quiet, since what it prints is the plan). */
	vec_add(&v, c->argv[0]);
	vec_add(&v, "--no-act");
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i], *val;
		int used;

		if (opts && !strcmp(a, "--")) {
			opts = false;
			vec_add(&v, a);
			continue;
		}
		if (opts && (!strcmp(a, "-q") || !strcmp(a, "--quiet") ||
			     !strcmp(a, "-b") || !strcmp(a, "--backup") ||
			     starts_with(a, "--backup=")))
			continue;
		if (opts && flag_at(c->argv, c->argc, i, wipefs_values, &used,
				    &val) >= 0) {
			for (int k = 0; k < used; k++)
				vec_add(&v, c->argv[i + k]);
			i += used - 1;
			continue;
		}
		vec_add(&v, a);
		if (!opts || a[0] != '-' || !a[1])
			devs[n++] = a;
	}
	argv = vec_take(&v);
	if (!argv) {
		free(devs);
		json_decref(lines);
		return oom(err);
	}
	if (!n) {
		err_set(err, SD_EXIT_USAGE, "wipefs: no device given");
		goto fail;
	}
	if (plan_devices(c, p, devs, n, "signatures erased by wipefs", false,
			 FIDELITY_NATIVE, err) < 0)
		goto fail;
	if (run_cmd(c, p, argv, &r, err) < 0)
		goto fail;
	if (r.code) {
		run_failed(err, "wipefs's dry run", argv, &r);
		goto fail;
	}
	if (remote_wipefs_erased(r.out, lines, err) < 0) {
		run_free(&r);
		goto fail;
	}
	run_free(&r);
	json_object_set_new(p->facts, "erased", lines);
	for (size_t i = 0; i < p->effects.n; i++) {
		struct effect *x = &p->effects.v[i];
		size_t count = 0, k;
		json_t *l;
		char *d = NULL;

		json_array_foreach(lines, k, l)
		{
			const char *s = json_string_value(l);
			size_t dl = strlen(devs[i]);

			if (!strncmp(s, devs[i], dl) && s[dl] == ':')
				count++;
		}
		if (asprintf(&d, "%s (%zu signature%s)", x->detail, count,
			     count == 1 ? "" : "s") >= 0) {
			free(x->detail);
			x->detail = d;
		}
	}
	free(devs);
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
	return 0;
fail:
	free(devs);
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
	if (json_object_get(p->facts, "erased") != lines)
		json_decref(lines);
	return plan_fail(p);
}

/* ------------------------------------------------------------------ */
/* psql: statements split by a lexer that knows quotes, dollar quotes,
 * comments and psql's backslash commands (not a parser), each flagged
 * when it drops, truncates, or deletes or updates without WHERE.     */

enum { TK_WORD, TK_QIDENT, TK_STRING, TK_OPEN, TK_CLOSE, TK_PUNCT };

struct sql_tok {
	size_t off, len; /* in the text */
	int depth;	 /* parentheses around it */
	int kind;
	char word[32]; /* lower case, words only */
};

struct sql_stmt {
	struct sql_tok *t;
	size_t n, cap;
	bool failed;
	/* psql's heuristic for BEGIN ... END in CREATE FUNCTION bodies */
	char ids[4];
	int words, begin_depth;
};

struct sql_lex {
	json_t *out;   /* [{"sql", "flags"?: [{"what", "target"}]}] */
	json_t *files; /* fingerprints of the files \i read */
	EVP_MD_CTX *md;
	const char *cwd;
	struct sd_err *err;
};

static void tok_add(struct sql_stmt *st, int kind, size_t off, size_t len,
		    int depth, const char *s)
{
	struct sql_tok *t;

	if (st->failed)
		return;
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 64;
		struct sql_tok *v = realloc(st->t, cap * sizeof(*v));

		if (!v) {
			st->failed = true;
			return;
		}
		st->t = v;
		st->cap = cap;
	}
	t = &st->t[st->n++];
	t->off = off;
	t->len = len;
	t->depth = depth;
	t->kind = kind;
	t->word[0] = 0;
	if (kind == TK_WORD) {
		size_t k;

		for (k = 0; k < len && k + 1 < sizeof(t->word); k++)
			t->word[k] = (char)tolower((unsigned char)s[off + k]);
		t->word[k] = 0;
	}
}

static bool tw(const struct sql_stmt *st, size_t i, const char *w)
{
	return i < st->n && st->t[i].kind == TK_WORD &&
	       !strcmp(st->t[i].word, w);
}

static bool tw_any(const struct sql_stmt *st, size_t i, const char *const *ws)
{
	for (; *ws; ws++)
		if (tw(st, i, *ws))
			return true;
	return false;
}

/* The text from token a to token b (inclusive), whitespace runs made one
 * space, at most max bytes (then "..."), as a malloc'd string. */
static char *sql_text(const char *s, size_t from, size_t to, size_t max)
{
	char *out = malloc(max + 4);
	size_t o = 0;
	bool space = false;

	if (!out)
		return NULL;
	for (size_t i = from; i < to; i++) {
		char ch = s[i];

		if (isspace((unsigned char)ch)) {
			space = true;
			continue;
		}
		if (space && o) {
			if (o + 1 > max)
				goto cut;
			out[o++] = ' ';
		}
		space = false;
		if (o + 1 > max)
			goto cut;
		out[o++] = ch;
	}
	out[o] = 0;
	return out;
cut:
	/* Not in the middle of a UTF-8 character. */
	while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
		o--;
	if (o && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
		o--;
	memcpy(out + o, "...", 4);
	return out;
}

static char *tok_text(const char *s, const struct sql_stmt *st, size_t a,
		      size_t b, size_t max)
{
	return sql_text(s, st->t[a].off, st->t[b].off + st->t[b].len, max);
}

static bool is_name(const struct sql_stmt *st, size_t i)
{
	return i < st->n &&
	       (st->t[i].kind == TK_WORD || st->t[i].kind == TK_QIDENT);
}

/* A qualified name from token i (a, "A", a.b, "s"."t"): its last token in
 * *last; -1 when token i does not start one. */
static int sql_name(const char *s, const struct sql_stmt *st, size_t i,
		    size_t *last)
{
	if (!is_name(st, i))
		return -1;
	*last = i;
	while (*last + 2 < st->n && st->t[*last + 1].kind == TK_PUNCT &&
	       s[st->t[*last + 1].off] == '.' && st->t[*last + 1].len == 1 &&
	       is_name(st, *last + 2))
		*last += 2;
	return 0;
}

/* DROP and ALTER name a kind of object in one to three words
 * ("materialized view", "foreign data wrapper"): the words after the
 * first, by the word before. */
static const char *const type_pairs[][2] = {
	{"materialized", "view"},   {"foreign", "table"},
	{"foreign", "data"},	    {"data", "wrapper"},
	{"text", "search"},	    {"search", "configuration"},
	{"search", "dictionary"},   {"search", "parser"},
	{"search", "template"},	    {"event", "trigger"},
	{"procedural", "language"}, {"access", "method"},
	{"operator", "class"},	    {"operator", "family"},
	{"user", "mapping"},	    {"owned", "by"},
	{"default", "privileges"},  {"large", "object"},
};

/* The kind of object from token i ("table", "materialized view") into
 * buf; returns the index after it and after IF EXISTS, CONCURRENTLY and
 * ONLY. */
static size_t sql_type(const struct sql_stmt *st, size_t i, char *buf, size_t n)
{
	buf[0] = 0;
	if (i >= st->n || st->t[i].kind != TK_WORD)
		return i;
	snprintf(buf, n, "%s", st->t[i].word);
	for (i++; i < st->n; i++) {
		bool more = false;

		for (size_t k = 0; k < sizeof(type_pairs) / sizeof(*type_pairs);
		     k++)
			if (tw(st, i - 1, type_pairs[k][0]) &&
			    tw(st, i, type_pairs[k][1]))
				more = true;
		if (!more)
			break;
		snprintf(buf + strlen(buf), n - strlen(buf), " %s",
			 st->t[i].word);
	}
	for (;;) {
		if (tw(st, i, "if") && tw(st, i + 1, "exists"))
			i += 2;
		else if (tw(st, i, "concurrently") || tw(st, i, "only"))
			i++;
		else
			return i;
	}
}

/* Is there a WHERE at the depth of token v, before its parentheses
 * close? */
static bool sql_has_where(const struct sql_stmt *st, size_t v)
{
	int d = st->t[v].depth;

	for (size_t j = v + 1; j < st->n && st->t[j].depth >= d; j++)
		if (st->t[j].depth == d && tw(st, j, "where"))
			return true;
	return false;
}

static void sql_flag(json_t *flags, const char *what, const char *target)
{
	json_array_append_new(flags, json_pack("{s:s,s:s}", "what", what,
					       "target", target ? target : ""));
}

/* A word of the body of a DO block that changes things. */
static bool do_body_writes(const char *s, size_t off, size_t len)
{
	static const char *const words[] = {"drop",   "truncate", "delete",
					    "update", "alter",	  "execute",
					    NULL};

	for (size_t i = off; i < off + len;) {
		size_t j = i;
		char w[16];

		while (j < off + len &&
		       (isalnum((unsigned char)s[j]) || s[j] == '_'))
			j++;
		if (j == i) {
			i++;
			continue;
		}
		if (j - i < sizeof(w)) {
			for (size_t k = 0; k < j - i; k++)
				w[k] = (char)tolower((unsigned char)s[i + k]);
			w[j - i] = 0;
			for (const char *const *x = words; *x; x++)
				if (!strcmp(w, *x))
					return true;
		}
		i = j;
	}
	return false;
}

/* What the statement verb at token v does that cannot be undone. */
static void sql_check_verb(const char *s, const struct sql_stmt *st, size_t v,
			   json_t *flags)
{
	static const char *const trunc_end[] = {"restart", "continue",
						"cascade", "restrict", NULL};
	char type[96], *name = NULL, target[400];
	size_t j, last;

	if (tw(st, v, "drop")) {
		j = sql_type(st, v + 1, type, sizeof(type));
		last = st->n - 1;
		if (last > j && tw_any(st, last, trunc_end + 2))
			last--;
		name = j < st->n && j <= last ? tok_text(s, st, j, last, 200)
					      : NULL;
		snprintf(target, sizeof(target), "%s%s%s", type,
			 name ? " " : "", name ? name : "");
		sql_flag(flags, "drop", target);
	} else if (tw(st, v, "truncate")) {
		j = v + 1;
		if (tw(st, j, "table"))
			j++;
		if (tw(st, j, "only"))
			j++;
		for (last = j;
		     last + 1 < st->n && !tw_any(st, last + 1, trunc_end);
		     last++)
			;
		name = j < st->n ? tok_text(s, st, j, last, 200) : NULL;
		snprintf(target, sizeof(target), "table %s", name ? name : "");
		sql_flag(flags, "truncate", target);
	} else if (tw(st, v, "delete") || tw(st, v, "update")) {
		bool del = tw(st, v, "delete");

		if (sql_has_where(st, v))
			return;
		j = v + 1;
		if (del && tw(st, j, "from"))
			j++;
		if (tw(st, j, "only"))
			j++;
		if (sql_name(s, st, j, &last) == 0)
			name = tok_text(s, st, j, last, 200);
		snprintf(target, sizeof(target), "table %s", name ? name : "?");
		sql_flag(flags,
			 del ? "delete without where" : "update without where",
			 target);
	} else if (tw(st, v, "alter")) {
		bool drop = false;

		for (j = v + 1; j < st->n; j++)
			if (st->t[j].depth == st->t[v].depth &&
			    tw(st, j, "drop"))
				drop = true;
		if (!drop)
			return;
		j = sql_type(st, v + 1, type, sizeof(type));
		if (sql_name(s, st, j, &last) == 0)
			name = tok_text(s, st, j, last, 200);
		snprintf(target, sizeof(target), "%s%s%s", type,
			 name ? " " : "", name ? name : "");
		sql_flag(flags, "alter drop", target);
	} else if (tw(st, v, "do")) {
		for (j = v + 1; j < st->n; j++)
			if (st->t[j].kind == TK_STRING &&
			    do_body_writes(s, st->t[j].off, st->t[j].len)) {
				sql_flag(flags, "do block", "do block");
				break;
			}
	}
	free(name);
}

static const char *const sql_verbs[] = {"select", "insert", "update",
					"delete", "merge",  NULL};

/* The flags of one statement: its verb, EXPLAIN ANALYZE's statement (the
 * others are not run), and in WITH the data-changing parts. */
static void sql_classify(const char *s, const struct sql_stmt *st,
			 json_t *flags)
{
	size_t v = 0;

	if (!st->n)
		return;
	if (tw(st, 0, "explain")) {
		bool analyze = false;

		v = 1;
		if (v < st->n && st->t[v].kind == TK_OPEN) {
			for (v++; v < st->n && st->t[v].depth > 0; v++)
				if (tw(st, v, "analyze") ||
				    tw(st, v, "analyse"))
					analyze = true;
			v++; /* the closing parenthesis */
		}
		while (tw(st, v, "analyze") || tw(st, v, "analyse") ||
		       tw(st, v, "verbose")) {
			analyze = analyze || !tw(st, v, "verbose");
			v++;
		}
		if (!analyze || v >= st->n)
			return;
	}
	if (!tw(st, v, "with")) {
		sql_check_verb(s, st, v, flags);
		return;
	}
	for (size_t i = v + 1; i < st->n; i++) {
		if (st->t[i - 1].kind == TK_OPEN &&
		    (tw(st, i, "delete") || tw(st, i, "update")))
			sql_check_verb(s, st, i, flags);
		else if (st->t[i - 1].kind == TK_CLOSE &&
			 st->t[i].depth == st->t[v].depth &&
			 tw_any(st, i, sql_verbs)) {
			sql_check_verb(s, st, i, flags);
			break;
		}
	}
}

/* The statement so far as an entry of L->out (flagged with what, too,
 * when not NULL: "gexec"); empties st. */
static void sql_finish(struct sql_lex *L, const char *s, struct sql_stmt *st,
		       const char *what)
{
	json_t *o, *flags;
	char *text;

	if (!st->n || st->failed)
		goto out;
	text = tok_text(s, st, 0, st->n - 1, 4096);
	flags = json_array();
	o = json_object();
	if (!text || !flags || !o) {
		free(text);
		json_decref(flags);
		json_decref(o);
		st->failed = true;
		goto out;
	}
	sql_classify(s, st, flags);
	if (what) {
		char *shown = tok_text(s, st, 0, st->n - 1, 200);

		sql_flag(flags, what, shown ? shown : "");
		free(shown);
	}
	json_object_set_new(o, "sql", json_string(text));
	if (json_array_size(flags))
		json_object_set(o, "flags", flags);
	json_decref(flags);
	json_array_append_new(L->out, o);
	free(text);
out:
	st->n = 0;
	st->words = st->begin_depth = 0;
	memset(st->ids, 0, sizeof(st->ids));
}

static bool ident_start(char ch)
{
	return isalpha((unsigned char)ch) || ch == '_' || (ch & 0x80);
}

static bool ident_char(char ch)
{
	return ident_start(ch) || isdigit((unsigned char)ch) || ch == '$';
}

/* The end of a quoted text that starts at s[i] (the quote), doubled quotes
 * inside; with backslash escapes too for E'...'. */
static size_t sql_quoted(const char *s, size_t len, size_t i, bool esc)
{
	char q = s[i];

	for (i++; i < len; i++) {
		if (esc && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return len;
}

static int sql_lex_text(struct sql_lex *L, const char *s, size_t len,
			const char *dir, int nest, bool file);

/* \i FILE, \ir FILE: the file's statements, in place. */
static int sql_include(struct sql_lex *L, const char *arg, size_t alen,
		       const char *dir, bool relative, int nest)
{
	char *name, *path = NULL, *text = NULL, *d;
	size_t len;
	json_t *fp;
	int rc = -1;

	while (alen && isspace((unsigned char)*arg)) {
		arg++;
		alen--;
	}
	while (alen && isspace((unsigned char)arg[alen - 1]))
		alen--;
	if (alen >= 2 && arg[0] == '\'' && arg[alen - 1] == '\'') {
		arg++;
		alen -= 2;
	}
	name = strndup(arg, alen);
	if (!name)
		return oom(L->err);
	if (nest >= NEST_MAX) {
		err_set(L->err, SD_EXIT_SAFERUN,
			"psql: '\\i %s' nests more than %d deep", name,
			NEST_MAX);
		goto out;
	}
	if (!*name || !strcmp(name, "-")) {
		err_set(L->err, SD_EXIT_SAFERUN,
			"psql: '\\i' of standard input cannot be planned");
		goto out;
	}
	path = absolute(relative ? dir : L->cwd, name);
	if (!path) {
		oom(L->err);
		goto out;
	}
	if (fs_read_file(path, SQL_MAX, &text, &len, L->err) < 0)
		goto out;
	fp = fprint_path(path, false, L->err);
	if (!fp)
		goto out;
	json_array_append_new(L->files, fp);
	if (L->md) {
		EVP_DigestUpdate(L->md, "i", 2);
		EVP_DigestUpdate(L->md, path, strlen(path) + 1);
		EVP_DigestUpdate(L->md, text, len + 1);
	}
	d = strdup(path);
	if (!d) {
		oom(L->err);
		goto out;
	}
	*strrchr(d, '/') = 0;
	rc = sql_lex_text(L, text, len, *d ? d : "/", nest + 1, true);
	free(d);
out:
	free(name);
	free(path);
	free(text);
	return rc;
}

/* Whether text holds the word a, later followed by the word b (case
 * insensitive): "from" ... "stdin". */
static bool words_in(const char *text, size_t len, const char *a, const char *b)
{
	bool seen_a = false;

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len &&
		       (isalnum((unsigned char)text[j]) || text[j] == '_'))
			j++;
		if (j == i) {
			i++;
			continue;
		}
		if (!seen_a && j - i == strlen(a) &&
		    !strncasecmp(text + i, a, j - i))
			seen_a = true;
		else if (seen_a && j - i == strlen(b) &&
			 !strncasecmp(text + i, b, j - i))
			return true;
		i = j;
	}
	return false;
}

/* COPY ... FROM STDIN: in a file, its data follows, up to a line "\.". */
static bool copy_from_stdin(const struct sql_stmt *st)
{
	if (!tw(st, 0, "copy"))
		return false;
	for (size_t i = 1; i + 1 < st->n; i++)
		if (st->t[i].depth == 0 && tw(st, i, "from") &&
		    tw(st, i + 1, "stdin"))
			return true;
	return false;
}

/* The index after the data of COPY FROM STDIN that starts on the line
 * after i: after its "\." line, or the end. */
static size_t skip_copy_data(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '\n')
		i++;
	while (i < len) {
		size_t line = i + 1, end = line;

		while (end < len && s[end] != '\n')
			end++;
		if (end - line >= 2 && s[line] == '\\' && s[line + 1] == '.' &&
		    (end - line == 2 ||
		     (end - line == 3 && s[line + 2] == '\r')))
			return end;
		i = end;
	}
	return len;
}

/* A backslash command at s[i]: acts on the statement so far (\g sends it,
 * \r drops it) and returns the index after it. */
static int sql_meta(struct sql_lex *L, const char *s, size_t len, size_t *pos,
		    struct sql_stmt *st, const char *dir, int nest, bool file)
{
	size_t start = *pos, i = start + 1, name_end, end;
	char name[32];
	json_t *o;
	char *text;

	if (i < len && isalpha((unsigned char)s[i]))
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
			i++;
	else if (i < len)
		i++;
	name_end = i;
	snprintf(name, sizeof(name), "%.*s", (int)(name_end - start - 1),
		 s + start + 1);
	/* Its arguments: to the end of the line, or to "\\". */
	for (end = name_end; end < len && s[end] != '\n'; end++)
		if (s[end] == '\\' && end + 1 < len && s[end + 1] == '\\')
			break;
	*pos = end < len && s[end] == '\\' ? end + 2 : end;
	if (!strcmp(name, "g") || !strcmp(name, "gx") ||
	    !strcmp(name, "gset") || !strcmp(name, "gdesc") ||
	    !strcmp(name, "watch") || !strcmp(name, "crosstabview")) {
		sql_finish(L, s, st, NULL);
	} else if (!strcmp(name, "gexec")) {
		sql_finish(L, s, st, "gexec");
	} else if (!strcmp(name, "r") || !strcmp(name, "reset")) {
		st->n = 0;
	} else {
		sql_finish(L, s, st, NULL);
	}
	text = sql_text(s, start, end, 4096);
	if (!text)
		return oom(L->err);
	o = json_pack("{s:s,s:b}", "sql", text, "meta", 1);
	free(text);
	if (!o)
		return oom(L->err);
	if (!strcmp(name, "!")) {
		char *shown = sql_text(s, name_end, end, 200), *t = NULL;

		if (asprintf(&t, "shell: %s", shown ? shown : "") < 0)
			t = NULL;
		json_object_set_new(o, "flags",
				    json_pack("[{s:s,s:s}]", "what",
					      "shell command", "target",
					      t ? t : "shell"));
		free(t);
		free(shown);
	}
	json_array_append_new(L->out, o);
	/* \copy ... from stdin: the data follows in the file. */
	if (file && !strcmp(name, "copy") &&
	    words_in(s + name_end, end - name_end, "from", "stdin"))
		*pos = skip_copy_data(s, len, *pos);
	if (!strcmp(name, "i") || !strcmp(name, "include") ||
	    !strcmp(name, "ir") || !strcmp(name, "include_relative"))
		return sql_include(L, s + name_end, end - name_end, dir,
				   name[1] == 'r' ||
					   !strcmp(name, "include_relative"),
				   nest);
	return 0;
}

static int sql_lex_text(struct sql_lex *L, const char *s, size_t len,
			const char *dir, int nest, bool file)
{
	struct sql_stmt st = {0};
	int depth = 0, rc = 0;
	size_t i = 0;

	while (i < len && rc == 0) {
		char ch = s[i];
		size_t j;

		if (isspace((unsigned char)ch)) {
			i++;
		} else if (ch == '-' && i + 1 < len && s[i + 1] == '-') {
			while (i < len && s[i] != '\n')
				i++;
		} else if (ch == '/' && i + 1 < len && s[i + 1] == '*') {
			int level = 0;

			for (; i < len; i++) {
				if (s[i] == '/' && i + 1 < len &&
				    s[i + 1] == '*') {
					level++;
					i++;
				} else if (s[i] == '*' && i + 1 < len &&
					   s[i + 1] == '/') {
					i++;
					if (--level == 0) {
						i++;
						break;
					}
				}
			}
		} else if (ch == '\'' || ch == '"') {
			j = sql_quoted(s, len, i, false);
			tok_add(&st, ch == '"' ? TK_QIDENT : TK_STRING, i,
				j - i, depth, s);
			i = j;
		} else if (ch == '$' && i + 1 < len &&
			   (s[i + 1] == '$' || ident_start(s[i + 1]))) {
			/* $tag$ ... $tag$; else a positional $1 or punct. */
			size_t t = i + 1;

			while (t < len && s[t] != '$' &&
			       (isalnum((unsigned char)s[t]) || s[t] == '_' ||
				(s[t] & 0x80)))
				t++;
			if (t < len && s[t] == '$') {
				size_t tag = t + 1 - i;
				const char *close = NULL;

				for (j = t + 1; j + tag <= len; j++)
					if (s[j] == '$' &&
					    !memcmp(s + j, s + i, tag)) {
						close = s + j;
						break;
					}
				j = close ? (size_t)(close - s) + tag : len;
				tok_add(&st, TK_STRING, i, j - i, depth, s);
				i = j;
			} else {
				tok_add(&st, TK_PUNCT, i, 1, depth, s);
				i++;
			}
		} else if (ident_start(ch)) {
			for (j = i; j < len && ident_char(s[j]); j++)
				;
			if (j == i + 1 && (ch == 'e' || ch == 'E') && j < len &&
			    s[j] == '\'') {
				j = sql_quoted(s, len, j, true);
				tok_add(&st, TK_STRING, i, j - i, depth, s);
				i = j;
				continue;
			}
			tok_add(&st, TK_WORD, i, j - i, depth, s);
			i = j;
			if (st.failed)
				break;
			/* psql: in CREATE [OR REPLACE] FUNCTION|PROCEDURE,
			 * BEGIN ... END (and CASE within) hold semicolons. */
			{
				const char *w = st.t[st.n - 1].word;

				if (st.words < 4 &&
				    (!strcmp(w, "create") ||
				     !strcmp(w, "function") ||
				     !strcmp(w, "procedure") ||
				     !strcmp(w, "or") || !strcmp(w, "replace")))
					st.ids[st.words] = w[0];
				st.words++;
				if (st.ids[0] == 'c' &&
				    (st.ids[1] == 'f' || st.ids[1] == 'p' ||
				     (st.ids[1] == 'o' && st.ids[2] == 'r' &&
				      (st.ids[3] == 'f' ||
				       st.ids[3] == 'p'))) &&
				    depth == 0) {
					if (!strcmp(w, "begin"))
						st.begin_depth++;
					else if (!strcmp(w, "case") &&
						 st.begin_depth >= 1)
						st.begin_depth++;
					else if (!strcmp(w, "end") &&
						 st.begin_depth > 0)
						st.begin_depth--;
				}
			}
		} else if (isdigit((unsigned char)ch)) {
			for (j = i; j < len && (isalnum((unsigned char)s[j]) ||
						s[j] == '.' || s[j] == '_');
			     j++)
				;
			tok_add(&st, TK_PUNCT, i, j - i, depth, s);
			i = j;
		} else if (ch == '(') {
			tok_add(&st, TK_OPEN, i, 1, depth++, s);
			i++;
		} else if (ch == ')') {
			if (depth > 0)
				depth--;
			tok_add(&st, TK_CLOSE, i, 1, depth, s);
			i++;
		} else if (ch == ';' && depth == 0 && st.begin_depth == 0) {
			bool copy = file && copy_from_stdin(&st);

			sql_finish(L, s, &st, NULL);
			i++;
			if (copy)
				i = skip_copy_data(s, len, i);
		} else if (ch == '\\') {
			rc = sql_meta(L, s, len, &i, &st, dir, nest, file);
			depth = 0;
		} else {
			tok_add(&st, TK_PUNCT, i, 1, depth, s);
			i++;
		}
		if (st.failed)
			rc = oom(L->err);
	}
	if (rc == 0)
		sql_finish(L, s, &st, NULL);
	free(st.t);
	return rc;
}

json_t *remote_sql_statements(const char *sql, size_t len, const char *origin,
			      struct sd_err *err)
{
	char cwd[PATH_MAX];
	struct sql_lex L = {
		.out = json_array(), .files = json_array(), .err = err};

	L.cwd = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	if (!L.out || !L.files ||
	    sql_lex_text(&L, sql, len, L.cwd, 0,
			 origin && strcmp(origin, "-c")) < 0) {
		if (!L.out || !L.files)
			oom(err);
		json_decref(L.out);
		json_decref(L.files);
		return NULL;
	}
	json_decref(L.files);
	return L.out;
}

/* psql's -c and -f, in order, as {"c": SQL} and {"f": FILE}. getopt's
 * rules: short options cluster ("-Xqc SQL", "-cSQL"), long ones take
 * "--file=F" or "--file F"; after "--" only operands. */
static json_t *psql_sources(const struct tool_ctx *c)
{
	static const char *const long_values[] = {
		"dbname",     "field-separator",
		"host",	      "log-file",
		"output",     "port",
		"pset",	      "record-separator",
		"table-attr", "username",
		"set",	      "variable",
		NULL};
	json_t *src = json_array();

	for (int i = 1; src && i < c->argc; i++) {
		const char *a = c->argv[i];

		if (!strcmp(a, "--"))
			break;
		if (starts_with(a, "--")) {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			const char *val = eq ? eq + 1 : NULL;
			bool is_c = n == 7 && !strncmp(a + 2, "command", 7);
			bool is_f = n == 4 && !strncmp(a + 2, "file", 4);

			if (is_c || is_f) {
				if (!val && i + 1 < c->argc)
					val = c->argv[++i];
				if (val)
					json_array_append_new(
						src, json_pack("{s:s}",
							       is_c ? "c" : "f",
							       val));
				continue;
			}
			for (const char *const *l = long_values; *l && !eq; l++)
				if (strlen(*l) == n && !strncmp(a + 2, *l, n)) {
					i++;
					break;
				}
			continue;
		}
		if (a[0] != '-' || !a[1])
			continue;
		for (const char *s = a + 1; *s; s++) {
			const char *val;

			if (!strchr("cdfFhLopPRTUv", *s))
				continue;
			val = s[1]		? s + 1
			      : i + 1 < c->argc ? c->argv[++i]
						: NULL;
			if (val && (*s == 'c' || *s == 'f'))
				json_array_append_new(
					src,
					json_pack("{s:s}",
						  *s == 'c' ? "c" : "f", val));
			break;
		}
	}
	return src;
}

static bool psql_matches(const struct tool_ctx *c)
{
	json_t *src = psql_sources(c);
	bool any = json_array_size(src) > 0;

	json_decref(src);
	return any;
}

static int psql_plan(const struct tool_ctx *c, struct tool_plan *p,
		     struct sd_err *err)
{
	char cwd[PATH_MAX], hex[65];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	json_t *src = psql_sources(c), *stmts = json_array(), *fp, *s;
	struct sql_lex L = {.out = stmts, .files = json_array(), .err = err};
	size_t i;

	L.md = EVP_MD_CTX_new();
	L.cwd = c->cwd ? c->cwd : getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	if (!src || !stmts || !L.files || !L.md ||
	    !EVP_DigestInit_ex(L.md, EVP_sha256(), NULL) ||
	    plan_init(p, FIDELITY_PREVIEW, err) < 0) {
		oom(err);
		goto fail;
	}
	json_array_foreach(src, i, s)
	{
		const char *sql = jstr(s, "c"), *file = jstr(s, "f");
		char *text = NULL, *path = NULL, *dir;
		size_t len;
		int rc;

		if (sql) {
			EVP_DigestUpdate(L.md, "c", 2);
			EVP_DigestUpdate(L.md, sql, strlen(sql) + 1);
			if (sql_lex_text(&L, sql, strlen(sql), L.cwd, 0,
					 false) < 0)
				goto fail;
			continue;
		}
		if (!strcmp(file, "-")) {
			err_set(err, SD_EXIT_SAFERUN,
				"psql: SQL from standard input ('-f -') cannot "
				"be planned");
			goto fail;
		}
		path = absolute(L.cwd, file);
		if (!path ||
		    fs_read_file(path, SQL_MAX, &text, &len, err) < 0) {
			if (!path)
				oom(err);
			free(path);
			goto fail;
		}
		fp = fprint_path(path, false, err);
		if (fp)
			json_array_append_new(L.files, fp);
		EVP_DigestUpdate(L.md, "f", 2);
		EVP_DigestUpdate(L.md, path, strlen(path) + 1);
		EVP_DigestUpdate(L.md, text, len + 1);
		dir = strrchr(path, '/');
		*dir = 0;
		rc = fp ? sql_lex_text(&L, text, len, *path ? path : "/", 0,
				       true)
			: -1;
		free(text);
		free(path);
		if (rc < 0)
			goto fail;
	}
	EVP_DigestFinal_ex(L.md, md, &mdlen);
	for (unsigned k = 0; k < mdlen && k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", md[k]);
	{
		json_t *list = json_array(), *flags, *f;
		size_t k;

		json_array_foreach(stmts, i, s)
		{
			json_array_append_new(list,
					      json_string(jstr(s, "sql")));
			flags = json_object_get(s, "flags");
			json_array_foreach(flags, k, f)
			{
				const char *t = jstr(f, "target");
				char *shown =
					sql_text(jstr(s, "sql"), 0,
						 strlen(jstr(s, "sql")), 200);

				if (add_object(p, t && *t ? t : jstr(f, "what"),
					       shown, err) < 0) {
					free(shown);
					json_decref(list);
					goto fail;
				}
				free(shown);
			}
		}
		json_object_set_new(p->facts, "statements", list);
	}
	p->always_confirm = p->effects.n > 0;
	fp = json_pack("{s:s,s:s}", "kind", "psql", "sql_sha256", hex);
	if (!fp) {
		oom(err);
		goto fail;
	}
	if (json_array_size(L.files) == 1)
		json_object_set(fp, "file", json_array_get(L.files, 0));
	else if (json_array_size(L.files) > 1)
		json_object_set(fp, "files", L.files);
	json_array_append_new(p->targets, fp);
	json_decref(src);
	json_decref(stmts);
	json_decref(L.files);
	EVP_MD_CTX_free(L.md);
	return 0;
fail:
	json_decref(src);
	json_decref(stmts);
	json_decref(L.files);
	EVP_MD_CTX_free(L.md);
	return plan_fail(p);
}

/* ------------------------------------------------------------------ */
/* kubectl delete, apply, replace: the server's dry run               */

/* Global flags that take a value, wherever they stand. */
static const struct flag kubectl_globals[] = {
	{"--as", true},
	{"--as-group", true},
	{"--as-uid", true},
	{"--cache-dir", true},
	{"--certificate-authority", true},
	{"--client-certificate", true},
	{"--client-key", true},
	{"--cluster", true},
	{"--context", true},
	{"--kubeconfig", true},
	{"--log-file", true},
	{"--log-file-max-size", true},
	{"-n", true},
	{"--namespace", true},
	{"--password", true},
	{"--profile", true},
	{"--profile-output", true},
	{"--request-timeout", true},
	{"-s", true},
	{"--server", true},
	{"--tls-server-name", true},
	{"--token", true},
	{"--user", true},
	{"--username", true},
	{"-v", true},
	{"--v", true},
	{"--vmodule", true},
	{NULL, false},
};

/* Not in the dry run: we choose the output, and nothing prompts. */
static const struct flag kubectl_not_dry[] = {
	{"-o", true},  {"--output", true},	 {"--dry-run", false},
	{"-i", false}, {"--interactive", false}, {NULL, false},
};

/* Delete's own flags, which get does not take. */
static const struct flag kubectl_delete_only[] = {
	{"-o", true},
	{"--output", true},
	{"--dry-run", false},
	{"-i", false},
	{"--interactive", false},
	{"--cascade", false},
	{"--force", false},
	{"--grace-period", true},
	{"--now", false},
	{"--wait", false},
	{"--timeout", true},
	{"--all", false},
	{"--raw", true},
	{NULL, false},
};

/* What kubectl diff shares with apply and replace (with the globals). */
static const struct flag kubectl_diff_keep[] = {
	{"-f", true},
	{"--filename", true},
	{"-k", true},
	{"--kustomize", true},
	{"-R", false},
	{"--recursive", false},
	{"-l", true},
	{"--selector", true},
	{"--prune", false},
	{"--prune-allowlist", true},
	{"--server-side", false},
	{"--field-manager", true},
	{"--force-conflicts", false},
	{NULL, false},
};

/* Copy argv[from..] into v without the flags in drop (and their values). */
static void copy_without(struct vec *v, char *const *argv, int argc, int from,
			 const struct flag *drop)
{
	for (int i = from; i < argc; i++) {
		int used;
		const char *val;

		if (!strcmp(argv[i], "--")) {
			for (; i < argc; i++)
				vec_add(v, argv[i]);
			return;
		}
		if (flag_at(argv, argc, i, drop, &used, &val) >= 0) {
			i += used - 1;
			continue;
		}
		vec_add(v, argv[i]);
	}
}

/* Copy only the flags in keep or keep2 (with their values). */
static void copy_only(struct vec *v, char *const *argv, int argc, int from,
		      const struct flag *keep, const struct flag *keep2)
{
	for (int i = from; i < argc; i++) {
		int used;
		const char *val;

		if (!strcmp(argv[i], "--"))
			return;
		if (flag_at(argv, argc, i, keep, &used, &val) < 0 &&
		    flag_at(argv, argc, i, keep2, &used, &val) < 0)
			continue;
		for (int k = 0; k < used; k++)
			vec_add(v, argv[i + k]);
		i += used - 1;
	}
}

static int kubectl_sub(const struct tool_ctx *c)
{
	return first_word(c->argv, c->argc, 1, kubectl_globals);
}

static bool kubectl_matches(const struct tool_ctx *c)
{
	int sub = kubectl_sub(c);
	const char *verb;

	if (sub >= c->argc)
		return false;
	verb = c->argv[sub];
	if (strcmp(verb, "delete") && strcmp(verb, "apply") &&
	    strcmp(verb, "replace"))
		return false;
	/* apply view-last-applied and friends are not apply. */
	if (!strcmp(verb, "apply") && sub + 1 < c->argc &&
	    strstr(c->argv[sub + 1], "-last-applied"))
		return false;
	/* Already a dry run: harmless. */
	for (int i = sub + 1; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--dry-run") ||
		    (starts_with(a, "--dry-run=") && strcmp(a + 10, "none") &&
		     strcmp(a + 10, "false")))
			return false;
	}
	return true;
}

/* kubectl -o name: "kind.group/name" a line ("No resources found" when
 * none); anything else is not understood. */
int remote_kubectl_names(const char *out, json_t *names, struct sd_err *err)
{
	for (const char *l = out; l && *l;) {
		char line[1024];
		const char *slash;
		size_t kind;

		line_copy(line, sizeof(line), l);
		l += strcspn(l, "\n");
		if (*l)
			l++;
		if (!*line || starts_with(line, "No resources found"))
			continue;
		slash = strchr(line, '/');
		kind = slash ? (size_t)(slash - line) : 0;
		if (!kind ||
		    strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
			    kind ||
		    !slash[1] || strpbrk(slash + 1, " \t"))
			return err_set(err, SD_EXIT_SAFERUN,
				       "cannot parse kubectl's dry run: '%s'",
				       line);
		json_array_append_new(names, json_string(line));
	}
	return 0;
}

/* kubectl diff's file names are "group.version.Kind.namespace.name"
 * ("apps.v1.Deployment.default.web", "v1.Namespace..prod"): the name in
 * kubectl's -o name form ("deployment.apps/web") into key. */
static int diff_key(const char *file, char *key, size_t n)
{
	const char *p = file, *ver = NULL, *kind = NULL;

	/* The version: v1, v1beta2, followed by a Kind in capitals. */
	for (const char *s = p, *e; (e = strchr(s, '.')); s = e + 1) {
		size_t len = (size_t)(e - s), k = 1;

		if (s[0] != 'v' || len < 2 || !isdigit((unsigned char)s[1]))
			continue;
		while (k < len && isdigit((unsigned char)s[k]))
			k++;
		if (k < len && (!strncmp(s + k, "alpha", 5) ||
				!strncmp(s + k, "beta", 4))) {
			k += s[k] == 'a' ? 5 : 4;
			while (k < len && isdigit((unsigned char)s[k]))
				k++;
		}
		if (k == len && isupper((unsigned char)e[1])) {
			ver = s;
			kind = e + 1;
			break;
		}
	}
	if (!ver) {
		return -1;
	} else {
		const char *kend = strchr(kind, '.'), *ns, *name;
		size_t o = 0;

		if (!kend)
			return -1;
		ns = kend + 1;
		name = strchr(ns, '.');
		if (!name || !name[1])
			return -1;
		name++;
		for (const char *s = kind; s < kend && o + 1 < n; s++)
			key[o++] = (char)tolower((unsigned char)*s);
		if (ver > p && o + 1 < n) {
			key[o++] = '.';
			for (const char *s = p; s < ver - 1 && o + 1 < n; s++)
				key[o++] = *s;
		}
		snprintf(key + o, n - o, "/%s", name);
	}
	return 0;
}

/* kubectl diff (diff -u -N): for each object, "create" (the live side is
 * empty), "delete" (the merged side is: --prune) or "update", in changes
 * by kubectl's name for it. */
int remote_kubectl_diff(const char *diff, json_t *changes, struct sd_err *err)
{
	char key[1024] = "";
	bool first_hunk = false;

	for (const char *l = diff; l && *l;) {
		char line[1024];

		line_copy(line, sizeof(line), l);
		l += strcspn(l, "\n");
		if (*l)
			l++;
		if (!*line || starts_with(line, "diff ") ||
		    starts_with(line, "--- ") || line[0] == ' ' ||
		    line[0] == '\\' ||
		    ((line[0] == '+' || line[0] == '-') &&
		     !starts_with(line, "+++ ")))
			continue;
		if (starts_with(line, "+++ ")) {
			char file[1024];
			const char *b;

			snprintf(file, sizeof(file), "%s", line + 4);
			file[strcspn(file, "\t")] = 0;
			b = base_name(file);
			if (diff_key(b, key, sizeof(key)) < 0)
				return err_set(err, SD_EXIT_SAFERUN,
					       "cannot parse kubectl's diff: "
					       "'%s'",
					       line);
			first_hunk = true;
			continue;
		}
		if (starts_with(line, "@@ ") && *key) {
			const char *what;

			if (!first_hunk)
				continue;
			first_hunk = false;
			if (!starts_with(line, "@@ -") || !strstr(line, " +"))
				return err_set(err, SD_EXIT_SAFERUN,
					       "cannot parse kubectl's diff: "
					       "'%s'",
					       line);
			what = strstr(line, " -0,0 ")	? "create"
			       : strstr(line, " +0,0 ") ? "delete"
							: "update";
			json_object_set_new(changes, key, json_string(what));
			continue;
		}
		return err_set(err, SD_EXIT_SAFERUN,
			       "cannot parse kubectl's diff: '%s'", line);
	}
	return 0;
}

/* "apps/v1" and "Deployment" and "web" as kubectl names it:
 * "deployment.apps/web". */
static char *kube_key(const char *api, const char *kind, const char *name)
{
	const char *slash = api ? strchr(api, '/') : NULL;
	char *k = NULL, *lower = strdup(kind);

	if (!lower)
		return NULL;
	for (char *s = lower; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	if (asprintf(&k, "%s%s%.*s/%s", lower, slash ? "." : "",
		     slash ? (int)(slash - api) : 0, slash ? api : "",
		     name) < 0)
		k = NULL;
	free(lower);
	return k;
}

/* kubectl get -o json (a List, or one object): each object's key,
 * namespace, uid and resourceVersion. */
json_t *remote_kubectl_objects(const char *json, struct sd_err *err)
{
	json_error_t je;
	json_t *doc = json_loads(json, 0, &je), *items, *out, *o;
	size_t i;

	if (!doc) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot parse kubectl get's output: %s (line %d)",
			je.text, je.line);
		return NULL;
	}
	items = json_object_get(doc, "items");
	if (!json_is_array(items)) {
		items = json_array();
		json_array_append(items, doc);
	} else {
		json_incref(items);
	}
	out = json_array();
	json_array_foreach(items, i, o)
	{
		json_t *meta = json_object_get(o, "metadata");
		const char *kind = jstr(o, "kind"), *name = jstr(meta, "name");
		const char *uid = jstr(meta, "uid");
		const char *rv = jstr(meta, "resourceVersion");
		const char *ns = jstr(meta, "namespace");
		char *key;

		if (!kind || !name || !uid || !rv) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot parse kubectl get's output: object %zu "
				"has no kind, name, uid or resourceVersion",
				i + 1);
			json_decref(out);
			out = NULL;
			break;
		}
		key = kube_key(jstr(o, "apiVersion"), kind, name);
		json_array_append_new(out,
				      json_pack("{s:s,s:s,s:s,s:s}", "key",
						key ? key : name, "namespace",
						ns ? ns : "", "uid", uid,
						"resourceVersion", rv));
		free(key);
	}
	json_decref(items);
	json_decref(doc);
	return out;
}

/* -f - and --raw: no dry run can be made of them. */
static int kubectl_plannable(const struct tool_ctx *c, int sub,
			     struct sd_err *err)
{
	static const struct flag files[] = {{"-f", true},
					    {"--filename", true},
					    {"--raw", true},
					    {NULL, false}};

	for (int i = sub + 1; i < c->argc; i++) {
		const char *val;
		int used, k;

		if (!strcmp(c->argv[i], "--"))
			break;
		k = flag_at(c->argv, c->argc, i, files, &used, &val);
		if (k < 0)
			continue;
		if (k == 2)
			return err_set(err, SD_EXIT_SAFERUN,
				       "kubectl: '%s --raw' has no dry run",
				       c->argv[sub]);
		if (val && !strcmp(val, "-"))
			return err_set(err, SD_EXIT_SAFERUN,
				       "kubectl: objects from standard input "
				       "('-f -') cannot be planned");
		i += used - 1;
	}
	return 0;
}

static void free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

static int kubectl_plan(const struct tool_ctx *c, struct tool_plan *p,
			struct sd_err *err)
{
	int sub = kubectl_sub(c);
	const char *verb = c->argv[sub];
	bool del = !strcmp(verb, "delete");
	struct vec v = {0};
	char **dry = NULL, **more = NULL, hex[65];
	json_t *names = json_array(), *objects = NULL, *changes = NULL;
	json_t *fp, *n;
	struct run r = {0};
	size_t i;

	if (!names || plan_init(p, FIDELITY_NATIVE, err) < 0) {
		oom(err);
		goto fail;
	}
	if (kubectl_plannable(c, sub, err) < 0)
		goto fail;
	for (int k = 0; k <= sub; k++)
		vec_add(&v, c->argv[k]);
	vec_add(&v, "--dry-run=server");
	vec_add(&v, "-o");
	vec_add(&v, "name");
	copy_without(&v, c->argv, c->argc, sub + 1, kubectl_not_dry);
	if (!(dry = vec_take(&v))) {
		oom(err);
		goto fail;
	}
	if (run_cmd(c, p, dry, &r, err) < 0)
		goto fail;
	if (r.code) {
		run_failed(err, "kubectl's dry run", dry, &r);
		goto fail;
	}
	if (remote_kubectl_names(r.out, names, err) < 0)
		goto fail;
	sha256_lines(r.out, hex);
	run_free(&r);
	fp = json_pack("{s:s,s:s}", "kind", "kubectl", "dry_run_sha256", hex);
	if (!fp) {
		oom(err);
		goto fail;
	}
	json_array_append_new(p->targets, fp);

	/* What a delete removes, as the server has it now: uid and
	 * resourceVersion of each object, bound to the plan. */
	for (int k = 0; k < sub; k++)
		vec_add(&v, c->argv[k]);
	if (del) {
		vec_add(&v, "get");
		copy_without(&v, c->argv, c->argc, sub + 1,
			     kubectl_delete_only);
		vec_add(&v, "-o");
		vec_add(&v, "json");
	} else {
		vec_add(&v, "diff");
		copy_only(&v, c->argv, c->argc, sub + 1, kubectl_diff_keep,
			  kubectl_globals);
	}
	if (!(more = vec_take(&v))) {
		oom(err);
		goto fail;
	}
	if (del) {
		if (run_cmd(c, p, more, &r, err) < 0)
			goto fail;
		if (r.code) {
			run_failed(
				err,
				"reading the objects to delete (kubectl get)",
				more, &r);
			goto fail;
		}
		objects = remote_kubectl_objects(r.out, err);
		run_free(&r);
		if (!objects)
			goto fail;
		json_object_set(fp, "objects", objects);
		json_object_set(p->facts, "objects", objects);
		json_array_foreach(names, i, n)
		{
			const char *name = json_string_value(n), *ns = NULL;
			char detail[300];
			size_t k;
			json_t *o;

			json_array_foreach(objects, k, o)
			{
				if (!strcmp(jstr(o, "key"), name))
					ns = jstr(o, "namespace");
			}
			if (!ns) {
				err_set(err, SD_EXIT_SAFERUN,
					"kubectl get did not list '%s', which "
					"the dry run deletes",
					name);
				goto fail;
			}
			snprintf(detail, sizeof(detail),
				 "delete (server dry run%s%s%s)",
				 *ns ? ", namespace " : "", ns,
				 starts_with(name, "namespace/")
					 ? ", with every object in it"
					 : "");
			if (add_object(p, name, detail, err) < 0)
				goto fail;
		}
	} else {
		const char *old = getenv("KUBECTL_EXTERNAL_DIFF");
		char *saved = old ? strdup(old) : NULL;
		json_t *unchanged = json_array();
		const char *key;
		json_t *val;
		int rc;

		/* One diff format to parse, whatever the user's is. */
		setenv("KUBECTL_EXTERNAL_DIFF", "diff -u -N", 1);
		rc = run_cmd(c, p, more, &r, err);
		if (saved)
			setenv("KUBECTL_EXTERNAL_DIFF", saved, 1);
		else
			unsetenv("KUBECTL_EXTERNAL_DIFF");
		free(saved);
		if (rc < 0 || !unchanged) {
			json_decref(unchanged);
			if (rc == 0)
				oom(err);
			goto fail;
		}
		json_object_set_new(p->facts, "unchanged", unchanged);
		/* 0: no differences, 1: some, more: it failed. */
		if (r.code > 1) {
			run_failed(err, "kubectl diff", more, &r);
			goto fail;
		}
		changes = json_object();
		if (!changes || remote_kubectl_diff(r.out, changes, err) < 0) {
			run_free(&r);
			goto fail;
		}
		json_object_set_new(
			p->facts, "diff",
			json_stringn(r.out, strlen(r.out) > (1u << 20)
						    ? (1u << 20)
						    : strlen(r.out)));
		run_free(&r);
		json_array_foreach(names, i, n)
		{
			const char *name = json_string_value(n);
			const char *what = jstr(changes, name);
			char detail[300];

			if (!what) {
				json_array_append_new(unchanged,
						      json_string(name));
				continue;
			}
			snprintf(detail, sizeof(detail), "%s (server dry run)",
				 what);
			if (add_object(p, name, detail, err) < 0)
				goto fail;
			json_object_del(changes, name);
		}
		/* What the diff shows beyond the dry run's list: pruned. */
		json_object_foreach(changes, key, val)
		{
			char detail[300];

			snprintf(detail, sizeof(detail), "%s (kubectl diff)",
				 json_string_value(val));
			if (add_object(p, key, detail, err) < 0)
				goto fail;
		}
	}
	json_decref(names);
	json_decref(objects);
	json_decref(changes);
	free_argv(dry);
	free_argv(more);
	return 0;
fail:
	run_free(&r);
	vec_free(&v);
	json_decref(names);
	json_decref(objects);
	json_decref(changes);
	free_argv(dry);
	free_argv(more);
	return plan_fail(p);
}

/* ------------------------------------------------------------------ */
/* helm uninstall: its --dry-run prints what the real run prints, so the
 * plan is the release's manifest, each object of it deleted.         */

static const struct flag helm_values[] = {
	{"-n", true},
	{"--namespace", true},
	{"--kube-context", true},
	{"--kubeconfig", true},
	{"--kube-apiserver", true},
	{"--kube-token", true},
	{"--kube-as-user", true},
	{"--kube-as-group", true},
	{"--kube-ca-file", true},
	{"--kube-tls-server-name", true},
	{"--burst-limit", true},
	{"--qps", true},
	{"--registry-config", true},
	{"--repository-cache", true},
	{"--repository-config", true},
	{"--content-cache", true},
	{"--cascade", true},
	{"--description", true},
	{"--timeout", true},
	{NULL, false},
};

/* uninstall's own flags, which get and status do not take. */
static const struct flag helm_uninstall_only[] = {
	{"--cascade", true},
	{"--description", true},
	{"--timeout", true},
	{"--dry-run", false},
	{"--ignore-not-found", false},
	{"--keep-history", false},
	{"--no-hooks", false},
	{"--wait", false},
	{NULL, false},
};

static int helm_sub(const struct tool_ctx *c)
{
	return first_word(c->argv, c->argc, 1, helm_values);
}

static bool has_flag(const struct tool_ctx *c, int from, const char *name)
{
	size_t n = strlen(name);

	for (int i = from; i < c->argc; i++) {
		if (!strcmp(c->argv[i], "--"))
			break;
		if (!strncmp(c->argv[i], name, n) &&
		    (!c->argv[i][n] || c->argv[i][n] == '='))
			return strcmp(c->argv[i] + n, "=false") != 0;
	}
	return false;
}

static bool helm_matches(const struct tool_ctx *c)
{
	int sub = helm_sub(c);
	const char *v;

	if (sub >= c->argc)
		return false;
	v = c->argv[sub];
	return (!strcmp(v, "uninstall") || !strcmp(v, "delete") ||
		!strcmp(v, "del") || !strcmp(v, "un")) &&
	       !has_flag(c, 1, "--dry-run");
}

/* One document's objects (a List's items) into out. */
static int helm_object(json_t *doc, size_t n, json_t *out, struct sd_err *err)
{
	json_t *meta = json_object_get(doc, "metadata");
	json_t *items = json_object_get(doc, "items");
	const char *kind = jstr(doc, "kind"), *name = jstr(meta, "name");
	const char *ns = jstr(meta, "namespace");
	const char *policy = jstr(json_object_get(meta, "annotations"),
				  "helm.sh/resource-policy");
	char *key;
	size_t i;
	json_t *it;

	if (kind && json_is_array(items) && strlen(kind) >= 4 &&
	    !strcmp(kind + strlen(kind) - 4, "List")) {
		json_array_foreach(items, i, it)
		{
			if (helm_object(it, n, out, err) < 0)
				return -1;
		}
		return 0;
	}
	if (!kind || !name)
		return err_set(err, SD_EXIT_SAFERUN,
			       "cannot parse helm's manifest: document %zu has "
			       "no kind or metadata.name",
			       n);
	key = kube_key(jstr(doc, "apiVersion"), kind, name);
	if (!key)
		return oom(err);
	json_array_append_new(out,
			      json_pack("{s:s,s:s,s:b}", "key", key,
					"namespace", ns ? ns : "", "keep",
					policy && !strcmp(policy, "keep")));
	free(key);
	return 0;
}

/* helm get manifest: YAML documents ("---" lines between them, "# Source:"
 * comments); each object as {"key": "deployment.apps/web", "namespace",
 * "keep": helm.sh/resource-policy is keep (uninstall leaves it)}. */
json_t *remote_helm_manifest(const char *text, struct sd_err *err)
{
	json_t *out = json_array();
	size_t ndoc = 0;
	const char *doc = text;

	if (!out) {
		oom(err);
		return NULL;
	}
	for (const char *l = text;;) {
		const char *next = l + strcspn(l, "\n");
		bool end = !*l;
		bool marker =
			!end &&
			(starts_with(l, "---") || starts_with(l, "...")) &&
			(l[3] == '\n' || l[3] == ' ' || l[3] == '\t' ||
			 l[3] == '\r' || !l[3]);

		if (end || marker) {
			json_t *val = NULL;
			char name[64];

			ndoc++;
			snprintf(name, sizeof(name), "manifest document %zu",
				 ndoc);
			if (yaml_to_json(doc, (size_t)(l - doc), name, NULL,
					 &val, NULL, err) < 0) {
				err_prefix(err, "cannot parse helm's manifest");
				json_decref(out);
				return NULL;
			}
			if (json_is_object(val) &&
			    helm_object(val, ndoc, out, err) < 0) {
				json_decref(val);
				json_decref(out);
				return NULL;
			}
			if (!json_is_object(val) && !json_is_null(val)) {
				json_decref(val);
				json_decref(out);
				err_set(err, SD_EXIT_SAFERUN,
					"cannot parse helm's manifest: "
					"document %zu is not an object",
					ndoc);
				return NULL;
			}
			json_decref(val);
			if (end)
				break;
			doc = *next ? next + 1 : next;
		}
		l = *next ? next + 1 : next;
	}
	return out;
}

/* helm status -o json: the release's revision ("version"). */
int remote_helm_revision(const char *json, json_int_t *revision,
			 struct sd_err *err)
{
	json_t *doc = json_loads(json, 0, NULL);
	json_t *v = json_object_get(doc, "version");

	if (!json_is_integer(v)) {
		char line[200];

		line_copy(line, sizeof(line), json);
		json_decref(doc);
		return err_set(err, SD_EXIT_SAFERUN,
			       "cannot parse helm status: '%s'", line);
	}
	*revision = json_integer_value(v);
	json_decref(doc);
	return 0;
}

static int helm_plan(const struct tool_ctx *c, struct tool_plan *p,
		     struct sd_err *err)
{
	int sub = helm_sub(c);
	bool ignore_nf = has_flag(c, sub + 1, "--ignore-not-found");
	struct vec flags = {0}, rels = {0}, v = {0};
	const char *ns = "";
	json_t *kept = json_array(), *missing = json_array();
	char **argv = NULL;
	struct run r = {0};

	if (!kept || !missing || plan_init(p, FIDELITY_PREVIEW, err) < 0) {
		oom(err);
		goto fail;
	}
	/* The flags for get and status, and the releases. */
	for (int i = 1; i < c->argc; i++) {
		int used, k;
		const char *val;

		if (i == sub)
			continue;
		if (!strcmp(c->argv[i], "--")) {
			for (i++; i < c->argc; i++)
				vec_add(&rels, c->argv[i]);
			break;
		}
		if (flag_at(c->argv, c->argc, i, helm_uninstall_only, &used,
			    &val) >= 0) {
			i += used - 1;
			continue;
		}
		k = flag_at(c->argv, c->argc, i, helm_values, &used, &val);
		if (k >= 0 || c->argv[i][0] == '-') {
			if (k == 0 || k == 1)
				ns = val ? val : "";
			for (int j = 0; j < used; j++)
				vec_add(&flags, c->argv[i + j]);
			i += used - 1;
			continue;
		}
		if (i > sub)
			vec_add(&rels, c->argv[i]);
	}
	if (flags.failed || rels.failed) {
		oom(err);
		goto fail;
	}
	if (!rels.n) {
		err_set(err, SD_EXIT_USAGE, "helm uninstall: no release given");
		goto fail;
	}
	for (size_t k = 0; k < rels.n; k++) {
		const char *rel = rels.v[k];
		json_t *objs, *o, *fp;
		json_int_t rev = 0;
		char hex[65], detail[300];
		size_t i;

		vec_add(&v, c->argv[0]);
		vec_add(&v, "get");
		vec_add(&v, "manifest");
		vec_add(&v, rel);
		for (size_t j = 0; j < flags.n; j++)
			vec_add(&v, flags.v[j]);
		if (!(argv = vec_take(&v))) {
			oom(err);
			goto fail;
		}
		if (run_cmd(c, p, argv, &r, err) < 0)
			goto fail;
		if (r.code && ignore_nf && strstr(r.errout, "not found")) {
			json_array_append_new(missing, json_string(rel));
			run_free(&r);
			free_argv(argv);
			argv = NULL;
			continue;
		}
		if (r.code) {
			run_failed(err, "helm get manifest", argv, &r);
			goto fail;
		}
		objs = remote_helm_manifest(r.out, err);
		sha256_hex(r.out, strlen(r.out), hex);
		run_free(&r);
		free_argv(argv);
		argv = NULL;
		if (!objs)
			goto fail;
		snprintf(detail, sizeof(detail), "delete (release %s)", rel);
		json_array_foreach(objs, i, o)
		{
			if (json_is_true(json_object_get(o, "keep"))) {
				json_array_append_new(
					kept, json_string(jstr(o, "key")));
				continue;
			}
			if (add_object(p, jstr(o, "key"), detail, err) < 0) {
				json_decref(objs);
				goto fail;
			}
		}
		json_decref(objs);

		vec_add(&v, c->argv[0]);
		vec_add(&v, "status");
		vec_add(&v, rel);
		vec_add(&v, "-o");
		vec_add(&v, "json");
		for (size_t j = 0; j < flags.n; j++)
			vec_add(&v, flags.v[j]);
		if (!(argv = vec_take(&v))) {
			oom(err);
			goto fail;
		}
		if (run_cmd(c, p, argv, &r, err) < 0)
			goto fail;
		if (r.code) {
			run_failed(err, "helm status", argv, &r);
			goto fail;
		}
		if (remote_helm_revision(r.out, &rev, err) < 0)
			goto fail;
		run_free(&r);
		free_argv(argv);
		argv = NULL;
		fp = json_pack("{s:s,s:s,s:s,s:I,s:s}", "kind", "helm",
			       "release", rel, "namespace", ns, "revision", rev,
			       "manifest_sha256", hex);
		if (!fp) {
			oom(err);
			goto fail;
		}
		json_array_append_new(p->targets, fp);
	}
	json_object_set_new(p->facts, "kept", kept);
	json_object_set_new(p->facts, "not_found", missing);
	vec_free(&flags);
	vec_free(&rels);
	return 0;
fail:
	run_free(&r);
	free_argv(argv);
	vec_free(&flags);
	vec_free(&rels);
	vec_free(&v);
	json_decref(kept);
	json_decref(missing);
	return plan_fail(p);
}

/* ------------------------------------------------------------------ */
/* terraform apply, destroy: a saved plan, shown as JSON, and applied
 * instead of the command (so what runs is what was approved).        */

/* Go's flag package: "-name", "--name", "-name=value". */
static bool go_flag(const char *a, char *name, size_t n, const char **val)
{
	const char *s = a + (a[1] == '-' ? 2 : 1);
	const char *eq = strchr(s, '=');
	size_t len = eq ? (size_t)(eq - s) : strlen(s);

	if (a[0] != '-' || !a[1])
		return false;
	snprintf(name, n, "%.*s", (int)len, s);
	*val = eq ? eq + 1 : NULL;
	return true;
}

static bool word_in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return true;
	return false;
}

static const char *const tf_value_flags[] = {"var",
					     "var-file",
					     "target",
					     "replace",
					     "lock-timeout",
					     "parallelism",
					     "state",
					     "state-out",
					     "backup",
					     "out",
					     "generate-config-out",
					     "chdir",
					     NULL};

static int tf_sub(const struct tool_ctx *c)
{
	for (int i = 1; i < c->argc; i++)
		if (c->argv[i][0] != '-')
			return i;
	return c->argc;
}

static bool tf_matches(const struct tool_ctx *c)
{
	int sub = tf_sub(c);

	return sub < c->argc && (!strcmp(c->argv[sub], "apply") ||
				 !strcmp(c->argv[sub], "destroy"));
}

/* terraform show -json: resource_changes whose actions are not no-op
 * (nor a data source's read), as [{"address", "actions": "delete,
 * create"}]. */
json_t *remote_terraform_changes(const char *json, struct sd_err *err)
{
	json_error_t je;
	json_t *doc = json_loads(json, 0, &je), *out, *rc, *ch;
	size_t i;

	if (!doc || !json_is_object(doc)) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot parse terraform show's output: %s",
			doc ? "not an object" : je.text);
		json_decref(doc);
		return NULL;
	}
	if (json_is_true(json_object_get(doc, "errored"))) {
		json_decref(doc);
		err_set(err, SD_EXIT_SAFERUN, "terraform's plan has errors");
		return NULL;
	}
	out = json_array();
	rc = json_object_get(doc, "resource_changes");
	json_array_foreach(rc, i, ch)
	{
		const char *addr = jstr(ch, "address");
		json_t *acts = json_object_get(json_object_get(ch, "change"),
					       "actions"),
		       *a;
		char joined[128] = "";
		size_t k;

		if (!addr || !json_is_array(acts) || !json_array_size(acts)) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot parse terraform show's output: "
				"resource change %zu has no address or actions",
				i + 1);
			json_decref(out);
			json_decref(doc);
			return NULL;
		}
		json_array_foreach(acts, k, a)
		{
			const char *s = json_string_value(a);

			snprintf(joined + strlen(joined),
				 sizeof(joined) - strlen(joined), "%s%s",
				 k ? ", " : "", s ? s : "?");
		}
		if (!strcmp(joined, "no-op") || !strcmp(joined, "read"))
			continue;
		json_array_append_new(out, json_pack("{s:s,s:s}", "address",
						     addr, "actions", joined));
	}
	json_decref(doc);
	return out;
}

static int tf_plan(const struct tool_ctx *c, struct tool_plan *p,
		   struct sd_err *err)
{
	static const char *const drop[] = {
		"auto-approve", "input", "no-color", "json",
		"destroy",	"out",	 NULL};
	static const char *const both[] = {"lock",	  "lock-timeout",
					   "parallelism", "compact-warnings",
					   "state",	  NULL};
	static const char *const apply_only[] = {"backup", "state-out", NULL};
	int sub = tf_sub(c);
	bool destroy = !strcmp(c->argv[sub], "destroy");
	struct vec plan_args = {0}, apply_args = {0}, v = {0};
	const char *saved = NULL;
	char *planfile = NULL, *text = NULL, **argv = NULL;
	char chex[65];
	json_t *changes = NULL, *fp, *ch, *counts;
	struct run r = {0};
	size_t i;
	struct sd_err e2 = {0};

	if (plan_init(p, FIDELITY_NATIVE, err) < 0)
		goto fail;
	for (int k = sub + 1; k < c->argc; k++) {
		const char *a = c->argv[k], *val;
		char name[64];
		struct vec *to = &plan_args;
		bool twice = false;

		if (!go_flag(a, name, sizeof(name), &val)) {
			saved = a;
			continue;
		}
		if (!strcmp(name, "destroy") && (!val || strcmp(val, "false")))
			destroy = true;
		if (word_in(name, drop))
			to = NULL;
		else if (word_in(name, apply_only))
			to = &apply_args;
		else if (word_in(name, both))
			twice = true;
		if (to)
			vec_add(to, a);
		if (twice)
			vec_add(&apply_args, a);
		if (!val && word_in(name, tf_value_flags) && k + 1 < c->argc) {
			k++;
			if (to)
				vec_add(to, c->argv[k]);
			if (twice)
				vec_add(&apply_args, c->argv[k]);
		}
	}
	if (plan_args.failed || apply_args.failed) {
		oom(err);
		goto fail;
	}
	if (saved && destroy) {
		err_set(err, SD_EXIT_USAGE,
			"terraform: a saved plan and -destroy do not go "
			"together");
		goto fail;
	}
	if (saved) {
		/* apply PLANFILE: that plan is what runs. */
		planfile = absolute(c->cwd, saved);
	} else {
		if (!c->tmpdir) {
			err_set(err, SD_EXIT_SAFERUN,
				"terraform: no directory for the saved plan");
			goto fail;
		}
		if (asprintf(&planfile, "%s/tfplan", c->tmpdir) < 0)
			planfile = NULL;
		if (planfile && planfile[0] != '/') {
			char *abs = absolute(c->cwd, planfile);

			free(planfile);
			planfile = abs;
		}
	}
	if (!planfile) {
		oom(err);
		goto fail;
	}
	if (!saved) {
		for (int k = 0; k < sub; k++)
			vec_add(&v, c->argv[k]);
		vec_add(&v, "plan");
		vec_add(&v, "-input=false");
		vec_add(&v, "-no-color");
		vec_addf(&v, "-out=%s", planfile);
		if (destroy)
			vec_add(&v, "-destroy");
		for (size_t k = 0; k < plan_args.n; k++)
			vec_add(&v, plan_args.v[k]);
		if (!(argv = vec_take(&v))) {
			oom(err);
			goto fail;
		}
		if (run_cmd(c, p, argv, &r, err) < 0)
			goto fail;
		if (r.code) {
			run_failed(err, "terraform plan", argv, &r);
			goto fail;
		}
		run_free(&r);
		free_argv(argv);
		argv = NULL;
	}
	for (int k = 0; k < sub; k++)
		vec_add(&v, c->argv[k]);
	vec_add(&v, "show");
	vec_add(&v, "-json");
	vec_add(&v, "-no-color");
	vec_add(&v, planfile);
	if (!(argv = vec_take(&v))) {
		oom(err);
		goto fail;
	}
	if (run_cmd(c, p, argv, &r, err) < 0)
		goto fail;
	if (r.code) {
		run_failed(err, "terraform show", argv, &r);
		goto fail;
	}
	changes = remote_terraform_changes(r.out, err);
	run_free(&r);
	free_argv(argv);
	argv = NULL;
	if (!changes)
		goto fail;
	counts = json_pack("{s:s,s:i,s:i,s:i}", "plan_file", planfile, "add", 0,
			   "change", 0, "destroy", 0);
	json_array_foreach(changes, i, ch)
	{
		const char *acts = jstr(ch, "actions");
		const char *keys[] = {"add", "change", "destroy"};
		const char *words[] = {"create", "update", "delete"};

		for (int k = 0; k < 3; k++)
			if (strstr(acts, words[k]))
				json_object_set_new(
					counts, keys[k],
					json_integer(json_integer_value(
							     json_object_get(
								     counts,
								     keys[k])) +
						     1));
		if (add_object(p, jstr(ch, "address"), acts, err) < 0) {
			json_decref(counts);
			goto fail;
		}
	}
	json_object_set_new(p->facts, "terraform", counts);
	/* The changes, by content: a saved plan file differs at every run
	 * (terraform stamps it), what it would change does not. The file
	 * applied is the one this very run saved, right before it runs. */
	{
		char *canon =
			json_dumps(changes, JSON_SORT_KEYS | JSON_COMPACT);

		sha256_hex(canon ? canon : "", canon ? strlen(canon) : 0, chex);
		free(canon);
	}
	fp = json_pack("{s:s,s:s,s:s}", "kind", "terraform", "tfplan", planfile,
		       "changes_sha256", chex);
	if (!fp) {
		oom(err);
		goto fail;
	}
	json_array_append_new(p->targets, fp);
	if (saved) {
		fp = fprint_path(planfile, false, &e2);
		if (!fp) {
			*err = e2;
			goto fail;
		}
		json_array_append_new(p->targets, fp);
	} else {
		for (int k = 0; k < sub; k++)
			vec_add(&v, c->argv[k]);
		vec_add(&v, "apply");
		vec_add(&v, "-input=false");
		for (size_t k = 0; k < apply_args.n; k++)
			vec_add(&v, apply_args.v[k]);
		vec_add(&v, planfile);
		if (!(p->apply_argv = vec_take(&v))) {
			oom(err);
			goto fail;
		}
	}
	free(text);
	free(planfile);
	json_decref(changes);
	vec_free(&plan_args);
	vec_free(&apply_args);
	return 0;
fail:
	run_free(&r);
	free_argv(argv);
	free(text);
	free(planfile);
	json_decref(changes);
	vec_free(&plan_args);
	vec_free(&apply_args);
	vec_free(&v);
	return plan_fail(p);
}

/* ------------------------------------------------------------------ */
/* aws s3 rm, aws s3 sync --delete: --dryrun                          */

static const struct flag aws_values[] = {
	{"--profile", true},
	{"--region", true},
	{"--endpoint-url", true},
	{"--output", true},
	{"--query", true},
	{"--color", true},
	{"--ca-bundle", true},
	{"--cli-read-timeout", true},
	{"--cli-connect-timeout", true},
	{"--cli-binary-format", true},
	{NULL, false},
};

/* The index of "rm" or "sync" after "s3"; argc when it is not one. */
static int aws_sub(const struct tool_ctx *c)
{
	int s3 = first_word(c->argv, c->argc, 1, aws_values), sub;

	if (s3 >= c->argc || strcmp(c->argv[s3], "s3"))
		return c->argc;
	sub = first_word(c->argv, c->argc, s3 + 1, aws_values);
	if (sub >= c->argc)
		return c->argc;
	return !strcmp(c->argv[sub], "rm") || !strcmp(c->argv[sub], "sync")
		       ? sub
		       : c->argc;
}

static bool aws_matches(const struct tool_ctx *c)
{
	int sub = aws_sub(c);

	if (sub >= c->argc || has_flag(c, 1, "--dryrun"))
		return false;
	return !strcmp(c->argv[sub], "rm") || has_flag(c, sub, "--delete");
}

/* "SRC to DEST": where to split. With several " to " (in a key or a
 * file name), the one whose two sides end in the same name, when exactly
 * one does; else -1. */
static int aws_split(const char *loc, const char *sep, size_t *at)
{
	size_t n = 0, matched = 0, seplen = strlen(sep);

	for (const char *s = strstr(loc, sep); s; s = strstr(s + 1, sep)) {
		const char *a = base_name(s + seplen), *b;
		size_t alen = strlen(a), blen;

		if (!n++)
			*at = (size_t)(s - loc);
		for (b = s; b > loc && b[-1] != '/'; b--)
			;
		blen = (size_t)(s - b);
		if (alen == blen && !memcmp(a, b, alen) && !matched++)
			*at = (size_t)(s - loc);
	}
	return n == 1 || matched == 1 ? 0 : -1;
}

/* aws s3 --dryrun: "(dryrun) delete: s3://b/k", "(dryrun) upload: LOCAL
 * to s3://b/k", "(dryrun) download: s3://b/k to LOCAL", "(dryrun) copy:
 * s3://a/k to s3://b/k"; local paths are relative to cwd. Progress lines
 * are skipped; anything else is not understood. */
int remote_aws_dryrun(const char *out, const char *cwd, struct effects *e,
		      struct sd_err *err)
{
	for (const char *l = out; l && *l;) {
		size_t len = strcspn(l, "\r\n");
		char *line = strndup(l, len), *loc, *colon;
		const char *type;
		size_t at;
		int rc = 0;

		l += len;
		while (*l == '\r' || *l == '\n')
			l++;
		if (!line)
			return oom(err);
		while (len && line[len - 1] == ' ')
			line[--len] = 0;
		if (!len || starts_with(line, "Completed ")) {
			free(line);
			continue;
		}
		colon = strstr(line, ": ");
		if (!starts_with(line, "(dryrun) ") || !colon) {
			rc = -1;
			goto next;
		}
		*colon = 0;
		type = line + 9;
		loc = colon + 2;
		if (!strcmp(type, "delete")) {
			if (starts_with(loc, "s3://")) {
				rc = effects_add(e, EFFECT_OBJECT, loc, NULL,
						 'o', 1, 0, "delete (dry run)");
			} else {
				char *path = absolute(cwd, loc);
				struct stat st;
				uint64_t size = 0;

				if (path && lstat(path, &st) == 0)
					size = (uint64_t)st.st_size;
				rc = path ? effects_add(
						    e, EFFECT_DELETE, path,
						    NULL, 'f', 1, size,
						    "sync --delete (dry run)")
					  : -1;
				free(path);
			}
			if (rc < 0) {
				free(line);
				return oom(err);
			}
		} else if (!strcmp(type, "upload") || !strcmp(type, "copy") ||
			   !strcmp(type, "move")) {
			char detail[1200];

			if (aws_split(loc, " to s3://", &at) < 0) {
				rc = -1;
				goto next;
			}
			loc[at] = 0;
			snprintf(detail, sizeof(detail),
				 "%s from %.1000s (dry run)", type, loc);
			if (effects_add(e, EFFECT_OBJECT, loc + at + 4, NULL,
					'o', 1, 0, detail) < 0 ||
			    (!strcmp(type, "move") &&
			     effects_add(e, EFFECT_OBJECT, loc, NULL, 'o', 1, 0,
					 "delete (moved, dry run)") < 0)) {
				free(line);
				return oom(err);
			}
		} else if (!strcmp(type, "download")) {
			char detail[1200], *path;
			struct stat st;
			bool exists;

			if (!starts_with(loc, "s3://") ||
			    aws_split(loc, " to ", &at) < 0) {
				rc = -1;
				goto next;
			}
			loc[at] = 0;
			path = absolute(cwd, loc + at + 4);
			exists = path && lstat(path, &st) == 0;
			snprintf(detail, sizeof(detail),
				 "download from %.1000s (dry run)", loc);
			if (!path ||
			    effects_add(e,
					exists ? EFFECT_OVERWRITE
					       : EFFECT_CREATE,
					path, NULL, 'f', 1,
					exists ? (uint64_t)st.st_size : 0,
					detail) < 0) {
				free(path);
				free(line);
				return oom(err);
			}
			free(path);
		} else {
			rc = -1;
		}
	next:
		if (rc < 0) {
			char shown[1024];

			if (colon && !*colon)
				*colon = ':';
			line_copy(shown, sizeof(shown), line);
			free(line);
			return err_set(err, SD_EXIT_SAFERUN,
				       "cannot parse aws's dry run: '%s'",
				       shown);
		}
		free(line);
	}
	return 0;
}

static int aws_plan(const struct tool_ctx *c, struct tool_plan *p,
		    struct sd_err *err)
{
	static const struct flag quiet[] = {{"--quiet", false},
					    {"--only-show-errors", false},
					    {"--no-progress", false},
					    {NULL, false}};
	int sub = aws_sub(c);
	struct vec v = {0};
	char **argv = NULL, hex[65], cwd[PATH_MAX];
	struct run r = {0};
	json_t *fp;

	if (plan_init(p, FIDELITY_NATIVE, err) < 0)
		goto fail;
	for (int k = 0; k <= sub; k++)
		vec_add(&v, c->argv[k]);
	vec_add(&v, "--dryrun");
	if (!strcmp(c->argv[sub], "sync"))
		vec_add(&v, "--no-progress");
	copy_without(&v, c->argv, c->argc, sub + 1, quiet);
	if (!(argv = vec_take(&v))) {
		oom(err);
		goto fail;
	}
	if (run_cmd(c, p, argv, &r, err) < 0)
		goto fail;
	if (r.code) {
		run_failed(err, "aws's dry run", argv, &r);
		goto fail;
	}
	if (remote_aws_dryrun(r.out,
			      c->cwd			 ? c->cwd
			      : getcwd(cwd, sizeof(cwd)) ? cwd
							 : ".",
			      &p->effects, err) < 0)
		goto fail;
	sha256_lines(r.out, hex);
	fp = json_pack("{s:s,s:s}", "kind", "aws-s3", "dryrun_sha256", hex);
	if (!fp) {
		oom(err);
		goto fail;
	}
	json_array_append_new(p->targets, fp);
	run_free(&r);
	free_argv(argv);
	return 0;
fail:
	run_free(&r);
	free_argv(argv);
	return plan_fail(p);
}

/* ------------------------------------------------------------------ */

/* mkfs.* reaches mkfs_plan through tools_find without mkfs_matches: a
 * dry run (mke2fs -n) or no device at all is an empty plan. */
static int mkfs_plan_any(const struct tool_ctx *c, struct tool_plan *p,
			 struct sd_err *err)
{
	if (!mkfs_matches(c))
		return plan_init(p, FIDELITY_PREVIEW, err) < 0 ? plan_fail(p)
							       : 0;
	return mkfs_plan(c, p, err);
}

const struct tool tools_remote[] = {
	{"dd", dd_matches, "dd", dd_plan},
	{"mkfs", mkfs_matches, "mkfs", mkfs_plan_any},
	{"wipefs", wipefs_matches, "wipefs", wipefs_plan},
	{"psql", psql_matches, "psql", psql_plan},
	{"kubectl", kubectl_matches, "kubectl", kubectl_plan},
	{"helm", helm_matches, "helm uninstall", helm_plan},
	{"terraform", tf_matches, "terraform", tf_plan},
	{"aws", aws_matches, "aws s3", aws_plan},
	{NULL, NULL, NULL, NULL},
};
