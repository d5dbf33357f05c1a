/* Text inside XML and HTML (JUnit reports, the status page): the five
 * special characters as entities, and the control characters XML 1.0
 * forbids (all below 0x20 but tab, newline and carriage return) as '?'. */
#ifndef SD_MARKUP_H
#define SD_MARKUP_H

#include <stdio.h>

/* Write s (NULL writes nothing) escaped for element content and for
 * attribute values in double or single quotes. */
void markup_escape(FILE *out, const char *s);

#endif
