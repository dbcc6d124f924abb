/*
 * gw_import: twcgw --import-twcmanager. A TWCManager config.json, with the settings.json its web UI
 * keeps next to it (schedule, charge mode, offsets), turned into the equivalent twcgw config, plus one
 * note per thing that could not be carried over (or was changed to fit twcgw's ranges), naming the
 * TWCManager key and saying why. Secrets are copied into the config, never into a note.
 */
#ifndef GW_IMPORT_H
#define GW_IMPORT_H

#include <stddef.h>
#include <stdio.h>

/* Larger input is refused: TWCManager's shipped config.json is about 36 KB. */
#define GW_IMPORT_FILE_MAX (1024 * 1024)

/* Where the importer puts the state directory; the packaged service's StateDirectory. */
#define GW_IMPORT_DATA_DIR "/var/lib/twcgw"

enum gw_import_note_kind {
	GW_IMPORT_SKIPPED, /* not carried over */
	GW_IMPORT_CHANGED, /* carried over with another value (clamped, rounded, a default) */
};

/* One note: @key is TWCManager's ("config.maxAmpsAllowedFromGrid", "sources.Growatt",
 * "settings.scheduledAmpsMax"), @why a sentence without any secret value. Both borrowed for the call. */
typedef void (*gw_import_note_fn)(void *user, enum gw_import_note_kind kind, const char *key, const char *why);

/**
 * gw_import_twcmanager_text() - convert a config.json (and settings.json) given as text.
 * @config:   config.json as TWCManager reads it: JSON with '#' comments, lines starting with "//",
 *            and trailing commas (borrowed, NUL-terminated).
 * @settings: settings.json, or NULL when there is none.
 * @out:      on success, the twcgw config as indented JSON ending in a newline (free() it).
 * @note:     called once per note, in file order; may be NULL.
 * @err:      on failure, one line naming what is wrong (never a secret value).
 * Return: 0; -EINVAL for text that is not JSON, not a TWCManager config, or wiring limits twcgw
 * cannot keep to without raising them; -EFBIG for text over GW_IMPORT_FILE_MAX; -ENOMEM.
 */
int gw_import_twcmanager_text(const char *config, const char *settings, char **out, gw_import_note_fn note,
			      void *user, char *err, size_t errlen);

/**
 * gw_import_twcmanager_run() - the command: read @path, and settings.json from its directory (or else
 * from its config.settingsPath), print the twcgw config on @out and the notes on @errout as
 * "not carried over: KEY: WHY" and "changed: KEY: WHY".
 * Return: the exit status: 0, or 2 with one line on @errout for input that cannot be converted.
 */
int gw_import_twcmanager_run(const char *path, FILE *out, FILE *errout);

#endif
