/*
 * libFuzzer target for the replay of the OCPP journal (gw_journal), a file we read back after a crash
 * or a disk fault: the input is written as the journal file in a private directory (on /dev/shm when
 * there is one, so the fsyncs cost little; gone again after each input) and opened. Checked: no crash, leak or undefined behaviour;
 * open never fails on content; foreach yields strictly ascending seqs, none above max_seq, as many as
 * stats.live; the file is the input cut at stats.file_bytes (unless open compacted it); opening again
 * finds the same live set, max_seq and skipped counts and no torn end; a put of a new seq, a replace
 * and a delete then survive a close and reopen exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_journal.h"
#include "gw_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JNAME "journal"

static char dir[64];
static char path[96];

struct live {
	uint64_t *seq;
	char **text;
	size_t n, cap;
	uint64_t last;
	const struct gw_journal *j;
};

/* The directory's name is picked once; the directory itself lives only while an input runs, since
 * libFuzzer ends with _Exit() and no atexit() handler would run. */
static void dir_enter(void)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/fuzz_gw_journal.XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/" JNAME, dir);
	} else if (mkdir(dir, 0700) != 0) {
		abort();
	}
}

/* Nothing else may be left behind (a compaction's temporary, say): rmdir() fails if it is. */
static void dir_leave(void)
{
	if (unlink(path) != 0 || rmdir(dir) != 0)
		abort();
}

static void live_grow(struct live *l)
{
	if (l->n < l->cap)
		return;
	l->cap = l->cap ? l->cap * 2 : 16;
	l->seq = realloc(l->seq, l->cap * sizeof(*l->seq));
	l->text = realloc(l->text, l->cap * sizeof(*l->text));
	if (!l->seq || !l->text)
		abort();
}

static int live_add(void *user, uint64_t seq, const char *text)
{
	struct live *l = user;

	if ((l->n && seq <= l->last) || seq > gw_journal_max_seq(l->j) || !text || strchr(text, '\n'))
		abort();
	live_grow(l);
	l->seq[l->n] = seq;
	l->text[l->n] = strdup(text);
	if (!l->text[l->n])
		abort();
	l->n++;
	l->last = seq;
	return 0;
}

static void live_free(struct live *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->text[i]);
	free(l->seq);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

static void live_get(const struct gw_journal *j, struct live *l)
{
	memset(l, 0, sizeof(*l));
	l->j = j;
	gw_journal_foreach(j, live_add, l);
	if (l->n != gw_journal_stats(j)->live)
		abort();
}

static void live_same(const struct live *a, const struct live *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (a->seq[i] != b->seq[i] || strcmp(a->text[i], b->text[i]))
			abort();
}

static struct gw_journal *open_checked(void)
{
	int err = 0;
	struct gw_journal *j = gw_journal_open(dir, JNAME, &err);
	struct stat st;

	if (!j || stat(path, &st) != 0 || (uint64_t)st.st_size != gw_journal_stats(j)->file_bytes)
		abort();
	return j;
}

/* Apply to @l what was done to the journal: put @seq = @text, or delete it when @text is NULL. */
static void live_apply(struct live *l, uint64_t seq, const char *text)
{
	size_t i = 0;

	while (i < l->n && l->seq[i] < seq)
		i++;
	if (i < l->n && l->seq[i] == seq) {
		free(l->text[i]);
		if (text) {
			l->text[i] = strdup(text);
			return;
		}
		memmove(&l->seq[i], &l->seq[i + 1], (l->n - i - 1) * sizeof(*l->seq));
		memmove(&l->text[i], &l->text[i + 1], (l->n - i - 1) * sizeof(*l->text));
		l->n--;
		return;
	}
	if (!text)
		return;
	live_grow(l);
	memmove(&l->seq[i + 1], &l->seq[i], (l->n - i) * sizeof(*l->seq));
	memmove(&l->text[i + 1], &l->text[i], (l->n - i) * sizeof(*l->text));
	l->seq[i] = seq;
	l->text[i] = strdup(text);
	l->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_journal_stats first;
	struct live a, b;
	struct gw_journal *j;
	uint64_t max, seq;
	char *back = NULL;
	size_t back_len = 0;

	dir_enter();
	if (gw_store_write(dir, JNAME, data, size, 0600) != 0)
		abort();
	j = open_checked();
	first = *gw_journal_stats(j);
	max = gw_journal_max_seq(j);
	if (first.skipped_bytes > size || first.skipped_records > first.skipped_bytes || first.appended ||
	    (!first.compactions && first.skipped_bytes > first.file_bytes))
		abort();
	/* Open only cuts a torn end off, unless it compacted. */
	if (!first.compactions) {
		if (first.dropped_tail != (first.file_bytes < size) ||
		    gw_store_read(dir, JNAME, &back, &back_len, size + 1) != 0 || back_len != first.file_bytes ||
		    memcmp(back, data, back_len))
			abort();
		free(back);
	}
	live_get(j, &a);
	gw_journal_close(j);

	/* Opening again changes nothing. */
	j = open_checked();
	live_get(j, &b);
	live_same(&a, &b);
	live_free(&b);
	if (gw_journal_max_seq(j) != max || gw_journal_stats(j)->dropped_tail ||
	    (!first.compactions && !gw_journal_stats(j)->compactions &&
	     (gw_journal_stats(j)->skipped_records != first.skipped_records ||
	      gw_journal_stats(j)->skipped_bytes != first.skipped_bytes)))
		abort();

	/* A new record, a replaced one and a deleted one survive a reopen. */
	seq = max == UINT64_MAX ? max : max + 1;
	if (gw_journal_put(j, seq, "{\"new\":true}") != 0)
		abort();
	live_apply(&a, seq, "{\"new\":true}");
	if (a.n > 1) {
		uint64_t victim = a.seq[a.n / 2];

		if (gw_journal_put(j, a.seq[0], "replaced") != 0 || gw_journal_del(j, victim) != 0)
			abort();
		live_apply(&a, a.seq[0], "replaced");
		live_apply(&a, victim, NULL);
	}
	if (gw_journal_max_seq(j) != seq)
		abort();
	gw_journal_close(j);
	j = open_checked();
	live_get(j, &b);
	live_same(&a, &b);
	if (gw_journal_max_seq(j) != seq || gw_journal_stats(j)->dropped_tail)
		abort();
	live_free(&a);
	live_free(&b);
	gw_journal_close(j);
	dir_leave();
	return 0;
}
