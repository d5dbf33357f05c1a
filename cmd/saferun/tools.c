/* The table of known commands; see tools.h. The rows live beside their
 * planning functions (tools_fs.c: files and git; tools_remote.c: devices,
 * databases, clusters and clouds); this file looks them up. */
#include <stdlib.h>
#include <string.h>

#include "tools.h"

static const struct tool *const tables[] = {tools_fs, tools_remote};

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

const struct tool *tools_find(const struct tool_ctx *c)
{
	const char *name;

	if (c->argc < 1)
		return NULL;
	name = base_name(c->argv[0]);
	for (size_t t = 0; t < sizeof(tables) / sizeof(*tables); t++)
		for (const struct tool *r = tables[t]; r->name; r++)
			if (!strcmp(r->name, name) &&
			    (!r->matches || r->matches(c)))
				return r;
	/* mkfs.ext4, mkfs.xfs, ...: one row for the family. */
	if (!strncmp(name, "mkfs.", 5))
		for (const struct tool *r = tools_remote; r->name; r++)
			if (!strcmp(r->name, "mkfs"))
				return r;
	return NULL;
}

void tool_plan_release(struct tool_plan *p)
{
	free(p->native);
	effects_release(&p->effects);
	json_decref(p->targets);
	json_decref(p->facts);
	for (char **a = p->apply_argv; a && *a; a++)
		free(*a);
	free(p->apply_argv);
	free(p->why_refuse);
	memset(p, 0, sizeof(*p));
}

const char *fidelity_name(enum fidelity f)
{
	switch (f) {
	case FIDELITY_EXACT:
		return "exact";
	case FIDELITY_NATIVE:
		return "native";
	case FIDELITY_PREVIEW:
		return "preview";
	}
	return "unknown";
}
