/* XDG and repository paths; see paths.h. */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h == '/')
		return h;
	/* Only the main thread resolves paths, before any worker starts
	 * (the threads in http.c and probe.c do HTTP and DNS only). */
	/* cppcheck-suppress getpwuidCalled */
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : NULL;
}

/* $var (only when absolute, as the XDG spec says) or ~/fallback, plus tail. */
static int xdg_path(char *buf, size_t n, const char *var, const char *fallback,
		    const char *tail, struct sd_err *err)
{
	const char *v = getenv(var);
	const char *home;
	int len;

	if (v && *v == '/') {
		len = snprintf(buf, n, "%s/%s", v, tail);
	} else {
		home = home_dir();
		if (!home)
			return err_set(err, SD_EXIT_CANNOT,
				       "cannot find the home directory (set "
				       "HOME or %s)",
				       var);
		len = snprintf(buf, n, "%s/%s/%s", home, fallback, tail);
	}
	if (len < 0 || (size_t)len >= n)
		return err_set(err, SD_EXIT_CANNOT, "%s path is too long", var);
	return 0;
}

int paths_state_dir(char *buf, size_t n, struct sd_err *err)
{
	return xdg_path(buf, n, "XDG_STATE_HOME", ".local/state", "safedeploy",
			err);
}

int paths_user_config(char *buf, size_t n, struct sd_err *err)
{
	return xdg_path(buf, n, "XDG_CONFIG_HOME", ".config",
			"safedeploy/config.yml", err);
}

const char *paths_sysconfdir(void)
{
	const char *v = getenv("SAFEDEPLOY_SYSCONFDIR");

	return v && *v ? v : "/etc/safedeploy";
}

int paths_repo_root(char *buf, size_t n)
{
	char dir[PATH_MAX], probe[PATH_MAX + 8];
	struct stat st;

	if (!getcwd(dir, sizeof(dir)))
		return -1;
	for (;;) {
		char *slash;

		snprintf(probe, sizeof(probe), "%s/.git",
			 strcmp(dir, "/") ? dir : "");
		if (lstat(probe, &st) == 0) {
			if ((size_t)snprintf(buf, n, "%s", dir) >= n)
				return -1;
			return 0;
		}
		slash = strrchr(dir, '/');
		if (!slash || slash == dir) {
			if (!strcmp(dir, "/"))
				return -1;
			dir[1] = '\0';
			continue;
		}
		*slash = '\0';
	}
}
