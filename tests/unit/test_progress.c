/* Unit tests for lib/progress.c, lib/color.c, lib/shquote.c and
 * lib/confirm.c's re-run line. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "color.h"
#include "confirm.h"
#include "progress.h"
#include "shquote.h"
#include "unit.h"

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static void progress_is_silent_off_a_terminal(void)
{
	struct progress p;
	int fds[2];
	char buf[64];

	CHECK_INT(pipe(fds), 0);
	progress_start(&p, fds[1], "scanning", 10);
	CHECK(!p.enabled);
	p.clock_ms = fake_clock;
	fake_now = p.start_ms + 5000;
	progress_update(&p, 5);
	progress_finish(&p);
	close(fds[1]);
	CHECK_INT(read(fds[0], buf, sizeof(buf)), 0);
	close(fds[0]);
}

static void progress_waits_then_rate_limits(void)
{
	struct progress p;
	int fds[2];
	char buf[4096];
	ssize_t n;

	CHECK_INT(pipe(fds), 0);
	fake_now = 0;
	progress_start(&p, fds[1], "scanning", 1000);
	p.enabled = true; /* as if on a terminal */
	p.clock_ms = fake_clock;
	p.start_ms = 0;
	/* Work shorter than the delay draws nothing. */
	for (int i = 0; i < 100; i++) {
		fake_now = i * 9;
		progress_update(&p, (uint64_t)i);
	}
	CHECK_INT(p.draws, 0);
	/* 1000 updates over one second: about ten redraws, not a thousand. */
	for (int i = 0; i < 1000; i++) {
		fake_now = PROGRESS_DELAY_MS + i;
		progress_update(&p, (uint64_t)i);
	}
	CHECK(p.draws >= 9 && p.draws <= 11);
	progress_finish(&p);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_CONTAINS(buf, "\rscanning [");
	CHECK_CONTAINS(buf, "% ");
	CHECK_CONTAINS(buf, "/1000");
	/* Ends by erasing its line. */
	CHECK(n >= 4 && !memcmp(buf + n - 4, "\r\033[K", 4));
}

static void color_follows_no_color_and_the_flag(void)
{
	int fds[2];

	CHECK_INT(pipe(fds), 0);
	color_set_mode(COLOR_AUTO);
	CHECK(!color_on(fds[1])); /* a pipe is no terminal */
	color_set_mode(COLOR_ALWAYS);
	setenv("NO_COLOR", "1", 1);
	CHECK(color_on(fds[1])); /* --color=always wins */
	CHECK_STR(color_code(fds[1], COLOR_RED), COLOR_RED);
	color_set_mode(COLOR_NEVER);
	CHECK_STR(color_code(fds[1], COLOR_RED), "");
	unsetenv("NO_COLOR");
	close(fds[0]);
	close(fds[1]);
	{
		enum color_mode m;

		CHECK_INT(color_parse("always", &m), 0);
		CHECK_INT(m, COLOR_ALWAYS);
		CHECK_INT(color_parse("sometimes", &m), -1);
	}
	color_set_mode(COLOR_AUTO);
}

static void shell_quoting_round_trips(void)
{
	char buf[256];
	char *argv[] = {"safedeploy",	"token", "check", "--plan",
			"my plan.json", "it's",	 "",	  "a$b"};

	CHECK_INT(shquote_argv(buf, sizeof(buf), argv, 8), 0);
	CHECK_STR(buf, "safedeploy token check --plan 'my plan.json' "
		       "'it'\\''s' '' 'a$b'");
	CHECK_INT(shquote_argv(buf, 10, argv, 8), -1);
}

static void rerun_line_replaces_old_confirm(void)
{
	char buf[256];
	char *argv[] = {"saferun", "--confirm", "OLD",	     "--confirm=OLD2",
			"--",	   "rm",	"--confirm", "x"};

	CHECK_INT(confirm_rerun_line(buf, sizeof(buf), argv, 8, 4, "TOK"), 0);
	CHECK_STR(buf, "saferun --confirm TOK -- rm --confirm x");
	CHECK_INT(confirm_rerun_line(buf, sizeof(buf), argv, 1, 1, "T2"), 0);
	CHECK_STR(buf, "saferun --confirm T2");
}

int main(void)
{
	RUN(progress_is_silent_off_a_terminal,
	    "progress: draws nothing off a terminal");
	RUN(progress_waits_then_rate_limits,
	    "progress: waits a second, then redraws at most every 100ms");
	RUN(color_follows_no_color_and_the_flag,
	    "color: auto off a terminal, NO_COLOR, --color=always wins");
	RUN(shell_quoting_round_trips, "shquote: quotes only what needs it");
	RUN(rerun_line_replaces_old_confirm,
	    "confirm: the re-run line carries the new token only");
	UNIT_DONE();
}
