/*
 * bench_journal: how fast gw_journal is on the filesystem it will run on, where every put and delete
 * waits for fsync. It puts N records of a MeterValues-sized JSON text, replays them, deletes half,
 * then deletes until a compaction happens and times that delete alone, and replays the result.
 * Usage: bench_journal [dir] [records]; dir defaults to ".", records to 10000.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_journal.h"

#define JNAME "journal"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct gw_journal *bench_open(const char *dir, double *secs)
{
	double t0 = now_s();
	int err = 0;
	struct gw_journal *j = gw_journal_open(dir, JNAME, &err);

	if (!j) {
		fprintf(stderr, "bench_journal: open %s/%s: %s\n", dir, JNAME, strerror(-err));
		exit(1);
	}
	*secs = now_s() - t0;
	return j;
}

static void bench_check(int err, const char *what, uint64_t seq)
{
	if (err) {
		fprintf(stderr, "bench_journal: %s %" PRIu64 ": %s\n", what, seq, strerror(-err));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : ".";
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
	char dir[PATH_MAX], path[PATH_MAX + 16], text[512];
	struct gw_journal *j;
	double t0, secs;
	uint64_t s;

	if (n < 10 || n > 10000000) {
		fprintf(stderr, "usage: bench_journal [dir] [records >= 10]\n");
		return 2;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/bench_journal.XXXXXX", base) >= sizeof(dir) || !mkdtemp(dir)) {
		fprintf(stderr, "bench_journal: cannot create a directory in %s: %s\n", base, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/" JNAME, dir);
	printf("journal in %s, %ld records\n", dir, n);

	j = bench_open(dir, &secs);
	t0 = now_s();
	for (s = 1; s <= (uint64_t)n; s++) {
		snprintf(text, sizeof(text),
			 "[2,\"%" PRIu64 "\",\"MeterValues\",{\"connectorId\":1,\"transactionId\":4711,\"meterValue\":"
			 "[{\"timestamp\":\"2024-05-01T12:00:00Z\",\"sampledValue\":[{\"value\":\"%" PRIu64 "\","
			 "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"},{\"value\":\"16.0\","
			 "\"measurand\":\"Current.Import\",\"unit\":\"A\",\"phase\":\"L1\"}]}]}]",
			 s, 1000000 + s * 13);
		bench_check(gw_journal_put(j, s, text), "put", s);
	}
	secs = now_s() - t0;
	printf("put:        %8.0f /s  (%ld records, %.2f s, %.0f us each, file %.1f MB)\n", (double)n / secs, n,
	       secs, secs * 1e6 / (double)n, (double)gw_journal_stats(j)->file_bytes / 1e6);
	gw_journal_close(j);

	j = bench_open(dir, &secs);
	printf("replay:     %8.1f ms  (%u live records)\n", secs * 1e3, gw_journal_stats(j)->live);

	/* Half the records: 1.5 n lines with half live stays clear of the compaction threshold. */
	t0 = now_s();
	for (s = 1; s <= (uint64_t)n / 2; s++)
		bench_check(gw_journal_del(j, s), "del", s);
	secs = now_s() - t0;
	printf("del:        %8.0f /s  (%ld records, %.2f s)\n", (double)(n / 2) / secs, n / 2, secs);

	/* Keep deleting; time the one delete that compacts. */
	for (secs = 0; gw_journal_stats(j)->compactions == 0 && s <= (uint64_t)n; s++) {
		t0 = now_s();
		bench_check(gw_journal_del(j, s), "del", s);
		secs = now_s() - t0;
	}
	printf("compaction: %8.1f ms  (%u live records kept, file now %.2f MB; includes that delete)\n",
	       secs * 1e3, gw_journal_stats(j)->live, (double)gw_journal_stats(j)->file_bytes / 1e6);
	gw_journal_close(j);

	j = bench_open(dir, &secs);
	printf("replay:     %8.1f ms  (%u live records, compacted file)\n", secs * 1e3, gw_journal_stats(j)->live);
	gw_journal_close(j);

	unlink(path);
	rmdir(dir);
	return 0;
}
