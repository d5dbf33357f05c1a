/* Escaping for XML and HTML; see markup.h. */
#include <string.h>

#include "markup.h"

void markup_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if ((unsigned char)*s < 0x20 && !strchr("\t\n\r", *s))
				fputc('?', out);
			else
				fputc(*s, out);
		}
	}
}
