/* saferun's known commands: each translates a destructive command into its
 * native preview, or emulates one from the filesystem, and turns what it
 * shows into a list of effects and the fingerprints of the targets those
 * effects were computed against. The table (tools.c) is data in one place:
 * a new command is one row and one planning function. */
#ifndef SAFERUN_TOOLS_H
#define SAFERUN_TOOLS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "effects.h"
#include "err.h"

/* How far the plan can be trusted to predict the real run. */
enum fidelity {
	FIDELITY_EXACT,	  /* emulated from the filesystem: the exact list */
	FIDELITY_NATIVE,  /* the tool's own dry run, parsed */
	FIDELITY_PREVIEW, /* a related listing (helm get manifest, git
			     status): the real run may differ */
};

struct tool_plan {
	enum fidelity fidelity;
	char *native; /* the preview command that was run, quoted for
			     the shell; NULL for an emulation */
	struct effects effects;
	json_t *targets;     /* array of fingerprints (fprint_path) the plan
			     depends on; at apply time each is re-checked */
	json_t *facts;	     /* object: what else a person should see and the
			     plan should bind ("undo": "git stash apply
			     <oid>", "device": {...}, "statements": [...]) */
	bool always_confirm; /* a token even when a policy says allow:
				devices, SQL that drops or deletes */
	char **apply_argv;   /* NULL: run the command as given; else what to
				run instead once confirmed (terraform apply
				PLANFILE), NULL-terminated, malloc'd */
	char *why_refuse;    /* set by a tool for a built-in rule that only
				a token can pass ("recursive operation on
				'/'", "'/dev/sda1' is mounted on '/'") */
};

struct tool_ctx {
	char *const *argv; /* the command, argv[0] as the user typed it */
	int argc;
	const char *exe; /* argv[0] resolved through PATH (realpath) */
	const char *cwd;
	int64_t timeout_ms; /* for a native preview command */
	const char *tmpdir; /* a private directory for files a preview
				needs (terraform's saved plan); kept with
				the plan until it is applied */
};

struct tool {
	const char *name; /* argv[0]'s basename: "rm", "git", "kubectl" */
	/* When the tool applies to argv: NULL for "always", else a function
	 * that looks at the subcommand ("git clean", "kubectl delete"). */
	bool (*matches)(const struct tool_ctx *c);
	const char *what; /* "git clean", for messages */
	/* Fill p. -1 with err when no plan can be made: the native dry run
	 * failed or printed what cannot be parsed (say so; never guess), a
	 * usage error the real command would refuse anyway, ... */
	int (*plan)(const struct tool_ctx *c, struct tool_plan *p,
		    struct sd_err *err);
};

/* The tool for this command, or NULL: then the sandbox is used. */
const struct tool *tools_find(const struct tool_ctx *c);
/* The rows, each table ending with a row whose name is NULL. */
extern const struct tool tools_fs[];	 /* tools_fs.c */
extern const struct tool tools_remote[]; /* tools_remote.c */

void tool_plan_release(struct tool_plan *p);
const char *fidelity_name(enum fidelity f);

/* Helpers shared by the planning functions (tools_run.c). */

/* Run argv (no shell) with stdin from /dev/null, capture stdout and stderr
 * (each at most max bytes), kill it after timeout_ms. *status is the wait
 * status. -1 with err only when it could not run at all (127: not found). */
int tools_capture(char *const *argv, int64_t timeout_ms, size_t max, char **out,
		  char **errout, int *status, struct sd_err *err);

#endif
