/* Messages for cmd/; see msg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "color.h"
#include "msg.h"

static char prog[64] = "safedeploy";

void msg_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	snprintf(prog, sizeof(prog), "%s", slash ? slash + 1 : argv0);
}

const char *msg_prog(void)
{
	return prog;
}

static void vmsg(const char *kind, const char *kind_color, const char *fmt,
		 va_list ap) __attribute__((format(printf, 3, 0)));

static void vmsg(const char *kind, const char *kind_color, const char *fmt,
		 va_list ap)
{
	char body[2048];

	/* One write per message, so that concurrent writers do not interleave. */
	vsnprintf(body, sizeof(body), fmt, ap);
	if (kind)
		fprintf(stderr, "%s: %s%s%s %s\n", prog,
			color_code(STDERR_FILENO, kind_color), kind,
			color_code(STDERR_FILENO, COLOR_RESET), body);
	else
		fprintf(stderr, "%s: %s\n", prog, body);
	fflush(stderr);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, NULL, fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning:", COLOR_YELLOW, fmt, ap);
	va_end(ap);
}

int msg_err(const struct sd_err *err)
{
	msg_error("%s", err->msg);
	return err->code ? err->code : SD_EXIT_FAIL;
}

int msg_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
	return SD_EXIT_USAGE;
}
