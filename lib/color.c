/* Colour decisions; see color.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "color.h"

static enum color_mode current = COLOR_AUTO;

int color_parse(const char *s, enum color_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = COLOR_AUTO;
	else if (!strcmp(s, "always"))
		*mode = COLOR_ALWAYS;
	else if (!strcmp(s, "never"))
		*mode = COLOR_NEVER;
	else
		return -1;
	return 0;
}

void color_set_mode(enum color_mode mode)
{
	current = mode;
}

enum color_mode color_get_mode(void)
{
	return current;
}

bool color_on(int fd)
{
	const char *v;

	if (current == COLOR_ALWAYS)
		return true;
	if (current == COLOR_NEVER)
		return false;
	/* https://no-color.org: present and not empty disables colour. */
	v = getenv("NO_COLOR");
	if (v && *v)
		return false;
	v = getenv("TERM");
	if (v && !strcmp(v, "dumb"))
		return false;
	return isatty(fd);
}

const char *color_code(int fd, const char *code)
{
	return color_on(fd) ? code : "";
}
