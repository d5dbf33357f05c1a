/* Unit tests for lib/dnsq.c: real queries to a dnsmasq that the test starts
 * on loopback (skipped when dnsmasq is not installed), and to small fake
 * servers in a thread for what dnsmasq does not do (stray datagrams, no
 * answer, truncation without TCP). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <resolv.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsq.h"
#include "unit.h"

#define SKIP(name, why)                                                        \
	printf("ok %d - %s # skip %s\n", ++unit_count, name, why)

static const char *dnsmasq_path;
static pid_t dnsmasq_pid;
static char server[32]; /* the dnsmasq, "127.0.0.1:PORT" */
static char dnsmasq_log[300];

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static const char *find_dnsmasq(void)
{
	static const char *const dirs[] = {"/usr/sbin",	      "/sbin",
					   "/usr/bin",	      "/bin",
					   "/usr/local/sbin", "/usr/local/bin"};
	static char path[300];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(path, sizeof(path), "%s/dnsmasq", dirs[i]);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

/* A loopback socket of the given type on a port chosen by the kernel. */
static int bound_socket(int family, int type, unsigned *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons((uint16_t)*port);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons((uint16_t)*port);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6
			      ? ((struct sockaddr_in6 *)&ss)->sin6_port
			      : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A port free for UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
static unsigned free_port(void)
{
	for (int i = 0; i < 20; i++) {
		unsigned port = 0;
		int u = bound_socket(AF_INET, SOCK_DGRAM, &port), t;

		if (u < 0)
			continue;
		t = bound_socket(AF_INET, SOCK_STREAM, &port);
		close(u);
		if (t >= 0) {
			close(t);
			return port;
		}
	}
	return 0;
}

/* dns-rr data for a name: its wire form in hex (dnsmasq has no NS option
 * outside its authoritative mode, which answers nothing else). */
static const char *wire_hex(const char *name, char *hex, size_t size)
{
	unsigned char wire[NS_MAXCDNAME];
	int n = dn_comp(name, wire, sizeof(wire), NULL, NULL);

	hex[0] = '\0';
	for (int i = 0; i < n && (size_t)(2 * i + 3) <= size; i++)
		snprintf(hex + 2 * i, 3, "%02x", wire[i]);
	return hex;
}

static int write_config(const char *path)
{
	char h1[600], h2[600];
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "local=/test/\n"
		   "host-record=www.test,192.0.2.1,2001:db8::1\n"
		   "host-record=www.zone.test,192.0.2.7\n"
		   "address=/wild.test/192.0.2.10\n"
		   "cname=alias.test,mid.test\n"
		   "cname=mid.test,www.test\n"
		   "mx-host=test,mail.test,10\n"
		   "mx-host=test,backup.test,20\n"
		   "txt-record=txt.test,\"v=spf1 -all\"\n"
		   "txt-record=multi.test,\"part one \",\"part two\"\n"
		   "srv-host=_http._tcp.test,www.test,80,1,2\n"
		   "dns-rr=bad.test,1,010203\n"
		   "dns-rr=ctl.test,16,03610962\n"); /* "a\tb" */
	fprintf(f, "dns-rr=zone.test,2,%s\n",
		wire_hex("ns1.zone.test", h1, sizeof(h1)));
	fprintf(f, "dns-rr=zone.test,2,%s\n",
		wire_hex("ns2.zone.test", h2, sizeof(h2)));
	/* A CNAME to a name with NS records of its own. */
	fprintf(f,
		"host-record=apex.test,192.0.2.30\n"
		"cname=status.other.test,apex.test\n"
		"dns-rr=apex.test,2,%s\n",
		wire_hex("ns.apex.test", h1, sizeof(h1)));
	/* serial 1, refresh 3600, retry 900, expire 604800, minimum 300 */
	fprintf(f, "dns-rr=zone.test,6,%s%s%s\n",
		wire_hex("ns1.zone.test", h1, sizeof(h1)),
		wire_hex("hostmaster.zone.test", h2, sizeof(h2)),
		"0000000100000e100000038400093a800000012c");
	/* More records than are kept, and a longer chain than followed. */
	for (int i = 0; i < 300; i++)
		fprintf(f, "host-record=many.test,%s.%d\n",
			i < 256 ? "198.51.100" : "203.0.113", i % 256);
	for (int i = 0; i < 20; i++)
		fprintf(f, "cname=c%d.test,c%d.test\n", i, i + 1);
	fprintf(f, "host-record=c20.test,192.0.2.20\n");
	/* Eight strings of 201 bytes: more than 512, so TC over UDP. */
	for (int i = 0; i < 8; i++) {
		fprintf(f, "txt-record=big.test,\"");
		for (int j = 0; j < 200; j++)
			fputc('x', f);
		fprintf(f, "%d\"\n", i);
	}
	return fclose(f);
}

static void show_log(void)
{
	char line[512];
	FILE *f = fopen(dnsmasq_log, "r");

	while (f && fgets(line, sizeof(line), f))
		printf("# dnsmasq: %s", line);
	if (f)
		fclose(f);
}

static void stop_dnsmasq(void)
{
	if (dnsmasq_pid <= 0)
		return;
	kill(dnsmasq_pid, SIGTERM);
	waitpid(dnsmasq_pid, NULL, 0);
	dnsmasq_pid = 0;
}

/* Start dnsmasq on a free port and wait until it answers. It runs as the
 * user and group of the test (no change of credentials, so that the
 * parent-death signal stays set and a crashed test leaves no dnsmasq). */
static int start_dnsmasq(const char *dir)
{
	char conf[300], port_opt[32], conf_opt[320], user_opt[300],
		group_opt[300];
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());

	snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", dir);
	snprintf(dnsmasq_log, sizeof(dnsmasq_log), "%s/dnsmasq.log", dir);
	if (!pw || !gr || write_config(conf) < 0)
		return -1;
	snprintf(conf_opt, sizeof(conf_opt), "--conf-file=%s", conf);
	snprintf(user_opt, sizeof(user_opt), "--user=%s", pw->pw_name);
	snprintf(group_opt, sizeof(group_opt), "--group=%s", gr->gr_name);
	for (int attempt = 0; attempt < 3; attempt++) {
		unsigned port = free_port();
		pid_t parent = getpid();

		snprintf(port_opt, sizeof(port_opt), "--port=%u", port);
		snprintf(server, sizeof(server), "127.0.0.1:%u", port);
		fflush(stdout);
		dnsmasq_pid = fork();
		if (dnsmasq_pid < 0)
			return -1;
		if (dnsmasq_pid == 0) {
			char *argv[] = {(char *)dnsmasq_path,
					"--no-daemon",
					"--no-resolv",
					"--no-hosts",
					port_opt,
					"--listen-address=127.0.0.1",
					"--bind-interfaces",
					"--pid-file=",
					user_opt,
					group_opt,
					conf_opt,
					NULL};
			int log = open(dnsmasq_log,
				       O_WRONLY | O_CREAT | O_APPEND, 0644);
			int null = open("/dev/null", O_RDONLY);

			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent || log < 0 || null < 0)
				_exit(127);
			dup2(null, 0);
			dup2(log, 1);
			dup2(log, 2);
			execv(dnsmasq_path, argv);
			_exit(127);
		}
		/* Refused at once until it listens; up to 10s in all. */
		for (int i = 0; i < 250; i++) {
			struct dnsq_result r;
			struct sd_err err = {0};

			if (waitpid(dnsmasq_pid, NULL, WNOHANG) ==
			    dnsmasq_pid) {
				dnsmasq_pid = 0; /* exited: port taken? */
				break;
			}
			if (dnsq_query(server, "www.test", "A", 20, &r, &err) ==
			    0) {
				dnsq_result_release(&r);
				return 0;
			}
			dnsq_result_release(&r);
			sleep_ms(20);
		}
		printf("# dnsmasq did not answer on %s\n", server);
		show_log();
		stop_dnsmasq();
	}
	server[0] = '\0';
	return -1;
}

static int has(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/* One query to the dnsmasq, expected to get an answer. */
static int ask(const char *name, const char *type, struct dnsq_result *r)
{
	struct sd_err err = {0};
	int rc = dnsq_query(server, name, type, 2000, r, &err);

	if (rc < 0)
		printf("# %s %s: %s\n", name, type, err.msg);
	return rc;
}

static void a_record(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("www.test", "A", &r), 0);
	CHECK_STR(r.rcode, "NOERROR");
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "192.0.2.1");
	CHECK_INT(r.ncnames, 0);
	CHECK_STR(r.server, server);
	CHECK(!r.tcp);
	CHECK_STR(r.error, "");
	dnsq_result_release(&r);
	CHECK(r.answers == NULL && r.n == 0);

	/* Names are compared without regard to case; the type too. */
	CHECK_INT(ask("WWW.Test.", "a", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "192.0.2.1");
	dnsq_result_release(&r);

	CHECK_INT(ask("any.thing.wild.test", "A", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "192.0.2.10");
	dnsq_result_release(&r);
}

static void aaaa_record(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("www.test", "AAAA", &r), 0);
	CHECK_STR(r.rcode, "NOERROR");
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "2001:db8::1");
	dnsq_result_release(&r);
	/* A name with an A record only: no AAAA answer, and no error. */
	CHECK_INT(ask("www.zone.test", "AAAA", &r), 0);
	CHECK_STR(r.rcode, "NOERROR");
	CHECK_INT(r.n, 0);
	dnsq_result_release(&r);
}

static void cname_chain(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("alias.test", "A", &r), 0);
	CHECK_STR(r.rcode, "NOERROR");
	CHECK_INT(r.ncnames, 2);
	if (r.ncnames == 2) {
		CHECK_STR(r.cnames[0], "mid.test");
		CHECK_STR(r.cnames[1], "www.test");
	}
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "192.0.2.1");
	dnsq_result_release(&r);

	/* Asked for the CNAME itself: the first hop, no chain. */
	CHECK_INT(ask("alias.test", "CNAME", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "mid.test");
	CHECK_INT(r.ncnames, 0);
	dnsq_result_release(&r);
}

static void mx_srv_ptr_records(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("test", "MX", &r), 0);
	CHECK_INT(r.n, 2);
	CHECK(has(r.answers, r.n, "10 mail.test"));
	CHECK(has(r.answers, r.n, "20 backup.test"));
	dnsq_result_release(&r);

	CHECK_INT(ask("_http._tcp.test", "srv", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "1 2 80 www.test");
	dnsq_result_release(&r);

	CHECK_INT(ask("1.2.0.192.in-addr.arpa", "PTR", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "www.test");
	dnsq_result_release(&r);
}

static void txt_records(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("txt.test", "TXT", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "v=spf1 -all");
	dnsq_result_release(&r);

	/* The strings of one record are joined, as SPF reads them. */
	CHECK_INT(ask("multi.test", "TXT", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "part one part two");
	dnsq_result_release(&r);

	/* A control character is shown, not passed on. */
	CHECK_INT(ask("ctl.test", "TXT", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "a\\009b");
	dnsq_result_release(&r);
}

static void truncated_answer_comes_over_tcp(void)
{
	struct dnsq_result r;
	char want[202];

	CHECK_INT(ask("big.test", "TXT", &r), 0);
	CHECK(r.tcp);
	CHECK_STR(r.rcode, "NOERROR");
	CHECK_INT(r.n, 8);
	memset(want, 'x', 200);
	for (int i = 0; i < 8; i++) {
		want[200] = (char)('0' + i);
		want[201] = '\0';
		CHECK(has(r.answers, r.n, want));
	}
	dnsq_result_release(&r);
}

static void records_and_chain_are_capped(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("many.test", "A", &r), 0);
	CHECK_INT(r.n, DNSQ_MAX_ANSWERS);
	CHECK(r.truncated);
	CHECK(r.tcp);
	dnsq_result_release(&r);

	CHECK_INT(ask("c0.test", "A", &r), 0);
	CHECK_INT(r.ncnames, DNSQ_MAX_CNAMES);
	if (r.ncnames == DNSQ_MAX_CNAMES) {
		CHECK_STR(r.cnames[0], "c1.test");
		CHECK_STR(r.cnames[DNSQ_MAX_CNAMES - 1], "c16.test");
	}
	CHECK(r.truncated);
	CHECK_INT(r.n, 0); /* the end of the chain is not reached */
	dnsq_result_release(&r);

	/* Within the caps, nothing is cut. */
	CHECK_INT(ask("c5.test", "A", &r), 0);
	CHECK_INT(r.ncnames, 15);
	CHECK(!r.truncated);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "192.0.2.20");
	dnsq_result_release(&r);
}

static void ns_soa_records_and_the_zone_of_a_host(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	char zone[256] = "unchanged";

	CHECK_INT(ask("zone.test", "NS", &r), 0);
	CHECK_INT(r.n, 2);
	CHECK(has(r.answers, r.n, "ns1.zone.test"));
	CHECK(has(r.answers, r.n, "ns2.zone.test"));
	dnsq_result_release(&r);

	CHECK_INT(ask("zone.test", "SOA", &r), 0);
	CHECK_INT(r.n, 1);
	if (r.n == 1)
		CHECK_STR(r.answers[0], "ns1.zone.test hostmaster.zone.test 1 "
					"3600 900 604800 300");
	dnsq_result_release(&r);

	/* www.zone.test has no NS records: its zone's are found a level up. */
	CHECK_INT(dnsq_zone_ns(server, "www.zone.test", 2000, &r, zone,
			       sizeof(zone), &err),
		  0);
	CHECK_STR(zone, "zone.test");
	CHECK_INT(r.n, 2);
	CHECK(has(r.answers, r.n, "ns1.zone.test"));
	dnsq_result_release(&r);

	/* The NS records met through a CNAME are the target's, not those of
	 * the zone of the name asked. */
	CHECK_INT(ask("status.other.test", "NS", &r), 0);
	CHECK_INT(r.ncnames, 1);
	CHECK(has(r.answers, r.n, "ns.apex.test"));
	dnsq_result_release(&r);
	CHECK_INT(dnsq_zone_ns(server, "status.other.test", 2000, &r, zone,
			       sizeof(zone), &err),
		  0);
	CHECK_STR(zone, "");
	CHECK_INT(r.n, 0);
	dnsq_result_release(&r);

	/* No level has any: an answer all the same, and an empty zone. */
	CHECK_INT(dnsq_zone_ns(server, "a.b.nx.test", 2000, &r, zone,
			       sizeof(zone), &err),
		  0);
	CHECK_STR(zone, "");
	CHECK_INT(r.n, 0);
	dnsq_result_release(&r);
}

static void rcodes_nxdomain_and_refused(void)
{
	struct dnsq_result r;

	CHECK_INT(ask("nx.test", "A", &r), 0);
	CHECK_STR(r.rcode, "NXDOMAIN");
	CHECK_INT(r.n, 0);
	CHECK_STR(r.error, "");
	dnsq_result_release(&r);
	/* Outside its local domains, with no upstream: refused. */
	CHECK_INT(ask("example.com", "A", &r), 0);
	CHECK_STR(r.rcode, "REFUSED");
	CHECK_INT(r.n, 0);
	dnsq_result_release(&r);
}

static void malformed_record_is_an_error(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};

	/* An A record of 3 bytes. */
	CHECK_INT(dnsq_query(server, "bad.test", "A", 2000, &r, &err), -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(r.error, "malformed A record");
	CHECK_CONTAINS(err.msg, "'bad.test'");
	CHECK_INT(r.n, 0);
	dnsq_result_release(&r);
}

/* A fake server on loopback: it reads one query and sends what its mode
 * says, from its own socket and, for a stray, from another. */
enum fake_mode {
	FAKE_SILENT,	  /* sends nothing */
	FAKE_STRAYS,	  /* wrong answers, then the right one: SERVFAIL */
	FAKE_ONLY_BAD,	  /* wrong answers only */
	FAKE_NO_QUESTION, /* a header alone: NOERROR (ignored), FORMERR */
	FAKE_TC,	  /* the TC bit; nothing listens on TCP */
};

struct fake {
	int fd, family;
	enum fake_mode mode;
	unsigned port;
	int got_query;
};

static void set_header(unsigned char *m, int id_delta, int qr, int rcode,
		       int tc, int no_question)
{
	HEADER h;

	memcpy(&h, m, HFIXEDSZ);
	h.id = (unsigned)(h.id + id_delta) & 0xffff;
	h.qr = (unsigned)qr;
	h.rcode = (unsigned)rcode;
	h.tc = (unsigned)tc;
	if (no_question)
		h.qdcount = 0;
	memcpy(m, &h, HFIXEDSZ);
}

static void *fake_server(void *arg)
{
	struct fake *f = arg;
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	unsigned char q[512], m[520];
	struct pollfd p = {.fd = f->fd, .events = POLLIN};
	ssize_t n;
	int other;
	unsigned other_port = 0;

	if (poll(&p, 1, 5000) != 1)
		return NULL;
	n = recvfrom(f->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
	if (n < HFIXEDSZ + 5)
		return NULL;
	f->got_query = 1;
#define SEND(len)                                                              \
	sendto(f->fd, m, (size_t)(len), 0, (struct sockaddr *)&from, flen)
	switch (f->mode) {
	case FAKE_SILENT:
		break;
	case FAKE_STRAYS:
	case FAKE_ONLY_BAD:
		memcpy(m, "\x01\x02junk", 6);
		SEND(6);
		memcpy(m, q, (size_t)n); /* another ID */
		set_header(m, 1, 1, NOERROR, 0, 0);
		SEND(n);
		memcpy(m, q, (size_t)n); /* not a response */
		set_header(m, 0, 0, NOERROR, 0, 0);
		SEND(n);
		memcpy(m, q, (size_t)n); /* another question: MX */
		set_header(m, 0, 1, NOERROR, 0, 0);
		ns_put16(ns_t_mx, m + n - 4);
		SEND(n);
		memcpy(m, q, (size_t)n); /* another name: xww.example.com */
		set_header(m, 0, 1, NOERROR, 0, 0);
		m[HFIXEDSZ + 1] = 'x';
		SEND(n);
		memcpy(m, q, (size_t)n); /* trailing garbage: does not parse */
		set_header(m, 0, 1, NOERROR, 0, 0);
		m[n] = 0xff;
		SEND(n + 1);
		/* The right answer, from another port: the kernel drops it. */
		other = bound_socket(f->family, SOCK_DGRAM, &other_port);
		if (other >= 0) {
			memcpy(m, q, (size_t)n);
			set_header(m, 0, 1, NOERROR, 0, 0);
			sendto(other, m, (size_t)n, 0, (struct sockaddr *)&from,
			       flen);
			close(other);
		}
		/* The name in another case is the same name. */
		if (f->mode == FAKE_STRAYS) {
			memcpy(m, q, (size_t)n);
			set_header(m, 0, 1, SERVFAIL, 0, 0);
			for (ssize_t i = HFIXEDSZ; i < n - 4; i++)
				if (m[i] >= 'a' && m[i] <= 'z')
					m[i] = (unsigned char)(m[i] - 32);
			SEND(n);
		}
		break;
	case FAKE_NO_QUESTION:
		memcpy(m, q, HFIXEDSZ);
		set_header(m, 0, 1, NOERROR, 0, 1);
		SEND(HFIXEDSZ);
		set_header(m, 0, 1, FORMERR, 0, 1);
		SEND(HFIXEDSZ);
		break;
	case FAKE_TC:
		memcpy(m, q, (size_t)n);
		set_header(m, 0, 1, NOERROR, 1, 0);
		SEND(n);
		break;
	}
#undef SEND
	return NULL;
}

/* Ask a fake server in mode; 0 when it could not be set up. */
static int ask_fake(int family, enum fake_mode mode, long timeout_ms,
		    struct dnsq_result *r, struct sd_err *err, int *rc)
{
	struct fake f = {.family = family, .mode = mode};
	char where[64];
	pthread_t t;

	memset(r, 0, sizeof(*r));
	f.fd = bound_socket(family, SOCK_DGRAM, &f.port);
	if (f.fd < 0)
		return 0;
	if (pthread_create(&t, NULL, fake_server, &f)) {
		close(f.fd);
		return 0;
	}
	if (family == AF_INET6)
		snprintf(where, sizeof(where), "[::1]:%u", f.port);
	else
		snprintf(where, sizeof(where), "127.0.0.1:%u", f.port);
	*rc = dnsq_query(where, "www.example.com", "A", timeout_ms, r, err);
	pthread_join(t, NULL);
	close(f.fd);
	CHECK(f.got_query);
	CHECK_STR(r->server, where);
	return 1;
}

static void stray_datagrams_are_ignored(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	int rc = 0;

	/* Only the last datagram answers the query: its rcode is taken. */
	CHECK(ask_fake(AF_INET, FAKE_STRAYS, 3000, &r, &err, &rc));
	CHECK_INT(rc, 0);
	CHECK_STR(r.rcode, "SERVFAIL");
	CHECK_STR(r.error, "");
	dnsq_result_release(&r);

	/* None does: a timeout that says what it ignored. */
	CHECK(ask_fake(AF_INET, FAKE_ONLY_BAD, 500, &r, &err, &rc));
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(r.error, "timed out after 500ms");
	CHECK_CONTAINS(r.error, "ignored 6 datagrams");
	dnsq_result_release(&r);
}

static void answer_without_question_only_with_an_error_rcode(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	int rc = 0;

	CHECK(ask_fake(AF_INET, FAKE_NO_QUESTION, 3000, &r, &err, &rc));
	CHECK_INT(rc, 0);
	CHECK_STR(r.rcode, "FORMERR");
	dnsq_result_release(&r);
}

static void truncated_without_tcp_fails(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	int rc = 0;

	CHECK(ask_fake(AF_INET, FAKE_TC, 3000, &r, &err, &rc));
	CHECK_INT(rc, -1);
	CHECK(r.tcp);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(r.error, "connect over TCP: connection refused");
	dnsq_result_release(&r);
}

static void ipv6_server(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	int rc = 0;

	CHECK(ask_fake(AF_INET6, FAKE_STRAYS, 3000, &r, &err, &rc));
	CHECK_INT(rc, 0);
	CHECK_STR(r.rcode, "SERVFAIL");
	dnsq_result_release(&r);
}

static void timeout_when_nothing_answers(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	int rc = 0;

	CHECK(ask_fake(AF_INET, FAKE_SILENT, 300, &r, &err, &rc));
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(r.error, "timed out after 300ms");
	CHECK_CONTAINS(err.msg, "'www.example.com' A");
	CHECK_CONTAINS(err.msg, r.server);
	CHECK_STR(r.rcode, "");
	CHECK_INT(r.n, 0);
	dnsq_result_release(&r);
}

static void refused_when_no_socket(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	char where[64];
	unsigned port = 0;
	int fd = bound_socket(AF_INET, SOCK_DGRAM, &port);

	CHECK(fd >= 0);
	close(fd);
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	CHECK_INT(dnsq_query(where, "www.example.com", "A", 5000, &r, &err),
		  -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(r.error, "connection refused");
	dnsq_result_release(&r);
}

static void bad_type(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};

	CHECK_INT(dnsq_validate(NULL, "example.com", "AXFR", &err), -1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_CONTAINS(err.msg, "unknown DNS type 'AXFR'");
	CHECK_CONTAINS(err.msg, "A, AAAA, CNAME");
	CHECK_INT(dnsq_validate(NULL, "example.com", "", &err), -1);
	CHECK_CONTAINS(err.msg, "empty DNS type");
	CHECK_INT(dnsq_validate(NULL, "example.com", NULL, &err), -1);
	/* The query is refused before anything is sent. */
	err.code = 0;
	CHECK_INT(
		dnsq_query("127.0.0.1:9", "example.com", "ANY", 1000, &r, &err),
		-1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_CONTAINS(err.msg, "'ANY'");
	CHECK_STR(r.error, "");
	dnsq_result_release(&r);
	CHECK_INT(dnsq_validate("127.0.0.1", "example.com", "srv", &err), 0);
}

static void bad_name(void)
{
	struct dnsq_result r;
	struct sd_err err = {0};
	char name[300], label[70];

	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(name, sizeof(name), "%s.example.com", label);
	CHECK_INT(dnsq_validate(NULL, name, "A", &err), -1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_CONTAINS(err.msg, "longer than 63 characters");
	CHECK_CONTAINS(err.msg, label);
	label[63] = '\0'; /* 63 is allowed */
	snprintf(name, sizeof(name), "%s.example.com", label);
	CHECK_INT(dnsq_validate(NULL, name, "A", &err), 0);

	CHECK_INT(dnsq_validate(NULL, "www..example.com", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "invalid DNS name 'www..example.com': empty "
				"label");
	CHECK_INT(dnsq_validate(NULL, ".example.com", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "empty label");
	CHECK_INT(dnsq_validate(NULL, "example.com..", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "empty label");
	CHECK_INT(dnsq_validate(NULL, "", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "empty DNS name");
	CHECK_INT(dnsq_validate(NULL, "a b.example.com", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "character 0x20");
	CHECK_INT(dnsq_validate(NULL, "a/b.example.com", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "character '/'");
	CHECK_INT(dnsq_validate(NULL,
				"b\xc3\xbc"
				"cher.example",
				"A", &err),
		  -1);
	CHECK_CONTAINS(err.msg, "xn--");
	/* 4 x 63 + 3 dots = 255 > 253; 253 is allowed. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	CHECK_INT(dnsq_validate(NULL, name, "A", &err), -1);
	CHECK_CONTAINS(err.msg, "longer than 253 characters");
	name[253] = '\0';
	CHECK_INT(dnsq_validate(NULL, name, "A", &err), 0);

	CHECK_INT(dnsq_validate(NULL, "www.example.com.", "A", &err), 0);
	CHECK_INT(dnsq_validate(NULL, "_http._tcp.example.com", "SRV", &err),
		  0);
	CHECK_INT(dnsq_validate(NULL, ".", "NS", &err), 0);

	err.code = 0;
	CHECK_INT(dnsq_query("127.0.0.1:9", "a..b", "A", 1000, &r, &err), -1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_STR(r.error, "");
	dnsq_result_release(&r);
}

static void bad_server(void)
{
	static const char *const bad[] = {
		"dns.example.com", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:",	   "127.0.0.1:x", "127.1",
		"1.2.3.256",	   "[::1",	  "[::1]x",
		"[::1]:",	   "[127.0.0.1]", ":53",
		"[]:53",
	};
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "[2001:db8::1]",
		"::1",
	};
	struct dnsq_result r;
	struct sd_err err = {0};
	char want[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err.code = 0;
		if (dnsq_validate(bad[i], "example.com", "A", &err) != -1)
			UNIT_FAIL("'%s' accepted", bad[i]);
		CHECK_INT(err.code, SD_EXIT_USAGE);
		snprintf(want, sizeof(want), "invalid DNS server '%s'", bad[i]);
		CHECK_CONTAINS(err.msg, want);
	}
	CHECK_INT(dnsq_validate("", "example.com", "A", &err), -1);
	CHECK_CONTAINS(err.msg, "empty DNS server");
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (dnsq_validate(good[i], "example.com", "A", &err) != 0)
			UNIT_FAIL("'%s' refused: %s", good[i], err.msg);
	CHECK_INT(
		dnsq_query("localhost:53", "example.com", "A", 1000, &r, &err),
		-1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_CONTAINS(err.msg, "not an IP address");
	dnsq_result_release(&r);
	/* A timeout out of range. */
	CHECK_INT(dnsq_query("127.0.0.1:9", "example.com", "A", 0, &r, &err),
		  -1);
	CHECK_INT(err.code, SD_EXIT_USAGE);
	CHECK_CONTAINS(err.msg, "timeout");
	dnsq_result_release(&r);
}

/* The default server is the first nameserver line of /etc/resolv.conf
 * (127.0.0.1 when none), found without sending anything. */
static void default_server_from_resolv_conf(void)
{
	char got[300], want[300] = "127.0.0.1:53", line[512], addr[256];
	struct sd_err err = {0};
	FILE *f = fopen("/etc/resolv.conf", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %255s", addr) == 1) {
			if (strchr(addr, ':'))
				snprintf(want, sizeof(want), "[%s]:53", addr);
			else
				snprintf(want, sizeof(want), "%s:53", addr);
			break;
		}
	if (f)
		fclose(f);
	CHECK_INT(dnsq_default_server(got, sizeof(got), &err), 0);
	CHECK_STR(got, want);
	CHECK_INT(dnsq_validate(got, "example.com", "A", &err), 0);
}

int main(void)
{
	static const struct {
		void (*fn)(void);
		const char *name;
	} live[] = {
		{a_record, "dnsq: A record, names in any case"},
		{aaaa_record, "dnsq: AAAA record, and none"},
		{cname_chain, "dnsq: the CNAME chain and the final address"},
		{mx_srv_ptr_records, "dnsq: MX, SRV and PTR records as text"},
		{txt_records, "dnsq: TXT records, strings joined"},
		{truncated_answer_comes_over_tcp,
		 "dnsq: a truncated answer is asked again over TCP"},
		{records_and_chain_are_capped,
		 "dnsq: records and the CNAME chain are capped"},
		{ns_soa_records_and_the_zone_of_a_host,
		 "dnsq: NS and SOA records, and the zone of a host"},
		{rcodes_nxdomain_and_refused,
		 "dnsq: NXDOMAIN and REFUSED rcodes"},
		{malformed_record_is_an_error,
		 "dnsq: a malformed record is an error"},
	};
	const char *dir = unit_mkdtemp("dnsq");
	unsigned port;
	int fd;

	dnsmasq_path = find_dnsmasq();
	if (dnsmasq_path && start_dnsmasq(dir) < 0)
		printf("# dnsmasq could not be started\n");
	for (size_t i = 0; i < sizeof(live) / sizeof(*live); i++) {
		if (!dnsmasq_path)
			SKIP(live[i].name, "dnsmasq is not installed");
		else
			RUN(live[i].fn, live[i].name);
	}
	stop_dnsmasq();

	RUN(stray_datagrams_are_ignored,
	    "dnsq: stray and spoofed datagrams are ignored");
	RUN(answer_without_question_only_with_an_error_rcode,
	    "dnsq: an answer without question only with an error rcode");
	RUN(truncated_without_tcp_fails,
	    "dnsq: truncated over UDP and no TCP is an error");
	port = 0;
	fd = bound_socket(AF_INET6, SOCK_DGRAM, &port);
	if (fd < 0) {
		SKIP("dnsq: an IPv6 server", "no IPv6 loopback here");
	} else {
		close(fd);
		RUN(ipv6_server, "dnsq: an IPv6 server");
	}
	RUN(timeout_when_nothing_answers, "dnsq: a silent server times out");
	RUN(refused_when_no_socket, "dnsq: a closed port is refused");
	RUN(bad_type, "dnsq: an unknown type is a usage error");
	RUN(bad_name, "dnsq: bad names are usage errors that say why");
	RUN(bad_server, "dnsq: bad server strings are usage errors");
	RUN(default_server_from_resolv_conf,
	    "dnsq: the default server comes from /etc/resolv.conf");
	UNIT_DONE();
}
