/* Option parsing over getopt_long; see opts.h. */
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "opts.h"

int opts_init(struct opt_parser *p, int argc, char **argv,
	      const struct opt_spec *specs, const char *cmd,
	      bool stop_at_operand)
{
	size_t n = 0, s = 0;

	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->specs = specs;
	p->cmd = cmd;
	while (specs[n].id)
		n++;
	p->longopts = calloc(n + 1, sizeof(*p->longopts));
	if (!p->longopts)
		return -1;
	/* '+' stops at the first operand, ':' reports a missing argument. */
	if (stop_at_operand)
		p->shortopts[s++] = '+';
	p->shortopts[s++] = ':';
	for (size_t i = 0; i < n; i++) {
		p->longopts[i].name = specs[i].long_name;
		p->longopts[i].has_arg = specs[i].arg == OPT_NONE ? no_argument
					 : specs[i].arg == OPT_REQUIRED
						 ? required_argument
						 : optional_argument;
		p->longopts[i].val = specs[i].id;
		if (specs[i].short_name && s + 3 < sizeof(p->shortopts)) {
			p->shortopts[s++] = specs[i].short_name;
			if (specs[i].arg == OPT_REQUIRED)
				p->shortopts[s++] = ':';
		}
	}
	return 0;
}

static const struct opt_spec *by_short(const struct opt_spec *specs, int c)
{
	for (; specs->id; specs++)
		if (specs->short_name && specs->short_name == c)
			return specs;
	return NULL;
}

static const struct opt_spec *by_id(const struct opt_spec *specs, int id)
{
	for (; specs->id; specs++)
		if (specs->id == id)
			return specs;
	return NULL;
}

int opts_next(struct opt_parser *p, const char **arg)
{
	const struct opt_spec *spec;
	int c;

	if (!p->started) {
		optind = 0; /* GNU: start afresh, even after another parse */
		p->started = true;
	}
	opterr = 0;
	c = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, NULL);
	*arg = optarg;
	if (c == -1)
		return -1;
	if (c == '?') {
		const char *bad = p->argv[optind - 1];

		if (optopt && !(bad[0] == '-' && bad[1] == '-'))
			msg_usage(p->cmd, "unknown option '-%c'", optopt);
		else if (optopt)
			msg_usage(p->cmd, "option '%s' takes no value", bad);
		else
			msg_usage(p->cmd, "unknown option '%s'", bad);
		return -2;
	}
	if (c == ':') {
		spec = optopt > 255 ? by_id(p->specs, optopt)
				    : by_short(p->specs, optopt);
		if (spec && optopt > 255)
			msg_usage(p->cmd, "option '--%s' needs a value",
				  spec->long_name);
		else
			msg_usage(p->cmd, "option '-%c' needs a value", optopt);
		return -2;
	}
	spec = c > 255 ? by_id(p->specs, c) : by_short(p->specs, c);
	return spec ? spec->id : c;
}

int opts_index(const struct opt_parser *p)
{
	(void)p;
	return optind;
}

void opts_release(struct opt_parser *p)
{
	free(p->longopts);
	p->longopts = NULL;
}

void opts_print_help(FILE *out, const struct opt_spec *specs)
{
	for (; specs->id; specs++) {
		char left[80];
		int n;

		if (specs->short_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s",
				     specs->short_name, specs->long_name);
		else
			n = snprintf(left, sizeof(left), "      --%s",
				     specs->long_name);
		if (specs->arg == OPT_REQUIRED)
			snprintf(left + n, sizeof(left) - (size_t)n, " %s",
				 specs->argname);
		else if (specs->arg == OPT_OPTIONAL)
			snprintf(left + n, sizeof(left) - (size_t)n, "[=%s]",
				 specs->argname);
		fprintf(out, "%-26s %s\n", left, specs->help);
	}
}
