/*
 * fuzz_mem_journal: the journal kept in memory for the OCPP fuzz targets (fuzz_ocpp_cp, fuzz_ocpp_state):
 * records sorted by sequence number, a put replacing a record of the same number, -ENOSPC when full
 * (the core must then hold its writes), a delete of an unknown number a no-op, as gw_journal does.
 */
#ifndef FUZZ_MEM_JOURNAL_H
#define FUZZ_MEM_JOURNAL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int mem_journal_put(uint64_t *seqs, char **texts, int *n, int max, uint64_t seq, const char *text)
{
	int i = 0;

	if (!seq || !text)
		abort();
	while (i < *n && seqs[i] < seq)
		i++;
	if (i < *n && seqs[i] == seq) {
		free(texts[i]);
		texts[i] = strdup(text);
		return 0;
	}
	if (*n == max)
		return -ENOSPC;
	memmove(&seqs[i + 1], &seqs[i], (size_t)(*n - i) * sizeof(seqs[0]));
	memmove(&texts[i + 1], &texts[i], (size_t)(*n - i) * sizeof(texts[0]));
	seqs[i] = seq;
	texts[i] = strdup(text);
	(*n)++;
	return 0;
}

static inline int mem_journal_del(uint64_t *seqs, char **texts, int *n, uint64_t seq)
{
	for (int i = 0; i < *n; i++) {
		if (seqs[i] != seq)
			continue;
		free(texts[i]);
		memmove(&seqs[i], &seqs[i + 1], (size_t)(*n - i - 1) * sizeof(seqs[0]));
		memmove(&texts[i], &texts[i + 1], (size_t)(*n - i - 1) * sizeof(texts[0]));
		(*n)--;
		return 0;
	}
	return 0;
}

#endif
