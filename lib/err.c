/* Filling struct sd_err; see err.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int err_set(struct sd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(struct sd_err *err, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int err_prefix(struct sd_err *err, const char *fmt, ...)
{
	char head[sizeof(err->msg)];
	size_t h, t;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head) - 2, fmt, ap);
	va_end(ap);
	h = strlen(head);
	memcpy(head + h, ": ", 3);
	h += 2;
	t = strnlen(err->msg, sizeof(err->msg) - 1);
	if (h + t >= sizeof(err->msg))
		t = sizeof(err->msg) - 1 - h;
	memmove(err->msg + h, err->msg, t);
	memcpy(err->msg, head, h);
	err->msg[h + t] = '\0';
	return -1;
}
