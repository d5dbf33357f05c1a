/* Shell quoting; see shquote.h. */
#include <string.h>

#include "shquote.h"

static int needs_quotes(const char *w)
{
	if (!*w)
		return 1;
	for (; *w; w++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%",
			    *w))
			return 1;
	return 0;
}

int shquote_append(char *buf, size_t n, const char *word)
{
	size_t used = strlen(buf);

#define PUT(c)                                                                 \
	do {                                                                   \
		if (used + 1 >= n)                                             \
			return -1;                                             \
		buf[used++] = (c);                                             \
	} while (0)
	if (used)
		PUT(' ');
	if (!needs_quotes(word)) {
		for (const char *w = word; *w; w++)
			PUT(*w);
	} else {
		/* 'it'\''s': close the quote, an escaped quote, reopen. */
		PUT('\'');
		for (const char *w = word; *w; w++) {
			if (*w == '\'') {
				PUT('\'');
				PUT('\\');
				PUT('\'');
			}
			PUT(*w);
		}
		PUT('\'');
	}
#undef PUT
	buf[used] = '\0';
	return 0;
}

int shquote_argv(char *buf, size_t n, char *const *argv, int argc)
{
	if (!n)
		return -1;
	buf[0] = '\0';
	for (int i = 0; i < argc; i++)
		if (shquote_append(buf, n, argv[i]) < 0)
			return -1;
	return 0;
}
