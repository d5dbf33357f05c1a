/* Quoting for the shell, so that a printed command line can be pasted back
 * exactly (the --confirm re-run line). */
#ifndef SD_SHQUOTE_H
#define SD_SHQUOTE_H

#include <stddef.h>

/* Append word to buf (of size n, NUL-terminated), quoted only if needed.
 * Returns -1 when it does not fit. */
int shquote_append(char *buf, size_t n, const char *word);

/* Join argv into one quoted line. */
int shquote_argv(char *buf, size_t n, char *const *argv, int argc);

#endif
