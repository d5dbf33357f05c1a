/* The probe's history in SQLite; see history.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "history.h"

#define HOUR_MS	   3600000LL
#define DAY_MS	   (24 * HOUR_MS)
#define RECENT	   50
#define DAYS_SHOWN 90

struct history {
	sqlite3 *db;
	char *path;
	char id[17]; /* this database's random id, for idempotency keys */
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS results(key TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL, up INTEGER NOT NULL,"
	" duration_ms INTEGER, status INTEGER, error TEXT, failed TEXT);"
	"CREATE INDEX IF NOT EXISTS results_key_at ON results(key, at_ms);"
	"CREATE INDEX IF NOT EXISTS results_at ON results(at_ms);"
	"CREATE TABLE IF NOT EXISTS hourly(key TEXT NOT NULL,"
	" hour INTEGER NOT NULL, checks INTEGER NOT NULL, up INTEGER NOT NULL,"
	" total_ms INTEGER NOT NULL, PRIMARY KEY(key, hour));"
	"CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY,"
	" failures INTEGER NOT NULL, successes INTEGER NOT NULL,"
	" since_ms INTEGER NOT NULL, incident INTEGER, last TEXT);"
	"CREATE TABLE IF NOT EXISTS incidents(id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL, opened_ms INTEGER NOT NULL, resolved_ms INTEGER,"
	" reason TEXT);"
	"CREATE TABLE IF NOT EXISTS transitions(idempotency TEXT PRIMARY KEY,"
	" incident INTEGER NOT NULL, kind TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" sent_ms INTEGER, attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT);"
	"CREATE TABLE IF NOT EXISTS deliveries(id TEXT PRIMARY KEY,"
	" transition TEXT NOT NULL, sent_ms INTEGER,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL"
	" DEFAULT 0, last_error TEXT);";

/* The system's error behind SQLite's, as " (No space left on device)":
 * a full disk is "disk I/O error" when SQLite cannot grow its WAL index,
 * and a directory we cannot write to "attempt to write a readonly
 * database" while the file itself is writable; neither said what to fix
 * (tests/faults.bats). Empty for other errors, whose own words say it. */
static const char *os_cause(struct history *h, char *buf, size_t n)
{
	int code = sqlite3_extended_errcode(h->db) & 0xff;
	int e = sqlite3_system_errno(h->db);
	const char *slash = strrchr(h->path, '/');
	char dir[4096];

	buf[0] = '\0';
	if (e > 0 && (code == SQLITE_IOERR || code == SQLITE_FULL ||
		      code == SQLITE_CANTOPEN || code == SQLITE_READONLY))
		snprintf(buf, n, " (%s)", strerror(e));
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
			 (int)(slash - h->path) + (slash == h->path), h->path);
	/* The -wal and -shm files are created beside the database. */
	if (!buf[0] && code == SQLITE_READONLY && access(dir, W_OK) < 0)
		snprintf(buf, n, " (its directory '%s': %s)", dir,
			 strerror(errno));
	return buf;
}

static int db_fail(struct history *h, struct sd_err *err, const char *what)
{
	char cause[4200];

	return err_set(err, SD_EXIT_CANNOT, "%s '%s': %s%s", what, h->path,
		       sqlite3_errmsg(h->db),
		       os_cause(h, cause, sizeof(cause)));
}

static int exec(struct history *h, const char *sql, struct sd_err *err)
{
	char *msg = NULL, cause[4200];

	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	err_set(err, SD_EXIT_CANNOT, "history '%s': %s%s", h->path,
		msg ? msg : sqlite3_errmsg(h->db),
		os_cause(h, cause, sizeof(cause)));
	sqlite3_free(msg);
	return -1;
}

/* The file is a safedeploy probe history (or empty): meta says so. */
static int check_ours(struct history *h, struct sd_err *err)
{
	sqlite3_stmt *st = NULL;
	int tables = 0, rc = 0;

	if (sqlite3_prepare_v2(h->db,
			       "SELECT count(*) FROM sqlite_master WHERE "
			       "type = 'table'",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(h, err, "cannot read the history");
	}
	tables = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (tables == 0)
		return 0;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT value FROM meta WHERE key = "
			       "'application'",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0),
		   "safedeploy-probe"))
		rc = err_set(err, SD_EXIT_CANNOT,
			     "'%s' is a database, but not a safedeploy probe "
			     "history",
			     h->path);
	sqlite3_finalize(st);
	return rc;
}

static int load_id(struct history *h, struct sd_err *err)
{
	sqlite3_stmt *st = NULL;
	unsigned char raw[8];

	if (sqlite3_prepare_v2(h->db, "SELECT value FROM meta WHERE key = 'id'",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "cannot read the history");
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(h->id, sizeof(h->id), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return err_errno(err, SD_EXIT_CANNOT, "getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(h->id + 2 * i, 3, "%02x", raw[i]);
	if (sqlite3_prepare_v2(h->db,
			       "INSERT INTO meta(key, value) VALUES "
			       "('application', 'safedeploy-probe'), "
			       "('schema', '1'), ('id', ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "cannot write the history");
	sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return db_fail(h, err, "cannot write the history");
	}
	sqlite3_finalize(st);
	return 0;
}

int history_open(struct history **out, const char *path, int busy_ms,
		 struct sd_err *err)
{
	struct history *h = calloc(1, sizeof(*h));
	int fd;

	*out = NULL;
	if (!h || !(h->path = strdup(path))) {
		free(h);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	/* Created 0600 before SQLite opens it: results can name internal
	 * hosts. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot open the history '%s'",
			  path);
		history_close(h);
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		db_fail(h, err, "cannot open the history");
		history_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h->db, busy_ms);
	sqlite3_extended_result_codes(h->db, 1);
	if (check_ours(h, err) < 0 ||
	    exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
		 err) < 0 ||
	    exec(h, "BEGIN IMMEDIATE", err) < 0) {
		history_close(h);
		return -1;
	}
	if (exec(h, SCHEMA, err) < 0 || load_id(h, err) < 0 ||
	    exec(h, "COMMIT", err) < 0) {
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		history_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	sqlite3_close(h->db);
	free(h->path);
	free(h);
}

/* What made a check fail, in one line: the error, then the conditions
 * that did not hold. */
static void failure_text(const struct probe_result *r, char *buf, size_t n)
{
	size_t i, len = 0;
	json_t *c;

	buf[0] = '\0';
	if (r->error[0])
		len = (size_t)snprintf(buf, n, "%s", r->error);
	json_array_foreach(r->conditions, i, c)
	{
		if (len >= n || json_is_true(json_object_get(c, "success")))
			continue;
		len += (size_t)snprintf(
			buf + len, n - len, "%s%s", len ? "; " : "",
			json_string_value(json_object_get(c, "condition")));
	}
}

struct round {
	struct history *h;
	sqlite3_stmt *ins, *roll, *get_state, *put_state, *open_inc, *close_inc,
		*trans, *prune_raw, *prune_roll;
	struct history_transition *tr;
	size_t ntr, cap;
};

static void round_free(struct round *rd)
{
	sqlite3_finalize(rd->ins);
	sqlite3_finalize(rd->roll);
	sqlite3_finalize(rd->get_state);
	sqlite3_finalize(rd->put_state);
	sqlite3_finalize(rd->open_inc);
	sqlite3_finalize(rd->close_inc);
	sqlite3_finalize(rd->trans);
	sqlite3_finalize(rd->prune_raw);
	sqlite3_finalize(rd->prune_roll);
}

static int prepare(struct round *rd, struct sd_err *err)
{
	sqlite3 *db = rd->h->db;
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} all[] = {
		{&rd->ins, "INSERT INTO results(key, at_ms, up, duration_ms, "
			   "status, error, failed) VALUES (?, ?, ?, ?, ?, ?, "
			   "?)"},
		{&rd->roll,
		 "INSERT INTO hourly(key, hour, checks, up, total_ms) VALUES "
		 "(?, ?, 1, ?, ?) ON CONFLICT(key, hour) DO UPDATE SET "
		 "checks = checks + 1, up = up + excluded.up, total_ms = "
		 "total_ms + excluded.total_ms"},
		{&rd->get_state, "SELECT failures, successes, since_ms, "
				 "incident FROM state WHERE key = ?"},
		{&rd->put_state,
		 "INSERT OR REPLACE INTO state(key, failures, successes, "
		 "since_ms, incident, last) VALUES (?, ?, ?, ?, ?, ?)"},
		{&rd->open_inc, "INSERT INTO incidents(key, opened_ms, reason) "
				"VALUES (?, ?, ?)"},
		{&rd->close_inc,
		 "UPDATE incidents SET resolved_ms = ? WHERE id = ?"},
		{&rd->trans, "INSERT OR IGNORE INTO transitions(idempotency, "
			     "incident, kind, at_ms) VALUES (?, ?, ?, ?)"},
		{&rd->prune_raw, "DELETE FROM results WHERE at_ms < ?"},
		{&rd->prune_roll, "DELETE FROM hourly WHERE hour < ?"},
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
		if (sqlite3_prepare_v2(db, all[i].sql, -1, all[i].st, NULL) !=
		    SQLITE_OK)
			return db_fail(rd->h, err, "cannot write the history");
	return 0;
}

static int step_done(struct round *rd, sqlite3_stmt *st, struct sd_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_fail(rd->h, err, "cannot write the history");
	return 0;
}

static int add_transition(struct round *rd, const char *key, int64_t incident,
			  bool opened, int64_t at_ms, const char *reason,
			  struct sd_err *err)
{
	struct history_transition *t;

	if (rd->ntr == rd->cap) {
		size_t cap = rd->cap ? 2 * rd->cap : 8;
		struct history_transition *v =
			realloc(rd->tr, cap * sizeof(*v));

		if (!v)
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		rd->tr = v;
		rd->cap = cap;
	}
	t = &rd->tr[rd->ntr];
	memset(t, 0, sizeof(*t));
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->incident = incident;
	t->opened = opened;
	t->at_ms = at_ms;
	snprintf(t->idempotency, sizeof(t->idempotency), "%s-incident-%lld-%s",
		 rd->h->id, (long long)incident,
		 opened ? "opened" : "resolved");
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	sqlite3_bind_text(rd->trans, 1, t->idempotency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rd->trans, 2, incident);
	sqlite3_bind_text(rd->trans, 3, opened ? "opened" : "resolved", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(rd->trans, 4, at_ms);
	if (step_done(rd, rd->trans, err) < 0)
		return -1;
	rd->ntr++;
	return 0;
}

static int record_one(struct round *rd, const struct probe_result *r,
		      struct sd_err *err)
{
	const struct probe_endpoint *ep = r->ep;
	int64_t failures = 0, successes = 0, since = r->at_ms, incident = 0;
	bool had_state = false;
	char failed[2048], *last;
	json_t *lj;

	failure_text(r, failed, sizeof(failed));
	sqlite3_bind_text(rd->ins, 1, ep->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rd->ins, 2, r->at_ms);
	/* up is a bool, stored as 0 or 1 on purpose. */
	/* cppcheck-suppress invalidFunctionArgBool */
	sqlite3_bind_int(rd->ins, 3, r->up);
	sqlite3_bind_int64(rd->ins, 4, r->duration_ms);
	sqlite3_bind_int64(rd->ins, 5, r->status);
	sqlite3_bind_text(rd->ins, 6, r->error, -1, SQLITE_STATIC);
	sqlite3_bind_text(rd->ins, 7, failed, -1, SQLITE_STATIC);
	if (step_done(rd, rd->ins, err) < 0)
		return -1;
	sqlite3_bind_text(rd->roll, 1, ep->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rd->roll, 2, r->at_ms / HOUR_MS);
	/* cppcheck-suppress invalidFunctionArgBool ; as above */
	sqlite3_bind_int(rd->roll, 3, r->up);
	sqlite3_bind_int64(rd->roll, 4, r->duration_ms);
	if (step_done(rd, rd->roll, err) < 0)
		return -1;

	sqlite3_bind_text(rd->get_state, 1, ep->key, -1, SQLITE_STATIC);
	if (sqlite3_step(rd->get_state) == SQLITE_ROW) {
		had_state = true;
		failures = sqlite3_column_int64(rd->get_state, 0);
		successes = sqlite3_column_int64(rd->get_state, 1);
		since = sqlite3_column_int64(rd->get_state, 2);
		incident = sqlite3_column_int64(rd->get_state, 3);
	}
	sqlite3_reset(rd->get_state);
	sqlite3_clear_bindings(rd->get_state);
	if (r->up) {
		if (!had_state || failures)
			since = r->at_ms;
		failures = 0;
		successes++;
		if (incident && successes >= ep->success_threshold) {
			sqlite3_bind_int64(rd->close_inc, 1, r->at_ms);
			sqlite3_bind_int64(rd->close_inc, 2, incident);
			if (step_done(rd, rd->close_inc, err) < 0 ||
			    add_transition(rd, ep->key, incident, false,
					   r->at_ms, "", err) < 0)
				return -1;
			incident = 0;
		}
	} else {
		if (!had_state || !failures)
			since = r->at_ms;
		successes = 0;
		failures++;
		if (!incident && failures >= ep->failure_threshold) {
			char reason[2200];

			snprintf(reason, sizeof(reason),
				 "%lld consecutive failures: %s",
				 (long long)failures, failed);
			sqlite3_bind_text(rd->open_inc, 1, ep->key, -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(rd->open_inc, 2, since);
			sqlite3_bind_text(rd->open_inc, 3, reason, -1,
					  SQLITE_STATIC);
			if (step_done(rd, rd->open_inc, err) < 0)
				return -1;
			incident = sqlite3_last_insert_rowid(rd->h->db);
			if (add_transition(rd, ep->key, incident, true,
					   r->at_ms, reason, err) < 0)
				return -1;
		}
	}
	lj = probe_result_json(r);
	last = json_dumps(lj, JSON_COMPACT);
	json_decref(lj);
	sqlite3_bind_text(rd->put_state, 1, ep->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rd->put_state, 2, failures);
	sqlite3_bind_int64(rd->put_state, 3, successes);
	sqlite3_bind_int64(rd->put_state, 4, since);
	if (incident)
		sqlite3_bind_int64(rd->put_state, 5, incident);
	else
		sqlite3_bind_null(rd->put_state, 5);
	sqlite3_bind_text(rd->put_state, 6, last ? last : "{}", -1,
			  SQLITE_TRANSIENT);
	free(last);
	return step_done(rd, rd->put_state, err);
}

int history_record(struct history *h, const struct probe_config *pc,
		   const struct probe_result *r, struct history_transition **tr,
		   size_t *ntr, struct sd_err *err)
{
	struct round rd = {.h = h};
	int64_t newest = 0;

	*tr = NULL;
	*ntr = 0;
	if (exec(h, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (prepare(&rd, err) < 0)
		goto fail;
	for (size_t i = 0; i < pc->n; i++) {
		if (record_one(&rd, &r[i], err) < 0)
			goto fail;
		if (r[i].at_ms > newest)
			newest = r[i].at_ms;
	}
	/* The bounded window: raw results for a week, rollups for 90 days. */
	sqlite3_bind_int64(rd.prune_raw, 1, newest - HISTORY_RAW_DAYS * DAY_MS);
	sqlite3_bind_int64(rd.prune_roll, 1,
			   (newest - HISTORY_ROLLUP_DAYS * DAY_MS) / HOUR_MS);
	if (step_done(&rd, rd.prune_raw, err) < 0 ||
	    step_done(&rd, rd.prune_roll, err) < 0)
		goto fail;
	round_free(&rd);
	if (exec(h, "COMMIT", err) < 0) {
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		free(rd.tr);
		return -1;
	}
	*tr = rd.tr;
	*ntr = rd.ntr;
	return 0;
fail:
	round_free(&rd);
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	free(rd.tr);
	return -1;
}

static json_t *ratio(sqlite3 *db, const char *key, int64_t now_ms,
		     int64_t window_ms)
{
	sqlite3_stmt *st = NULL;
	json_t *v = json_null();

	if (sqlite3_prepare_v2(db,
			       "SELECT sum(checks), sum(up) FROM hourly WHERE "
			       "key = ? AND hour >= ?",
			       -1, &st, NULL) != SQLITE_OK)
		return v;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (now_ms - window_ms) / HOUR_MS);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		v = json_real((double)sqlite3_column_int64(st, 1) /
			      (double)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* The daily counts, oldest first, as columns (a page of many checks
 * builds and parses one array per column, not an object per day):
 * {"first": "2026-08-24", "checks": [...], "up": [...]}. */
static json_t *days(sqlite3 *db, const char *key, int64_t now_ms)
{
	int64_t today = now_ms / DAY_MS, first = today - DAYS_SHOWN + 1;
	sqlite3_stmt *st = NULL;
	json_t *checks_col = json_array(), *up_col = json_array();
	int64_t checks[DAYS_SHOWN] = {0}, up[DAYS_SHOWN] = {0};
	time_t t = (time_t)(first * (DAY_MS / 1000));
	struct tm tm;
	char date[16];

	if (sqlite3_prepare_v2(db,
			       "SELECT hour / 24, sum(checks), sum(up) FROM "
			       "hourly WHERE key = ? AND hour >= ? GROUP BY "
			       "hour / 24",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, first * 24);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int64_t d = sqlite3_column_int64(st, 0) - first;

			if (d < 0 || d >= DAYS_SHOWN)
				continue;
			checks[d] = sqlite3_column_int64(st, 1);
			up[d] = sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_finalize(st);
	for (int64_t d = 0; d < DAYS_SHOWN; d++) {
		json_array_append_new(checks_col, json_integer(checks[d]));
		json_array_append_new(up_col, json_integer(up[d]));
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	return json_pack("{s:s, s:o, s:o}", "first", date, "checks", checks_col,
			 "up", up_col);
}

/* The last RECENT results, oldest first, as columns:
 * {"at_ms": [...], "up": [...], "duration_ms": [...]}. */
static json_t *recent(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st = NULL;
	json_t *at = json_array(), *up = json_array(), *ms = json_array();

	if (sqlite3_prepare_v2(db,
			       "SELECT at_ms, up, duration_ms FROM results "
			       "WHERE key = ? ORDER BY at_ms DESC LIMIT ?",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, RECENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_array_insert_new(
				at, 0,
				json_integer(sqlite3_column_int64(st, 0)));
			json_array_insert_new(
				up, 0, json_boolean(sqlite3_column_int(st, 1)));
			json_array_insert_new(
				ms, 0,
				json_integer(sqlite3_column_int64(st, 2)));
		}
	}
	sqlite3_finalize(st);
	return json_pack("{s:o, s:o, s:o}", "at_ms", at, "up", up,
			 "duration_ms", ms);
}

static json_t *component(struct history *h, const struct probe_endpoint *ep,
			 int64_t now_ms)
{
	json_t *c = json_object(), *last = json_null(), *up;
	sqlite3_stmt *st = NULL;
	const char *state = "unknown";
	int64_t failures = 0, since = 0;

	if (sqlite3_prepare_v2(h->db,
			       "SELECT failures, since_ms, last FROM state "
			       "WHERE key = ?",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, ep->key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			failures = sqlite3_column_int64(st, 0);
			since = sqlite3_column_int64(st, 1);
			state = failures ? "down" : "up";
			if (sqlite3_column_text(st, 2)) {
				json_decref(last);
				last = json_loads(
					(const char *)sqlite3_column_text(st,
									  2),
					0, NULL);
				if (!last)
					last = json_null();
			}
		}
	}
	sqlite3_finalize(st);
	up = json_pack("{s:o, s:o, s:o}", "24h",
		       ratio(h->db, ep->key, now_ms, DAY_MS), "7d",
		       ratio(h->db, ep->key, now_ms, 7 * DAY_MS), "30d",
		       ratio(h->db, ep->key, now_ms, 30 * DAY_MS));
	json_object_set_new(c, "key", json_string(ep->key));
	json_object_set_new(c, "name", json_string(ep->name));
	json_object_set_new(c, "group",
			    ep->group ? json_string(ep->group) : json_null());
	json_object_set_new(c, "state", json_string(state));
	json_object_set_new(c, "failures", json_integer(failures));
	json_object_set_new(c, "since_ms", json_integer(since));
	json_object_set_new(c, "last", last);
	json_object_set_new(c, "uptime", up);
	json_object_set_new(c, "days", days(h->db, ep->key, now_ms));
	json_object_set_new(c, "recent", recent(h->db, ep->key));
	return c;
}

json_t *history_page_data(struct history *h, const struct probe_config *pc,
			  int64_t now_ms, struct sd_err *err)
{
	json_t *doc = json_object(), *comps = json_array(), *inc = json_array();
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < pc->n; i++)
		json_array_append_new(comps, component(h, &pc->v[i], now_ms));
	if (sqlite3_prepare_v2(h->db,
			       "SELECT id, key, opened_ms, resolved_ms, reason "
			       "FROM incidents WHERE resolved_ms IS NULL OR "
			       "resolved_ms >= ? ORDER BY opened_ms DESC LIMIT "
			       "200",
			       -1, &st, NULL) != SQLITE_OK) {
		json_decref(doc);
		json_decref(comps);
		json_decref(inc);
		db_fail(h, err, "cannot read the history");
		return NULL;
	}
	sqlite3_bind_int64(st, 1, now_ms - 7 * DAY_MS);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(st, 4);

		json_array_append_new(
			inc,
			json_pack("{s:I, s:s, s:I, s:o, s:s}", "id",
				  (json_int_t)sqlite3_column_int64(st, 0),
				  "key",
				  (const char *)sqlite3_column_text(st, 1),
				  "opened_ms",
				  (json_int_t)sqlite3_column_int64(st, 2),
				  "resolved_ms",
				  sqlite3_column_type(st, 3) == SQLITE_NULL
					  ? json_null()
					  : json_integer(sqlite3_column_int64(
						    st, 3)),
				  "reason", reason ? reason : ""));
	}
	sqlite3_finalize(st);
	json_object_set_new(doc, "components", comps);
	json_object_set_new(doc, "incidents", inc);
	return doc;
}

int history_pending(struct history *h, struct history_transition **v, size_t *n,
		    struct sd_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT t.idempotency, t.incident, t.kind, "
			       "t.at_ms, i.key, i.reason FROM transitions t "
			       "JOIN incidents i ON i.id = t.incident WHERE "
			       "t.sent_ms IS NULL ORDER BY t.at_ms LIMIT 1000",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "cannot read the history");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct history_transition *t;
		const char *reason = (const char *)sqlite3_column_text(st, 5);

		if (*n == cap) {
			size_t c = cap ? 2 * cap : 8;
			struct history_transition *g =
				realloc(*v, c * sizeof(*g));

			if (!g) {
				sqlite3_finalize(st);
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			}
			*v = g;
			cap = c;
		}
		t = &(*v)[(*n)++];
		memset(t, 0, sizeof(*t));
		snprintf(t->idempotency, sizeof(t->idempotency), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		t->incident = sqlite3_column_int64(st, 1);
		t->opened = !strcmp((const char *)sqlite3_column_text(st, 2),
				    "opened");
		t->at_ms = sqlite3_column_int64(st, 3);
		snprintf(t->key, sizeof(t->key), "%s",
			 (const char *)sqlite3_column_text(st, 4));
		snprintf(t->reason, sizeof(t->reason), "%s",
			 reason ? reason : "");
	}
	sqlite3_finalize(st);
	return 0;
}

int history_delivery_get(struct history *h, const char *id, int *attempts,
			 bool *sent, int64_t *next_ms)
{
	sqlite3_stmt *st = NULL;

	*attempts = 0;
	*sent = false;
	*next_ms = 0;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT attempts, sent_ms IS NOT NULL, next_ms "
			       "FROM deliveries WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*attempts = sqlite3_column_int(st, 0);
		*sent = sqlite3_column_int(st, 1);
		*next_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return 0;
}

int history_delivery_put(struct history *h, const char *id,
			 const char *transition, bool sent, const char *error,
			 int64_t now_ms, int64_t next_ms, struct sd_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(
		    h->db,
		    "INSERT INTO deliveries(id, transition, sent_ms, attempts, "
		    "next_ms, last_error) VALUES (?, ?, ?, 1, ?, ?) ON "
		    "CONFLICT(id) DO UPDATE SET attempts = attempts + 1, "
		    "sent_ms = excluded.sent_ms, next_ms = excluded.next_ms, "
		    "last_error = excluded.last_error",
		    -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "cannot write the history");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, transition, -1, SQLITE_STATIC);
	if (sent)
		sqlite3_bind_int64(st, 3, now_ms);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, next_ms);
	if (error)
		sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0
				 : db_fail(h, err, "cannot write the history");
}

int history_transition_done(struct history *h, const char *idempotency,
			    int64_t now_ms, struct sd_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(h->db,
			       "UPDATE transitions SET sent_ms = ? WHERE "
			       "idempotency = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "cannot write the history");
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, idempotency, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0
				 : db_fail(h, err, "cannot write the history");
}
