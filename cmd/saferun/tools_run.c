/* Running a tool's own preview and capturing what it prints; see tools.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"

extern char **environ;

struct sink {
	int fd;
	char *buf;
	size_t len, cap, max;
	bool over;
};

static int sink_read(struct sink *s)
{
	char chunk[16384];
	ssize_t got = read(s->fd, chunk, sizeof(chunk));

	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (got == 0)
		return 0;
	if (s->len + (size_t)got > s->max) {
		s->over = true;
		got = (ssize_t)(s->max - s->len);
	}
	if (s->len + (size_t)got + 1 > s->cap) {
		size_t cap = (s->len + (size_t)got + 1) * 2;
		char *b = realloc(s->buf, cap);

		if (!b)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, chunk, (size_t)got);
	s->len += (size_t)got;
	s->buf[s->len] = 0;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int tools_capture(char *const *argv, int64_t timeout_ms, size_t max, char **out,
		  char **errout, int *status, struct sd_err *err)
{
	posix_spawn_file_actions_t fa;
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	struct sink s[2] = {{.max = max}, {.max = max}};
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	bool killed = false;
	pid_t pid;
	int rc;

	*out = *errout = NULL;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = err_errno(err, SD_EXIT_SAFERUN, "cannot run '%s'",
			       argv[0]);
		goto close;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc) {
		errno = rc;
		rc = err_errno(err, rc == ENOENT ? 127 : SD_EXIT_SAFERUN,
			       "cannot run '%s'", argv[0]);
		goto close;
	}
	s[0].fd = po[0];
	s[1].fd = pe[0];
	while (s[0].fd >= 0 || s[1].fd >= 0) {
		struct pollfd p[2] = {{.fd = s[0].fd, .events = POLLIN},
				      {.fd = s[1].fd, .events = POLLIN}};
		int wait = -1;

		if (deadline) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				kill(pid, SIGKILL);
				killed = true;
				break;
			}
			wait = (int)(left > 1000 ? 1000 : left);
		}
		if (poll(p, 2, wait) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (s[i].fd < 0 ||
			    !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (sink_read(&s[i]) <= 0)
				s[i].fd = -1;
		}
	}
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	rc = 0;
	if (killed)
		rc = err_set(err, SD_EXIT_SAFERUN,
			     "'%s' did not finish within %lld ms", argv[0],
			     (long long)timeout_ms);
	else if (s[0].over || s[1].over)
		rc = err_set(err, SD_EXIT_SAFERUN,
			     "'%s' printed more than %zu bytes", argv[0], max);
	if (rc == 0) {
		*out = s[0].buf ? s[0].buf : strdup("");
		*errout = s[1].buf ? s[1].buf : strdup("");
		s[0].buf = s[1].buf = NULL;
	}
close:
	free(s[0].buf);
	free(s[1].buf);
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return rc;
}
