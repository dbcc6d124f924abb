/*
 * Tests of the durable storage: gw_store's atomic replace and capped read (modes, missing files, size
 * cap, the old file surviving a failed write), and gw_journal's record store: order and replacement,
 * replay on reopen, the exact line format against zlib's CRC, a record torn at every byte, damage
 * between sound records (a flipped byte or a newline anywhere in a record, a cut line, a wrong length,
 * garbage and overlong lines, a lost delete) skipped and counted with every later record kept and
 * appends after it found again, compaction keeping the live set and the highest seq, and a child
 * killed with SIGKILL mid-stream losing nothing it had acknowledged. TWCGW_TEST_QUICK=1 (valgrind)
 * runs fewer crash rounds.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_journal.h"
#include "gw_store.h"

#define JNAME "journal"
#define DUMP_MAX 8192

/* A scratch directory per run; each test works in its own subdirectory. */
static char tmp_root[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/test_gw_journal.XXXXXX");
	return mkdtemp(tmp_root) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool quick(void)
{
	const char *q = getenv("TWCGW_TEST_QUICK");

	return q && *q == '1';
}

static void make_dir(char *dir, size_t size, const char *tag)
{
	snprintf(dir, size, "%s/%s", tmp_root, tag);
	assert_int_equal(mkdir(dir, 0700), 0);
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static off_t file_size(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void journal_remove(const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/" JNAME, dir);
	assert_int_equal(unlink(path), 0);
}

static char *file_read(const char *dir, const char *name, size_t *len)
{
	char *buf = NULL;

	assert_int_equal(gw_store_read(dir, name, &buf, len, 1u << 24), 0);
	return buf;
}

/* ---- the live set as "seq=text;..." ---- */

struct dump {
	char text[DUMP_MAX];
	size_t len;
	int calls, stop_at;
};

static int dump_add(void *user, uint64_t seq, const char *text)
{
	struct dump *d = user;
	int n = snprintf(d->text + d->len, sizeof(d->text) - d->len, "%" PRIu64 "=%s;", seq, text);

	assert_true(n > 0 && (size_t)n < sizeof(d->text) - d->len);
	d->len += (size_t)n;
	return ++d->calls == d->stop_at;
}

static void assert_live(const struct gw_journal *j, const char *want)
{
	struct dump d = { .len = 0 };

	gw_journal_foreach(j, dump_add, &d);
	assert_string_equal(d.text, want);
	assert_int_equal(gw_journal_stats(j)->live, d.calls);
}

static struct gw_journal *journal_open_ok(const char *dir)
{
	int err = 1;
	struct gw_journal *j = gw_journal_open(dir, JNAME, &err);

	assert_non_null(j);
	assert_int_equal(gw_journal_stats(j)->file_bytes, file_size(dir, JNAME));
	return j;
}

/* ---- gw_store ---- */

static void test_store_round_trip(void **state)
{
	char dir[128], *buf;
	size_t len;

	(void)state;
	make_dir(dir, sizeof(dir), "store_rt");
	assert_int_equal(gw_store_write(dir, "a.json", "hello", 5, 0600), 0);
	buf = file_read(dir, "a.json", &len);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	assert_int_equal(gw_store_write(dir, "a.json", "a longer second text", 20, 0600), 0);
	buf = file_read(dir, "a.json", &len);
	assert_int_equal(len, 20);
	assert_string_equal(buf, "a longer second text");
	free(buf);
	assert_int_equal(gw_store_write(dir, "a.json", "", 0, 0600), 0);
	buf = file_read(dir, "a.json", &len);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], '\0');
	free(buf);
	/* No temporary left behind. */
	assert_int_equal(dir_entries(dir), 1);
}

static void test_store_mode(void **state)
{
	char dir[128], path[160];
	mode_t old = umask(022);
	struct stat st;

	(void)state;
	make_dir(dir, sizeof(dir), "store_mode");
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(gw_store_write(dir, "f", "x", 1, 0640), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* Replacing gives the new file the new mode, not the old one's. */
	assert_int_equal(gw_store_write(dir, "f", "secret", 6, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	umask(old);
}

static void test_store_errors(void **state)
{
	char dir[128], missing[160], data[100], *buf = NULL;
	size_t len = 0;

	(void)state;
	make_dir(dir, sizeof(dir), "store_err");
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	assert_int_equal(gw_store_read(dir, "absent", &buf, &len, 100), -ENOENT);
	assert_int_equal(gw_store_write(missing, "f", "x", 1, 0600), -ENOENT);
	assert_int_equal(gw_store_write(dir, "a/b", "x", 1, 0600), -EINVAL);
	assert_int_equal(gw_store_write(dir, "", "x", 1, 0600), -EINVAL);
	memset(data, 'z', sizeof(data));
	assert_int_equal(gw_store_write(dir, "big", data, sizeof(data), 0600), 0);
	assert_int_equal(gw_store_read(dir, "big", &buf, &len, 99), -EFBIG);
	assert_null(buf);
	assert_int_equal(gw_store_read(dir, "big", &buf, &len, 100), 0);
	assert_int_equal(len, 100);
	free(buf);
	assert_int_equal(mkdir(missing, 0700), 0);
	assert_int_equal(gw_store_read(dir, "nope", &buf, &len, 100), -EINVAL);
}

/* A write that fails half-way (here: over RLIMIT_FSIZE, which binds root too) leaves the old file. */
static void test_store_failed_write_keeps_old(void **state)
{
	char dir[128], data[4096], *buf;
	struct rlimit old, lim;
	void (*old_handler)(int);
	size_t len;

	(void)state;
	make_dir(dir, sizeof(dir), "store_fail");
	assert_int_equal(gw_store_write(dir, "state", "old", 3, 0600), 0);
	memset(data, 'n', sizeof(data));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1024;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(gw_store_write(dir, "state", data, sizeof(data), 0600), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	buf = file_read(dir, "state", &len);
	assert_string_equal(buf, "old");
	free(buf);
	assert_int_equal(dir_entries(dir), 1);
}

static void test_store_dir_not_writable(void **state)
{
	char dir[128], *buf;
	size_t len;

	(void)state;
	if (geteuid() == 0)
		skip(); /* root ignores directory permissions */
	make_dir(dir, sizeof(dir), "store_ro");
	assert_int_equal(gw_store_write(dir, "state", "old", 3, 0600), 0);
	assert_int_equal(chmod(dir, 0500), 0);
	assert_int_equal(gw_store_write(dir, "state", "new", 3, 0600), -EACCES);
	assert_int_equal(chmod(dir, 0700), 0);
	buf = file_read(dir, "state", &len);
	assert_string_equal(buf, "old");
	free(buf);
	assert_int_equal(dir_entries(dir), 1);
}

/* ---- gw_journal ---- */

static void test_journal_put_del_order(void **state)
{
	char dir[128], *big;
	struct gw_journal *j;
	struct dump d = { .stop_at = 2 };

	(void)state;
	make_dir(dir, sizeof(dir), "j_basic");
	j = journal_open_ok(dir);
	assert_int_equal(gw_journal_max_seq(j), 0);
	assert_live(j, "");
	assert_int_equal(gw_journal_put(j, 5, "{\"e\":5}"), 0);
	assert_int_equal(gw_journal_put(j, 1, "a"), 0);
	assert_int_equal(gw_journal_put(j, 3, "c"), 0);
	assert_int_equal(gw_journal_put(j, 2, "b"), 0);
	assert_live(j, "1=a;2=b;3=c;5={\"e\":5};");
	assert_int_equal(gw_journal_put(j, 3, "C"), 0);
	assert_int_equal(gw_journal_del(j, 2), 0);
	assert_live(j, "1=a;3=C;5={\"e\":5};");
	assert_int_equal(gw_journal_stats(j)->appended, 6);
	/* Deleting what is not live writes nothing. */
	assert_int_equal(gw_journal_del(j, 2), 0);
	assert_int_equal(gw_journal_del(j, 99), 0);
	assert_int_equal(gw_journal_stats(j)->appended, 6);
	/* A deleted seq can be put again. */
	assert_int_equal(gw_journal_put(j, 2, "B"), 0);
	assert_live(j, "1=a;2=B;3=C;5={\"e\":5};");
	assert_int_equal(gw_journal_max_seq(j), 5);
	gw_journal_foreach(j, dump_add, &d);
	assert_string_equal(d.text, "1=a;2=B;");

	assert_int_equal(gw_journal_put(j, 7, "two\nlines"), -EINVAL);
	big = malloc(GW_JOURNAL_TEXT_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', GW_JOURNAL_TEXT_MAX + 1);
	big[GW_JOURNAL_TEXT_MAX + 1] = '\0';
	assert_int_equal(gw_journal_put(j, 7, big), -E2BIG);
	big[GW_JOURNAL_TEXT_MAX] = '\0';
	assert_int_equal(gw_journal_put(j, 7, big), 0);
	assert_int_equal(gw_journal_stats(j)->live, 5);
	gw_journal_close(j);

	/* The longest text replays too. */
	j = journal_open_ok(dir);
	assert_int_equal(gw_journal_stats(j)->live, 5);
	assert_int_equal(gw_journal_del(j, 7), 0);
	gw_journal_close(j);
	free(big);
	gw_journal_close(NULL);
}

static void test_journal_reopen(void **state)
{
	char dir[128];
	struct gw_journal *j;
	const struct gw_journal_stats *st;

	(void)state;
	make_dir(dir, sizeof(dir), "j_reopen");
	j = journal_open_ok(dir);
	for (uint64_t s = 1; s <= 20; s++) {
		char text[32];

		snprintf(text, sizeof(text), "{\"n\":%" PRIu64 "}", s);
		assert_int_equal(gw_journal_put(j, s, text), 0);
	}
	for (uint64_t s = 1; s <= 20; s++)
		if (s % 4 != 0)
			assert_int_equal(gw_journal_del(j, s), 0);
	assert_int_equal(gw_journal_put(j, 8, "{\"n\":\"eight\"}"), 0);
	gw_journal_close(j);

	j = journal_open_ok(dir);
	st = gw_journal_stats(j);
	assert_live(j, "4={\"n\":4};8={\"n\":\"eight\"};12={\"n\":12};16={\"n\":16};20={\"n\":20};");
	assert_int_equal(gw_journal_max_seq(j), 20);
	assert_int_equal(st->dropped_tail, 0);
	assert_int_equal(st->appended, 0);
	/* The highest seq counts even when its record is deleted. */
	assert_int_equal(gw_journal_del(j, 20), 0);
	gw_journal_close(j);
	j = journal_open_ok(dir);
	assert_int_equal(gw_journal_max_seq(j), 20);
	assert_int_equal(gw_journal_stats(j)->live, 4);
	gw_journal_close(j);

	/* Mode 0600 on a new journal; a missing directory is an error. */
	{
		char path[160];
		struct stat sb;
		int err = 0;

		snprintf(path, sizeof(path), "%s/" JNAME, dir);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		snprintf(path, sizeof(path), "%s/missing", dir);
		assert_null(gw_journal_open(path, JNAME, &err));
		assert_int_equal(err, -ENOENT);
	}
}

/* The exact bytes, checked against CRCs computed with Python's zlib.crc32. */
static void test_journal_format(void **state)
{
	static const char hand[] = "M 7 0 725c07d6 \n"
				   "P 3 7 984b385a {\"a\":1}\n"
				   "P 4 2 5ab63115 hi\n"
				   "D 4 0 47e6f9f0 \n";
	static const char written[] = "P 9 1 5be5143d x\nD 9 0 b58c212d \n";
	char dir[128], *buf;
	struct gw_journal *j;
	size_t len;

	(void)state;
	make_dir(dir, sizeof(dir), "j_format");
	assert_int_equal(gw_store_write(dir, JNAME, hand, sizeof(hand) - 1, 0600), 0);
	j = journal_open_ok(dir);
	assert_live(j, "3={\"a\":1};");
	assert_int_equal(gw_journal_max_seq(j), 7);
	assert_int_equal(gw_journal_stats(j)->dropped_tail, 0);
	gw_journal_close(j);

	journal_remove(dir);
	j = journal_open_ok(dir);
	assert_int_equal(gw_journal_put(j, 9, "x"), 0);
	assert_int_equal(gw_journal_del(j, 9), 0);
	gw_journal_close(j);
	buf = file_read(dir, JNAME, &len);
	assert_int_equal(len, sizeof(written) - 1);
	assert_memory_equal(buf, written, len);
	free(buf);
}

/* Three records; returns the file, and the offsets where the second and third begin. */
static char *journal_three(const char *dir, size_t *len, size_t *start2, size_t *start3)
{
	struct gw_journal *j = journal_open_ok(dir);

	assert_int_equal(gw_journal_put(j, 1, "first"), 0);
	*start2 = gw_journal_stats(j)->file_bytes;
	assert_int_equal(gw_journal_put(j, 2, "second"), 0);
	*start3 = gw_journal_stats(j)->file_bytes;
	assert_int_equal(gw_journal_put(j, 3, "{\"third\":\"a somewhat longer text\"}"), 0);
	gw_journal_close(j);
	return file_read(dir, JNAME, len);
}

static void test_journal_torn_tail(void **state)
{
	char dir[128], *full;
	size_t len, start2, start3;

	(void)state;
	make_dir(dir, sizeof(dir), "j_torn");
	full = journal_three(dir, &len, &start2, &start3);
	for (size_t cut = start3 + 1; cut < len; cut++) {
		struct gw_journal *j;

		assert_int_equal(gw_store_write(dir, JNAME, full, cut, 0600), 0);
		j = journal_open_ok(dir);
		assert_live(j, "1=first;2=second;");
		assert_int_equal(gw_journal_stats(j)->dropped_tail, 1);
		assert_int_equal(file_size(dir, JNAME), start3);
		assert_int_equal(gw_journal_put(j, 4, "after"), 0);
		gw_journal_close(j);
		j = journal_open_ok(dir);
		assert_live(j, "1=first;2=second;4=after;");
		assert_int_equal(gw_journal_stats(j)->dropped_tail, 0);
		gw_journal_close(j);
	}
	free(full);
}

static void put_range(struct gw_journal *j, uint64_t from, uint64_t to)
{
	for (uint64_t s = from; s <= to; s++) {
		char text[32];

		snprintf(text, sizeof(text), "t%" PRIu64, s);
		assert_int_equal(gw_journal_put(j, s, text), 0);
	}
}

/* ---- corruption between sound records: skipped, counted, the rest kept ---- */

#define REC_N 5

/* Records 1..REC_N ("r1-<pad>"), written through the journal; @start[i] is where record i + 1 begins
 * and @start[REC_N] the end of the file. */
static char *journal_five(const char *dir, size_t *start)
{
	struct gw_journal *j = journal_open_ok(dir);
	size_t len;
	char *buf;

	for (uint64_t s = 1; s <= REC_N; s++) {
		char text[64];

		snprintf(text, sizeof(text), "{\"r\":%" PRIu64 ",\"pad\":\"%.*s\"}", s, (int)(s * 3), "xxxxxxxxxxxxxxxx");
		start[s - 1] = gw_journal_stats(j)->file_bytes;
		assert_int_equal(gw_journal_put(j, s, text), 0);
	}
	start[REC_N] = gw_journal_stats(j)->file_bytes;
	gw_journal_close(j);
	buf = file_read(dir, JNAME, &len);
	assert_int_equal(len, start[REC_N]);
	return buf;
}

/* The live set of journal_five() without the records whose bit is set in @lost. */
static void five_want(char *want, size_t size, unsigned lost)
{
	size_t n = 0;

	want[0] = '\0';
	for (uint64_t s = 1; s <= REC_N; s++)
		if (!(lost & 1u << s))
			n += (size_t)snprintf(want + n, size - n, "%" PRIu64 "={\"r\":%" PRIu64 ",\"pad\":\"%.*s\"};", s,
					      s, (int)(s * 3), "xxxxxxxxxxxxxxxx");
}

static struct gw_journal *open_bytes(const char *dir, const char *bytes, size_t len)
{
	assert_int_equal(gw_store_write(dir, JNAME, bytes, len, 0600), 0);
	return journal_open_ok(dir);
}

static void assert_skipped(const struct gw_journal *j, uint32_t records, uint64_t bytes, uint32_t tail)
{
	const struct gw_journal_stats *st = gw_journal_stats(j);

	assert_int_equal(st->skipped_records, records);
	assert_int_equal(st->skipped_bytes, bytes);
	assert_int_equal(st->dropped_tail, tail);
}

/* After a put: the skipped region stays where it is, the new record is found after it, and opening
 * again finds the same. */
static void assert_appends_survive(struct gw_journal *j, const char *dir, const char *want, uint32_t records,
				   uint64_t bytes)
{
	char with[DUMP_MAX];

	assert_int_equal(gw_journal_put(j, 9, "after"), 0);
	gw_journal_close(j);
	snprintf(with, sizeof(with), "%s9=after;", want);
	for (int k = 0; k < 2; k++) {
		j = journal_open_ok(dir);
		assert_live(j, with);
		assert_int_equal(gw_journal_max_seq(j), 9);
		assert_skipped(j, records, bytes, 0);
		gw_journal_close(j);
	}
}

/* Any byte of record 2 changed: record 2 is skipped, 1 and 3..5 replay. When the change hits its
 * newline, records 2 and 3 become one unsound line and both are lost. */
static void test_journal_corrupt_middle(void **state)
{
	char dir[128], want[DUMP_MAX], *full;
	size_t start[REC_N + 1];

	(void)state;
	make_dir(dir, sizeof(dir), "j_flip");
	full = journal_five(dir, start);
	for (size_t at = start[1]; at < start[2]; at++) {
		bool newline = at == start[2] - 1;
		struct gw_journal *j;

		full[at] ^= 0x01;
		j = open_bytes(dir, full, start[REC_N]);
		full[at] ^= 0x01;
		five_want(want, sizeof(want), newline ? 1u << 2 | 1u << 3 : 1u << 2);
		assert_live(j, want);
		assert_int_equal(gw_journal_max_seq(j), REC_N);
		assert_skipped(j, 1, (newline ? start[3] : start[2]) - start[1], 0);
		/* Nothing is cut: the skipped bytes stay until a compaction. */
		assert_int_equal(file_size(dir, JNAME), start[REC_N]);
		assert_appends_survive(j, dir, want, 1, (newline ? start[3] : start[2]) - start[1]);
	}
	free(full);
}

/* A newline written into record 2 anywhere: two unsound lines, both skipped. */
static void test_journal_corrupt_split(void **state)
{
	char dir[128], want[DUMP_MAX], *full;
	size_t start[REC_N + 1];

	(void)state;
	make_dir(dir, sizeof(dir), "j_split");
	full = journal_five(dir, start);
	five_want(want, sizeof(want), 1u << 2);
	for (size_t at = start[1]; at < start[2] - 1; at++) {
		char keep = full[at];
		struct gw_journal *j;

		full[at] = '\n';
		j = open_bytes(dir, full, start[REC_N]);
		full[at] = keep;
		assert_live(j, want);
		assert_skipped(j, 2, start[2] - start[1], 0);
		gw_journal_close(j);
	}
	free(full);
}

/* Builds a file from record lines of journal_five() and a foreign line put between records @after
 * and @after + 1 (replacing record @after + 1 when @replace). */
static size_t five_with(char *out, size_t size, const char *full, const size_t *start, unsigned after,
			const char *line, size_t line_len, bool replace)
{
	size_t n = start[after], rest = start[after + (replace ? 1 : 0)];

	assert_true(n + line_len + start[REC_N] - rest <= size);
	memcpy(out, full, n);
	memcpy(out + n, line, line_len);
	memcpy(out + n + line_len, full + rest, start[REC_N] - rest);
	return n + line_len + start[REC_N] - rest;
}

/* One kind of damage each, always between sound records: what is lost, and the count. */
static void test_journal_corrupt_kinds(void **state)
{
	static char out[200000], junk[80000];
	char dir[128], want[DUMP_MAX], line[256], *full;
	size_t start[REC_N + 1], len, n2;
	struct gw_journal *j;

	(void)state;
	make_dir(dir, sizeof(dir), "j_kinds");
	full = journal_five(dir, start);
	n2 = start[2] - start[1];

	/* Record 2 cut short, its newline kept: the length no longer matches. */
	memcpy(line, full + start[1], n2 - 4);
	line[n2 - 4] = '\n';
	len = five_with(out, sizeof(out), full, start, 1, line, n2 - 3, true);
	j = open_bytes(dir, out, len);
	five_want(want, sizeof(want), 1u << 2);
	assert_live(j, want);
	assert_skipped(j, 1, n2 - 3, 0);
	assert_appends_survive(j, dir, want, 1, n2 - 3);

	/* Record 2 cut short without its newline: it swallows record 3's line. */
	len = five_with(out, sizeof(out), full, start, 1, full + start[1], n2 - 5, true);
	j = open_bytes(dir, out, len);
	five_want(want, sizeof(want), 1u << 2 | 1u << 3);
	assert_live(j, want);
	assert_skipped(j, 1, n2 - 5 + start[3] - start[2], 0);
	gw_journal_close(j);

	/* The right text and CRC under a wrong length, either way. */
	for (int d = -1; d <= 1; d += 2) {
		int k = snprintf(line, sizeof(line), "P 2 %d ", (int)n2 - 17 + d);

		/* "P 2 NN " is 7 bytes: the rest of record 2 from its CRC on. */
		assert_int_equal(k, 7);
		memcpy(line + k, full + start[1] + 7, n2 - 7);
		len = five_with(out, sizeof(out), full, start, 1, line, n2, true);
		j = open_bytes(dir, out, len);
		five_want(want, sizeof(want), 1u << 2);
		assert_live(j, want);
		assert_skipped(j, 1, n2, 0);
		gw_journal_close(j);
	}

	/* Garbage lines put between records 2 and 3: nothing lost. */
	{
		static const char *const garbage[] = {
			"garbage\n", "\n", "P\n", "P 3\n", "X 3 0 00000000 \n", "P 3 2 00000000 hi\n",
			"D 2 0 00000000 \n", "P 18446744073709551616 0 00000000 \n", "P 3 60001 00000000 x\n",
		};

		five_want(want, sizeof(want), 0);
		for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
			len = five_with(out, sizeof(out), full, start, 2, garbage[g], strlen(garbage[g]), false);
			j = open_bytes(dir, out, len);
			assert_live(j, want);
			assert_skipped(j, 1, strlen(garbage[g]), 0);
			gw_journal_close(j);
		}
		/* A NUL in a line. */
		len = five_with(out, sizeof(out), full, start, 2, "P 3\0 x\n", 7, false);
		j = open_bytes(dir, out, len);
		assert_live(j, want);
		assert_skipped(j, 1, 7, 0);
		gw_journal_close(j);
	}

	/* A line longer than any record (replay holds less than one in memory) before record 3, and at
	 * the very start of the file. */
	memset(junk, 'J', sizeof(junk));
	junk[sizeof(junk) - 1] = '\n';
	len = five_with(out, sizeof(out), full, start, 2, junk, sizeof(junk), false);
	j = open_bytes(dir, out, len);
	assert_live(j, want);
	assert_skipped(j, 1, sizeof(junk), 0);
	gw_journal_close(j);
	len = five_with(out, sizeof(out), full, start, 0, junk, sizeof(junk), false);
	j = open_bytes(dir, out, len);
	assert_live(j, want);
	assert_skipped(j, 1, sizeof(junk), 0);
	assert_appends_survive(j, dir, want, 1, sizeof(junk));

	/* Three damaged places: all counted, the sound records between them kept. */
	memcpy(out, full, start[REC_N]);
	out[start[0] + 3] ^= 0x40;
	out[start[2] + 12] ^= 0x02;
	out[start[3] + 20] ^= 0x10;
	j = open_bytes(dir, out, start[REC_N]);
	five_want(want, sizeof(want), 1u << 1 | 1u << 3 | 1u << 4);
	assert_live(j, want);
	assert_skipped(j, 3, start[1] - start[0] + start[4] - start[2], 0);
	gw_journal_close(j);
	free(full);
}

/* Deletes after the damage still apply; a lost delete brings its record back (sent again: at least
 * once, never lost). */
static void test_journal_corrupt_then_deletes(void **state)
{
	char dir[128], *full;
	size_t len, bad, bad_end, del_at, del_end;
	struct gw_journal *j;

	(void)state;
	make_dir(dir, sizeof(dir), "j_dels");
	j = journal_open_ok(dir);
	put_range(j, 1, 3);
	bad = gw_journal_stats(j)->file_bytes;
	assert_int_equal(gw_journal_put(j, 4, "t4"), 0);
	bad_end = gw_journal_stats(j)->file_bytes;
	assert_int_equal(gw_journal_del(j, 2), 0);
	del_at = bad_end;
	del_end = gw_journal_stats(j)->file_bytes;
	assert_int_equal(gw_journal_put(j, 5, "t5"), 0);
	assert_int_equal(gw_journal_del(j, 3), 0);
	assert_int_equal(gw_journal_put(j, 1, "t1b"), 0);
	gw_journal_close(j);
	full = file_read(dir, JNAME, &len);

	/* Record 4's line damaged: the deletes of 2 and 3 and the replacement of 1 after it count. */
	full[bad + 5] ^= 0x20;
	j = open_bytes(dir, full, len);
	full[bad + 5] ^= 0x20;
	assert_live(j, "1=t1b;5=t5;");
	assert_int_equal(gw_journal_max_seq(j), 5);
	assert_skipped(j, 1, bad_end - bad, 0);
	/* Deleting, putting and reopening from there is stable. */
	assert_int_equal(gw_journal_del(j, 5), 0);
	assert_int_equal(gw_journal_put(j, 6, "t6"), 0);
	gw_journal_close(j);
	j = journal_open_ok(dir);
	assert_live(j, "1=t1b;6=t6;");
	assert_skipped(j, 1, bad_end - bad, 0);
	gw_journal_close(j);

	/* The delete of 2 damaged: 2 is live again. */
	full[del_at + 2] ^= 0x01;
	j = open_bytes(dir, full, len);
	assert_live(j, "1=t1b;2=t2;4=t4;5=t5;");
	assert_skipped(j, 1, del_end - del_at, 0);
	gw_journal_close(j);
	free(full);
}

/* Damage in the middle and a torn end together: the middle stays, the end is cut to the last sound
 * record; reopening after that is stable. */
static void test_journal_corrupt_and_torn(void **state)
{
	char dir[128], want[DUMP_MAX], *full;
	size_t start[REC_N + 1];
	struct gw_journal *j;

	(void)state;
	make_dir(dir, sizeof(dir), "j_both");
	full = journal_five(dir, start);
	full[start[1] + 9] ^= 0x04;
	/* Record 5 torn, and record 4 damaged before it: both are the end, nothing sound follows. */
	full[start[3] + 9] ^= 0x04;
	j = open_bytes(dir, full, start[REC_N] - 3);
	five_want(want, sizeof(want), 1u << 2 | 1u << 4 | 1u << 5);
	assert_live(j, want);
	assert_skipped(j, 1, start[2] - start[1], 1);
	assert_int_equal(file_size(dir, JNAME), start[3]);
	assert_appends_survive(j, dir, want, 1, start[2] - start[1]);

	/* Nothing sound at all: all of it is the torn end. */
	j = open_bytes(dir, "garbage\nmore garbage\nP 1 2", 26);
	assert_live(j, "");
	assert_skipped(j, 0, 0, 1);
	assert_int_equal(file_size(dir, JNAME), 0);
	assert_appends_survive(j, dir, "", 0, 0);
	free(full);
}

/* The skipped bytes are dead lines: a compaction leaves them out, and the count goes with them. */
static void test_journal_corrupt_compacted(void **state)
{
	char dir[128], want[DUMP_MAX], *full;
	size_t start[REC_N + 1];
	struct gw_journal *j;

	(void)state;
	make_dir(dir, sizeof(dir), "j_healed");
	full = journal_five(dir, start);
	full[start[4] - 2] ^= 0x01;
	j = open_bytes(dir, full, start[REC_N]);
	five_want(want, sizeof(want), 1u << 4);
	assert_live(j, want);
	assert_skipped(j, 1, start[4] - start[3], 0);
	for (int i = 0; i < 70; i++)
		assert_int_equal(gw_journal_put(j, 2, "{\"r\":2,\"pad\":\"xxxxxx\"}"), 0);
	assert_int_equal(gw_journal_stats(j)->compactions, 1);
	gw_journal_close(j);
	j = journal_open_ok(dir);
	assert_live(j, want);
	assert_int_equal(gw_journal_max_seq(j), REC_N);
	assert_skipped(j, 0, 0, 0);
	gw_journal_close(j);
	free(full);
}

static void test_journal_compaction(void **state)
{
	char dir[128], want[DUMP_MAX], *buf;
	struct gw_journal *j;
	size_t len, n = 0;
	uint64_t before;

	(void)state;
	make_dir(dir, sizeof(dir), "j_compact");
	j = journal_open_ok(dir);
	put_range(j, 1, 100);
	/* Delete from the top: after 61 deletes, 39 live of 161 lines is under a quarter. */
	for (uint64_t s = 100; s > 40; s--) {
		assert_int_equal(gw_journal_del(j, s), 0);
		assert_int_equal(gw_journal_stats(j)->compactions, 0);
	}
	before = gw_journal_stats(j)->file_bytes;
	assert_int_equal(gw_journal_del(j, 40), 0);
	assert_int_equal(gw_journal_stats(j)->compactions, 1);
	assert_true(gw_journal_stats(j)->file_bytes < before / 2);
	assert_int_equal(gw_journal_stats(j)->file_bytes, file_size(dir, JNAME));
	for (uint64_t s = 1; s <= 39; s++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%" PRIu64 "=t%" PRIu64 ";", s, s);
	assert_live(j, want);
	assert_int_equal(gw_journal_max_seq(j), 100);
	/* Appends go to the new file. */
	assert_int_equal(gw_journal_put(j, 101, "t101"), 0);
	assert_int_equal(gw_journal_del(j, 101), 0);
	gw_journal_close(j);
	buf = file_read(dir, JNAME, &len);
	assert_memory_equal(buf, "M 100 0 ", 8);
	free(buf);
	assert_int_equal(dir_entries(dir), 1);

	/* Only the M line remembers 100 and 101 now. */
	j = journal_open_ok(dir);
	assert_live(j, want);
	assert_int_equal(gw_journal_max_seq(j), 101);
	assert_int_equal(gw_journal_stats(j)->compactions, 0);
	for (uint64_t s = 1; s <= 39; s++)
		assert_int_equal(gw_journal_del(j, s), 0);
	assert_int_equal(gw_journal_stats(j)->compactions, 1);
	assert_live(j, "");
	gw_journal_close(j);
	j = journal_open_ok(dir);
	assert_live(j, "");
	assert_int_equal(gw_journal_max_seq(j), 101);
	gw_journal_close(j);

	/* Replacing one record over and over compacts too, keeping the last text. */
	journal_remove(dir);
	j = journal_open_ok(dir);
	for (int i = 0; i < 70; i++) {
		char text[16];

		snprintf(text, sizeof(text), "v%d", i);
		assert_int_equal(gw_journal_put(j, 1, text), 0);
	}
	assert_int_equal(gw_journal_stats(j)->compactions, 1);
	assert_live(j, "1=v69;");
	gw_journal_close(j);
	j = journal_open_ok(dir);
	assert_live(j, "1=v69;");
	gw_journal_close(j);
}

/* ---- crash: a child puts records (deleting each one @window steps later, 0 = never) and reports
 * every finished step through a pipe; the parent SIGKILLs it after @k reports. ---- */

static void crash_text(uint64_t s, char *text, size_t size)
{
	/* Every seventh record is long, so the kill can land inside a multi-page write. */
	size_t pad = s % 7 == 0 ? 20000 : (size_t)(s * 37 % 200);
	int n = snprintf(text, size, "{\"seq\":%" PRIu64 ",\"pad\":\"", s);

	memset(text + n, 'a' + (int)(s % 26), pad);
	snprintf(text + (size_t)n + pad, size - (size_t)n - pad, "\"}");
}

static void crash_child(const char *dir, int fd, uint64_t window)
{
	static char text[21000];
	struct gw_journal *j = gw_journal_open(dir, JNAME, NULL);

	if (!j)
		_exit(2);
	for (uint64_t s = 1; s < 1000000; s++) {
		crash_text(s, text, sizeof(text));
		if (gw_journal_put(j, s, text) != 0 || (window && s > window && gw_journal_del(j, s - window) != 0))
			_exit(3);
		if (write(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(4);
	}
	gw_journal_close(j);
	_exit(0);
}

struct crash_check {
	uint64_t acked, window, lo, count;
	char text[21000];
};

static int crash_check_one(void *user, uint64_t seq, const char *text)
{
	struct crash_check *c = user;
	uint64_t a = c->acked, w = c->window;
	bool required = seq >= c->lo && seq <= a;
	bool maybe = seq == a + 1 || (w && seq + w == a + 1);

	if (!required && !maybe)
		fail_msg("seq %" PRIu64 " present after %" PRIu64 " acknowledged steps", seq, a);
	crash_text(seq, c->text, sizeof(c->text));
	assert_string_equal(text, c->text);
	c->count += required;
	return 0;
}

static void test_journal_crash(void **state)
{
	int rounds = quick() ? 2 : 8;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	(void)state;
	print_message("crash seed %u\n", seed);
	srand(seed);
	for (int round = 0; round < rounds; round++) {
		static struct crash_check c;
		uint64_t k = 1 + (uint64_t)rand() % (quick() ? 40 : 150), got = 0, s;
		char dir[128], tag[32];
		struct gw_journal *j;
		int p[2], status;
		pid_t pid;

		snprintf(tag, sizeof(tag), "j_crash%d", round);
		make_dir(dir, sizeof(dir), tag);
		c.window = round % 2 ? 10 : 0;
		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(dir, p[1], c.window);
		}
		close(p[1]);
		while (got < k && read(p[0], &s, sizeof(s)) == (ssize_t)sizeof(s))
			got = s;
		usleep((useconds_t)(rand() % 3000)); /* land the kill anywhere: mid-write, mid-compaction */
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(got, k);
		/* Steps it finished between our last read and the kill count as acknowledged too. */
		while (read(p[0], &s, sizeof(s)) == (ssize_t)sizeof(s))
			got = s;
		close(p[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

		c.acked = got;
		c.lo = c.window && got + 2 > c.window ? got + 2 - c.window : 1;
		c.count = 0;
		j = journal_open_ok(dir);
		gw_journal_foreach(j, crash_check_one, &c);
		assert_int_equal(c.count, got + 1 - c.lo);
		assert_true(gw_journal_max_seq(j) >= got);
		/* And it carries on. */
		assert_int_equal(gw_journal_put(j, gw_journal_max_seq(j) + 1, "next"), 0);
		gw_journal_close(j);
		j = journal_open_ok(dir);
		assert_int_equal(gw_journal_stats(j)->dropped_tail, 0);
		gw_journal_close(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_round_trip),
		cmocka_unit_test(test_store_mode),
		cmocka_unit_test(test_store_errors),
		cmocka_unit_test(test_store_failed_write_keeps_old),
		cmocka_unit_test(test_store_dir_not_writable),
		cmocka_unit_test(test_journal_put_del_order),
		cmocka_unit_test(test_journal_reopen),
		cmocka_unit_test(test_journal_format),
		cmocka_unit_test(test_journal_torn_tail),
		cmocka_unit_test(test_journal_corrupt_middle),
		cmocka_unit_test(test_journal_corrupt_split),
		cmocka_unit_test(test_journal_corrupt_kinds),
		cmocka_unit_test(test_journal_corrupt_then_deletes),
		cmocka_unit_test(test_journal_corrupt_and_torn),
		cmocka_unit_test(test_journal_corrupt_compacted),
		cmocka_unit_test(test_journal_compaction),
		cmocka_unit_test(test_journal_crash),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
