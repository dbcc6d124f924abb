/*
 * gw_journal: the durable record store behind OCPP's "nothing lost" rule. It keeps a set of records,
 * each a sequence number and a text (one JSON document), in an append-only file in dataDir. Every
 * put and delete is appended and fsync'd before the call returns, so a record put before sending a
 * message survives SIGKILL and power loss. A put with an existing sequence number replaces the text
 * (last write wins). On open, the file is replayed line by line. Each record carries its own CRC, so
 * a corrupt line between sound ones (a flipped byte, a cut or merged line, garbage) is skipped and
 * counted, and replay goes on at the next line that parses with a matching CRC: the records after it
 * and their deletes still count. The skipped bytes stay in the file (appends go after the last sound
 * record, where replay finds them) until the next compaction, which writes only live records. A torn
 * or corrupt end with no sound record after it (a crash in mid-write) is dropped and the file
 * truncated to the last sound record. When the file holds mostly dead records it is compacted by
 * writing the live ones to a new file and renaming it over the old (gw_store's rule).
 *
 * Record format, one per line: "P <seq> <len> <crc32 hex8> <text>\n" or "D <seq> 0 <crc32 hex8> \n",
 * where crc32 (zlib polynomial, computed here) covers "<kind> <seq> <len> " plus the text, and the
 * text has no newline (compact JSON).
 */
#ifndef GW_JOURNAL_H
#define GW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define GW_JOURNAL_TEXT_MAX 60000 /* longest record text accepted */

struct gw_journal;

struct gw_journal_stats {
	uint32_t live;          /* records currently live */
	uint32_t appended;      /* records appended since open */
	uint32_t compactions;
	uint32_t dropped_tail;  /* torn/corrupt bytes dropped at open (0 or 1 event) */
	/* Unsound lines found at open between sound records, skipped by the replay and left in the
	 * file: a record lost in each (two if a newline was hit), and a sign of a failing disk. */
	uint32_t skipped_records;
	uint64_t skipped_bytes;
	uint64_t file_bytes;
};

/**
 * gw_journal_open() - open (creating if needed, mode 0600) @dir/@name and replay it.
 * Return: the journal, or NULL with *@err set to a negative errno.
 */
struct gw_journal *gw_journal_open(const char *dir, const char *name, int *err);
void gw_journal_close(struct gw_journal *j);

/* Durably add or replace record @seq. Return 0 or a negative errno (-E2BIG if too long,
 * -EINVAL if @text contains a newline). */
int gw_journal_put(struct gw_journal *j, uint64_t seq, const char *text);
/* Durably delete record @seq (no-op, returning 0, if it is not live). */
int gw_journal_del(struct gw_journal *j, uint64_t seq);

/* Live records in ascending seq order: call @fn for each; stop early if it returns non-zero.
 * Texts are borrowed for the call. */
void gw_journal_foreach(const struct gw_journal *j, int (*fn)(void *user, uint64_t seq, const char *text),
			void *user);
/* Highest seq ever seen in the file (live or deleted), 0 if none: new records use a larger one. */
uint64_t gw_journal_max_seq(const struct gw_journal *j);
const struct gw_journal_stats *gw_journal_stats(const struct gw_journal *j);

#endif
