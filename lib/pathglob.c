/* Path globs: see pathglob.h. A glob is normalised to a list of components
 * (a floating glob gets a leading "**" component, a directory glob a
 * trailing one), then matched component by component with fnmatch(3). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "pathglob.h"

#define GLOB_MAX 4096

/* The normal form of glob in buf: without a leading '/', with "**" in front
 * of a floating glob and "/" + "**" after a directory glob. dir_len gets
 * the length before that suffix (the directory part). */
static bool normalise(const char *glob, char *buf, size_t n, size_t *dir_len,
		      bool *is_dir)
{
	size_t len = strlen(glob);
	bool anchored = false, dir = false, floating;
	size_t o = 0;

	if (len && glob[0] == '/') {
		anchored = true;
		glob++, len--;
	}
	while (len && glob[len - 1] == '/') {
		dir = true;
		len--;
	}
	if (!len || len + 8 >= n)
		return false;
	floating = !anchored && !memchr(glob, '/', len);
	if (floating && !(len >= 2 && !memcmp(glob, "**", 2))) {
		memcpy(buf, "**/", 3);
		o = 3;
	}
	memcpy(buf + o, glob, len);
	o += len;
	*dir_len = o;
	if (dir) {
		memcpy(buf + o, "/**", 3);
		o += 3;
	}
	buf[o] = '\0';
	if (is_dir)
		*is_dir = dir;
	return true;
}

static size_t comp_len(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash ? (size_t)(slash - s) : strlen(s);
}

static bool is_starstar(const char *g)
{
	return g[0] == '*' && g[1] == '*' && (g[2] == '/' || g[2] == '\0');
}

static bool comp_match(const char *g, size_t gl, const char *p, size_t pl)
{
	char gb[GLOB_MAX], pb[GLOB_MAX];

	if (gl >= sizeof(gb) || pl >= sizeof(pb))
		return false;
	memcpy(gb, g, gl);
	gb[gl] = '\0';
	memcpy(pb, p, pl);
	pb[pl] = '\0';
	return fnmatch(gb, pb, 0) == 0;
}

/* g and p each start at a component; p is a whole path below that point. */
static bool match_from(const char *g, const char *p, int depth)
{
	size_t gl, pl;

	if (depth > 64)
		return false;
	for (;;) {
		if (is_starstar(g)) {
			const char *rest = g[2] ? g + 3 : NULL;

			if (!rest)
				return *p != '\0';
			for (const char *q = p;;) {
				if (match_from(rest, q, depth + 1))
					return true;
				q = strchr(q, '/');
				if (!q)
					return false;
				q++;
			}
		}
		gl = comp_len(g);
		pl = comp_len(p);
		if (!comp_match(g, gl, p, pl))
			return false;
		if (!g[gl] && !p[pl])
			return true;
		if (!g[gl] || !p[pl])
			return false;
		g += gl + 1;
		p += pl + 1;
	}
}

bool pathglob_match(const char *glob, const char *path)
{
	char g[GLOB_MAX];
	size_t dl;

	if (!normalise(glob, g, sizeof(g), &dl, NULL))
		return false;
	return match_from(g, path, 0);
}

bool pathglob_match_dir(const char *glob, const char *dir)
{
	char g[GLOB_MAX];
	size_t dl;

	if (!normalise(glob, g, sizeof(g), &dl, NULL))
		return false;
	g[dl] = '\0';
	return match_from(g, dir, 0);
}

/* Prefix match: can the components of dir be the first ones of a path the
 * glob matches? */
bool pathglob_may_match_below(const char *glob, const char *dir)
{
	char g[GLOB_MAX];
	const char *gp = g, *p = dir;
	size_t dl, gl, pl;

	if (!normalise(glob, g, sizeof(g), &dl, NULL))
		return false;
	if (!*p)
		return true;
	for (;;) {
		if (is_starstar(gp))
			return true;
		gl = comp_len(gp);
		pl = comp_len(p);
		if (!gp[gl])
			return false; /* the glob's last component is a file */
		if (!comp_match(gp, gl, p, pl))
			return false;
		if (!p[pl])
			return true;
		gp += gl + 1;
		p += pl + 1;
	}
}

const char *pathglob_check(const char *glob)
{
	char g[GLOB_MAX];
	size_t dl;
	int brackets = 0;

	if (!glob[0])
		return "empty glob";
	if (strlen(glob) >= GLOB_MAX - 8)
		return "glob too long";
	if (!normalise(glob, g, sizeof(g), &dl, NULL))
		return "glob is only '/'";
	for (const char *s = glob; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '[')
			brackets++;
		else if (*s == ']' && brackets)
			brackets--;
		else if (*s == '/' && brackets)
			return "'/' inside a [...] class";
	}
	if (brackets)
		return "unclosed '['";
	for (const char *s = glob; (s = strstr(s, "**")); s += 2) {
		bool start = s == glob || s[-1] == '/';
		bool end = s[2] == '\0' || s[2] == '/';

		if (!start || !end)
			return "'**' must be a whole path component";
		while (s[2] == '*')
			s++;
	}
	if (strstr(glob, "/../") || !strncmp(glob, "../", 3) ||
	    !strcmp(glob, ".."))
		return "'..' cannot match a path in the repository";
	return NULL;
}
