/* Running a command in a copy-on-write sandbox (saferun). The command sees
 * the host's file tree through overlays: each one's lower layer is a host
 * directory and its upper layer a directory under opts.dir, where what the
 * command writes, creates and deletes lands (deletions as whiteouts,
 * character devices 0:0; "userxattr": the user.overlay.* xattrs, no
 * redirects, no metacopy; "volatile": nothing is synced). The host is not
 * touched. The layers survive the run, for the caller to analyse and maybe
 * commit.
 *
 * The sandbox is a user, mount and PID namespace, and a network namespace
 * with only a loopback interface (up) unless opts.net. A child process
 * builds the new root in opts.dir/root, with a fresh /proc, /sys bound
 * read-only and a small /dev (a tmpfs with null, zero, full, random,
 * urandom and tty bound from the host, the fd links, a new devpts instance
 * and a tmpfs /dev/shm); it pivots into it and runs the command under a
 * reaper, PID 1 of the namespace. When the command exits, or at the
 * timeout, every process left in the sandbox is killed.
 *
 * The layers depend on the caller:
 *   - with an effective uid of 0 and CAP_SYS_ADMIN: one overlay of / (the
 *     top-level files, symlinks and new entries are kept too), then one of
 *     every other mount (its parent's overlay cannot show it), parents
 *     first, all built in a mount namespace of the initial user namespace
 *     before the user namespace is entered, which maps every id onto
 *     itself: chown works, files keep their owners, setgroups(2) is
 *     allowed. (One overlay of /, not one per top-level directory: each
 *     overlay costs a dozen inode allocations in opts.dir, a millisecond
 *     or more on an ext4 without a journal after many deletions.)
 *   - otherwise: only the caller's uid and gid are mapped, onto
 *     themselves. A user namespace may not overlay a directory with mounts
 *     below it that it did not make: the root is a tmpfs with an overlay
 *     per top-level directory, the top-level symlinks, and copies of the
 *     top-level files; a directory with a mount below it is rebuilt the
 *     same way, down to the mounts. A write below a directory owned by an
 *     unmapped id (root's /var/tmp, say) fails with EOVERFLOW: overlayfs
 *     cannot give the copied-up directory its owner.
 * An overlay that cannot be mounted (an odd filesystem) falls back to a
 * read-only bind.
 *
 * What the sandbox cannot keep is listed in the result's "uncaptured" lines:
 * paths bound read-only (a mount that overlayfs refused, a file over 1 MiB
 * in a rebuilt directory) and entries written where nothing is kept (/dev,
 * /dev/shm, the tmpfs of a rebuilt directory).
 *
 * opts.dir holds upper/N, work/N (left with directories of mode 000, and
 * an upper/N can be of mode 0555: make them writable before removing
 * them) and root/ (an empty mount point once the run is over).
 *
 * setup_ms and teardown_ms are CLOCK_MONOTONIC figures. No helper program
 * is run; every descriptor is close-on-exec; the processes of the sandbox
 * allocate no memory after the fork. */
#ifndef SD_SANDBOX_H
#define SD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct sandbox_layer {
	char *host;  /* absolute host directory that was overlaid ("/", "/usr",
			a mount point) */
	char *upper; /* its overlay upper directory (inside opts.dir) */
};

struct sandbox_opts {
	/* An existing empty directory owned by the caller, for the layers
	 * and the new root. Kept after the run: the caller removes it or
	 * keeps it for a commit. Hidden in the sandbox. */
	const char *dir;
	/* The command; argv[0] is looked up in PATH (inside the sandbox) when
	 * it has no slash. */
	char *const *argv;
	/* Working directory inside the sandbox (the same path as on the
	 * host; a relative one is taken from the caller's); NULL: the
	 * caller's. It must exist in the sandbox. */
	const char *cwd;
	/* false: a new network namespace with only a loopback interface. */
	bool net;
	/* 0: none; else, counted from the call, every process of the
	 * sandbox is killed (SIGKILL) after this many milliseconds. */
	int64_t timeout_ms;
	/* More host paths to hide (NULL-terminated; may be NULL): each shows
	 * as an empty read-only directory or file. opts.dir and the
	 * safedeploy state directory (paths_state_dir) are always hidden. */
	const char *const *hide;
};

struct sandbox_result {
	/* The command's wait status (WIFEXITED/WIFSIGNALED). At the timeout:
	 * killed by SIGKILL. When the command could not be run (exec_errno),
	 * exit 127 (ENOENT: not found) or 126 (anything else), as sh does. */
	int status;
	bool timed_out;
	/* 0, or the errno of the failed execvp of argv[0]: the sandbox ran,
	 * the command did not start, and sandbox_run returns 0. */
	int exec_errno;
	/* One per overlay, parents first. A layer's host directory can be /
	 * or lie below another's (a mount inside it): what was written below
	 * a mount is in that mount's layer only. */
	struct sandbox_layer *layers;
	size_t n_layers;
	/* Human-readable lines, each about one path: host paths the command
	 * could not write ("'/mnt/x': read-only in the sandbox: overlay
	 * failed: Invalid argument") and what it wrote where nothing is kept
	 * ("'/dev/x': written in the sandbox, not kept", "'/dev/stdin':
	 * removed in the sandbox, not kept"). */
	char **uncaptured;
	size_t n_uncaptured;
	/* From the call until the command is exec'd; from the command's exit
	 * (or the kill at the timeout) until sandbox_run returns. */
	double setup_ms, teardown_ms;
	/* Internal: the sandbox's last process, still tearing the namespaces
	 * down (dropping the overlays' caches) when sandbox_run returns;
	 * sandbox_result_release reaps it if it has exited by then, and
	 * otherwise leaves it to finish on its own (nothing waits for it).
	 * The layers can be read, moved and removed meanwhile. */
	pid_t pid;
};

/* 0 when this machine can run a sandbox; -1 with err saying why not (no
 * user namespaces, and the sysctl or AppArmor setting that blocks them; no
 * overlayfs). Tries a real unshare and overlay mount in a child process
 * (about a millisecond). */
int sandbox_available(struct sd_err *err);

/* Run o->argv in a sandbox built in o->dir and fill r (release it with
 * sandbox_result_release). 0 once the command has run, whatever its status
 * (also when it could not be exec'd, or was killed at the timeout); -1 with
 * err (code SD_EXIT_SAFERUN) when the sandbox could not be built or run,
 * and then r holds nothing to release. Standard input, output and error
 * are the caller's. While it runs, SIGINT and SIGTERM are blocked in the
 * calling thread: one sent to the caller by kill(2) is forwarded to the
 * command; one from the terminal reaches the command anyway (same process
 * group). */
int sandbox_run(const struct sandbox_opts *o, struct sandbox_result *r,
		struct sd_err *err);

/* The command was not found (r->exec_errno is ENOENT): exit 127. */
bool sandbox_not_found(const struct sandbox_result *r);

/* Free what r holds and reap the sandbox's last process (see pid). */
void sandbox_result_release(struct sandbox_result *r);

#endif
