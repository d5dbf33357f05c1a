/* Colour decisions: only on a terminal, off with NO_COLOR or TERM=dumb,
 * forced with --color=always. */
#ifndef SD_COLOR_H
#define SD_COLOR_H

#include <stdbool.h>

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

#define COLOR_RESET  "\033[0m"
#define COLOR_BOLD   "\033[1m"
#define COLOR_RED    "\033[31m"
#define COLOR_GREEN  "\033[32m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_DIM    "\033[2m"

/* Parse "auto", "always" or "never"; -1 for anything else. */
int color_parse(const char *s, enum color_mode *mode);
void color_set_mode(enum color_mode mode);
enum color_mode color_get_mode(void);
/* Whether output written to fd should be coloured. */
bool color_on(int fd);
/* code when fd is coloured, "" otherwise. */
const char *color_code(int fd, const char *code);

#endif
