/*
 * gw_journal: the append-only record journal described in gw_journal.h. Every put and delete is one
 * checksummed line appended and fsync'd before the call returns; open replays the sound lines into a
 * sorted in-memory index, skipping (and counting) unsound ones, and cuts off a torn end. When most
 * lines in the file are dead, the live set is rewritten through gw_store_write() (temp, fsync,
 * rename, directory fsync) behind an "M <max seq>" line, so the highest sequence number ever used
 * outlives its records; skipped lines count as dead, and the rewrite leaves them out.
 */
#include "gw_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_store.h"

#define HDR_MAX 32                         /* "P <20 digits> <5 digits> " and its NUL */
#define REC_OVERHEAD (HDR_MAX + 9 + 1)     /* header, "<crc8> ", '\n' */
#define LINE_MAX_BYTES (REC_OVERHEAD + GW_JOURNAL_TEXT_MAX)
#define READ_CHUNK 65536
#define COMPACT_MIN_RECORDS 64

struct rec {
	uint64_t seq;
	char *text; /* NULL: deleted; the slot stays until the index is squeezed */
	size_t len;
};

struct gw_journal {
	int fd; /* -1 after a compaction whose reopen failed; appends retry it */
	char *dir, *name, *path;
	struct rec *recs; /* sorted by seq */
	size_t n, cap, dead;
	uint64_t max_seq;
	uint64_t file_records; /* lines in the file, live or dead */
	uint64_t compact_after; /* after a failed compaction, wait for this many lines before retrying */
	struct gw_journal_stats stats;
};

/* zlib's CRC-32 (reflected 0xEDB88320), four bits at a time: a 16-entry table is plenty for a few
 * records a second and for replay. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* Chainable like zlib's crc32(): crc32_update(crc32_update(0, a), b) is the CRC of a then b. */
static uint32_t crc32_update(uint32_t crc, const char *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint8_t)p[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}

/* Format one record line into @out (room for REC_OVERHEAD + @len bytes); return its length. */
static size_t rec_format(char *out, char kind, uint64_t seq, const char *text, size_t len)
{
	size_t h = (size_t)snprintf(out, HDR_MAX, "%c %" PRIu64 " %zu ", kind, seq, len);
	uint32_t crc = crc32_update(crc32_update(0, out, h), text, len);

	snprintf(out + h, 10, "%08" PRIx32 " ", crc);
	memcpy(out + h + 9, text, len);
	out[h + 9 + len] = '\n';
	return h + 9 + len + 1;
}

/* Digits then a space; NULL if absent, over @max, or not followed by a space. */
static const char *parse_uint(const char *p, const char *end, uint64_t max, uint64_t *out)
{
	const char *start = p;
	uint64_t v = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (max - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	if (p == start || p == end || *p != ' ')
		return NULL;
	*out = v;
	return p + 1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Check one line (without its '\n'): 0 with the fields filled in, or -1 if it is not a sound record. */
static int rec_parse(const char *p, size_t n, char *kind, uint64_t *seq, const char **text, size_t *len)
{
	const char *end = p + n, *q;
	uint64_t tlen;
	uint32_t crc = 0;

	if (n < 2 || (p[0] != 'P' && p[0] != 'D' && p[0] != 'M') || p[1] != ' ')
		return -1;
	q = parse_uint(p + 2, end, UINT64_MAX, seq);
	q = q ? parse_uint(q, end, GW_JOURNAL_TEXT_MAX, &tlen) : NULL;
	if (!q || end - q < 9 || q[8] != ' ' || (size_t)(end - q - 9) != tlen || (p[0] != 'P' && tlen != 0))
		return -1;
	for (int i = 0; i < 8; i++) {
		int d = hex_digit(q[i]);

		if (d < 0)
			return -1;
		crc = crc << 4 | (uint32_t)d;
	}
	if (crc32_update(crc32_update(0, p, (size_t)(q - p)), q + 9, tlen) != crc)
		return -1;
	*kind = p[0];
	*text = q + 9;
	*len = tlen;
	return 0;
}

/* ---- the index: a sorted array; deletes leave holes that are squeezed out in bulk ---- */

/* First slot whose seq is >= @seq. Puts nearly always append, so check the end first. */
static size_t index_find(const struct gw_journal *j, uint64_t seq)
{
	size_t lo = 0, hi = j->n;

	if (hi > 0 && j->recs[hi - 1].seq < seq)
		return hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->recs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Make room for one more slot before anything is written, so an insert after a durable append cannot
 * fail. */
static int index_reserve(struct gw_journal *j)
{
	size_t cap = j->cap ? j->cap * 2 : 16;
	struct rec *r;

	if (j->n < j->cap)
		return 0;
	r = realloc(j->recs, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	j->recs = r;
	j->cap = cap;
	return 0;
}

/* Store @text (malloc'd, now owned by the index) as record @seq; needs index_reserve() first. */
static void index_put(struct gw_journal *j, uint64_t seq, char *text, size_t len)
{
	size_t i = index_find(j, seq);
	struct rec *r = &j->recs[i];

	if (i < j->n && r->seq == seq) {
		if (r->text) {
			free(r->text);
		} else {
			j->dead--;
			j->stats.live++;
		}
	} else {
		memmove(r + 1, r, (j->n - i) * sizeof(*r));
		j->n++;
		j->stats.live++;
	}
	r->seq = seq;
	r->text = text;
	r->len = len;
}

static struct rec *index_live(const struct gw_journal *j, uint64_t seq)
{
	size_t i = index_find(j, seq);

	return i < j->n && j->recs[i].seq == seq && j->recs[i].text ? &j->recs[i] : NULL;
}

static void index_del(struct gw_journal *j, uint64_t seq)
{
	struct rec *r = index_live(j, seq);
	size_t k = 0;

	if (!r)
		return;
	free(r->text);
	r->text = NULL;
	j->dead++;
	j->stats.live--;
	/* Squeezing only once half the slots are holes keeps deletes O(1) amortised wherever they fall. */
	if (j->dead * 2 <= j->n)
		return;
	for (size_t i = 0; i < j->n; i++)
		if (j->recs[i].text)
			j->recs[k++] = j->recs[i];
	j->n = k;
	j->dead = 0;
}

/* Apply one replayed record to the index. Only fails (-ENOMEM) before changing anything. */
static int journal_apply(struct gw_journal *j, char kind, uint64_t seq, const char *text, size_t len)
{
	char *copy;

	if (seq > j->max_seq)
		j->max_seq = seq;
	if (kind == 'D')
		index_del(j, seq);
	if (kind != 'P')
		return 0;
	copy = malloc(len + 1);
	if (!copy || index_reserve(j) != 0) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	index_put(j, seq, copy, len);
	return 0;
}

/* ---- the file ---- */

/* Replay the file into the index. Every line stands on its own (its CRC covers it all), so an unsound
 * line between sound ones is skipped and counted; unsound lines with nothing sound after them are a
 * torn end, cut off so that the next append starts a line of its own. */
static int journal_replay(struct gw_journal *j)
{
	size_t cap = LINE_MAX_BYTES + READ_CHUNK, have = 0;
	char *buf = malloc(cap);
	uint64_t off = 0;        /* file offset of buf[0] */
	uint64_t good = 0;       /* file offset just past the last sound record */
	uint64_t junk_bytes = 0; /* unsound bytes since then */
	uint32_t junk_lines = 0;
	bool in_junk = false;    /* buf starts in the middle of a line already known to be unsound */
	bool eof = false;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	/* Every pass leaves less than LINE_MAX_BYTES unparsed, so a read always has READ_CHUNK of room. */
	while (!eof && !err) {
		ssize_t r = read(j->fd, buf + have, cap - have);
		size_t pos = 0;
		char *nl;

		if (r < 0) {
			err = errno == EINTR ? 0 : -errno;
			continue;
		}
		eof = r == 0;
		have += (size_t)r;
		while (!err && (nl = memchr(buf + pos, '\n', have - pos))) {
			size_t n = (size_t)(nl - (buf + pos)), len;
			const char *text;
			uint64_t seq;
			char kind;

			if (in_junk || rec_parse(buf + pos, n, &kind, &seq, &text, &len) != 0) {
				junk_lines++;
				junk_bytes += n + 1;
			} else if ((err = journal_apply(j, kind, seq, text, len)) == 0) {
				/* What lay between the last sound record and this one is in the middle: it stays. */
				j->stats.skipped_records += junk_lines;
				j->stats.skipped_bytes += junk_bytes;
				j->file_records += junk_lines + 1u;
				junk_lines = 0;
				junk_bytes = 0;
				good = off + pos + n + 1;
			}
			in_junk = false;
			pos += n + 1;
		}
		/* No record is this long: the unfinished line is unsound whatever follows; keep its count only. */
		if (have - pos >= LINE_MAX_BYTES) {
			junk_bytes += have - pos;
			in_junk = true;
			pos = have;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		off += pos;
	}
	free(buf);
	/* At EOF, @have is an unfinished last line: with any unsound lines after @good, the torn end. */
	if (!err && off + have > good) {
		if (ftruncate(j->fd, (off_t)good) != 0 || fsync(j->fd) != 0)
			err = -errno;
		j->stats.dropped_tail = 1;
	}
	j->stats.file_bytes = good;
	return err;
}

static int journal_compact(struct gw_journal *j)
{
	size_t size = REC_OVERHEAD, len = 0;
	char *buf;
	int err;

	for (size_t i = 0; i < j->n; i++)
		if (j->recs[i].text)
			size += REC_OVERHEAD + j->recs[i].len;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	len += rec_format(buf, 'M', j->max_seq, "", 0);
	for (size_t i = 0; i < j->n; i++)
		if (j->recs[i].text)
			len += rec_format(buf + len, 'P', j->recs[i].seq, j->recs[i].text, j->recs[i].len);
	err = gw_store_write(j->dir, j->name, buf, len, 0600);
	free(buf);
	if (err)
		return err;
	/* The old descriptor now points at the replaced file: appends must go to the new one. */
	close(j->fd);
	j->fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
	j->file_records = j->stats.live + 1u;
	j->stats.file_bytes = len;
	j->stats.compactions++;
	return j->fd < 0 ? -errno : 0;
}

/* Compact once over COMPACT_MIN_RECORDS lines and under a quarter of them live. A failure only leaves
 * the file longer, so it is not the caller's error; wait for another COMPACT_MIN_RECORDS lines. */
static void journal_maybe_compact(struct gw_journal *j)
{
	if (j->fd < 0 || j->file_records <= COMPACT_MIN_RECORDS || j->file_records < j->compact_after ||
	    (uint64_t)j->stats.live * 4 >= j->file_records)
		return;
	if (journal_compact(j) != 0)
		j->compact_after = j->file_records + COMPACT_MIN_RECORDS;
}


/* Append one line and fsync it. The index is the caller's to update, and only after this succeeds. */
static int journal_append(struct gw_journal *j, char kind, uint64_t seq, const char *text, size_t len)
{
	char *line;
	size_t n;
	int err;

	if (j->fd < 0) {
		j->fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
		if (j->fd < 0)
			return -errno;
	}
	line = malloc(REC_OVERHEAD + len);
	if (!line)
		return -ENOMEM;
	n = rec_format(line, kind, seq, text, len);
	err = gw_store_write_all(j->fd, line, n);
	if (!err && fsync(j->fd) != 0)
		err = -errno;
	free(line);
	if (err) {
		/* A half-written line would run into the next one appended and take it down with it at
		 * replay: cut it off now. */
		if (ftruncate(j->fd, (off_t)j->stats.file_bytes) == 0)
			(void)fsync(j->fd);
		return err;
	}
	j->file_records++;
	j->stats.appended++;
	j->stats.file_bytes += n;
	return 0;
}

/* ---- the API ---- */

struct gw_journal *gw_journal_open(const char *dir, const char *name, int *err)
{
	struct gw_journal *j = NULL;
	char path[PATH_MAX];
	int e = -EINVAL, dfd;

	if (!dir || !name || !name[0] || strchr(name, '/'))
		goto fail;
	e = -ENAMETOOLONG;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		goto fail;
	e = -ENOMEM;
	j = calloc(1, sizeof(*j));
	if (!j)
		goto fail;
	j->fd = -1;
	j->dir = strdup(dir);
	j->name = strdup(name);
	j->path = strdup(path);
	if (!j->dir || !j->name || !j->path)
		goto fail;
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		e = -errno;
		goto fail;
	}
	/* A journal created just now must not vanish in a power cut with the records put into it. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
		e = -errno;
		if (dfd >= 0)
			close(dfd);
		goto fail;
	}
	close(dfd);
	e = journal_replay(j);
	if (e)
		goto fail;
	journal_maybe_compact(j);
	return j;
fail:
	gw_journal_close(j);
	if (err)
		*err = e;
	return NULL;
}

void gw_journal_close(struct gw_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	for (size_t i = 0; i < j->n; i++)
		free(j->recs[i].text);
	free(j->recs);
	free(j->dir);
	free(j->name);
	free(j->path);
	free(j);
}

int gw_journal_put(struct gw_journal *j, uint64_t seq, const char *text)
{
	size_t len = strnlen(text, GW_JOURNAL_TEXT_MAX + 1);
	char *copy;
	int err;

	if (len > GW_JOURNAL_TEXT_MAX)
		return -E2BIG;
	if (memchr(text, '\n', len))
		return -EINVAL;
	/* Allocate first: once the line is on disk, updating the index must not be able to fail. */
	copy = malloc(len + 1);
	if (!copy || index_reserve(j) != 0) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, text, len + 1);
	err = journal_append(j, 'P', seq, text, len);
	if (err) {
		free(copy);
		return err;
	}
	index_put(j, seq, copy, len);
	if (seq > j->max_seq)
		j->max_seq = seq;
	journal_maybe_compact(j);
	return 0;
}

int gw_journal_del(struct gw_journal *j, uint64_t seq)
{
	int err;

	if (!index_live(j, seq))
		return 0;
	err = journal_append(j, 'D', seq, "", 0);
	if (err)
		return err;
	index_del(j, seq);
	journal_maybe_compact(j);
	return 0;
}

void gw_journal_foreach(const struct gw_journal *j, int (*fn)(void *user, uint64_t seq, const char *text),
			void *user)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->recs[i].text && fn(user, j->recs[i].seq, j->recs[i].text) != 0)
			return;
}

uint64_t gw_journal_max_seq(const struct gw_journal *j)
{
	return j->max_seq;
}

const struct gw_journal_stats *gw_journal_stats(const struct gw_journal *j)
{
	return &j->stats;
}
