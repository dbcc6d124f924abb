/*
 * gw_held: the file in dataDir that remembers what each Wall Connector may hold (twc-held.json), so
 * that after a crash, an upgrade or an OCPP Reset the bus counts the limits the slaves may still be
 * holding instead of 0 A. The bus core says when the table changes (twc_bus_env.persist); this module
 * writes it atomically and reads it back, refusing anything malformed, and checks a wiring limit
 * against what the known slaves can be brought down to.
 */
#ifndef GW_HELD_H
#define GW_HELD_H

#include <stddef.h>

#include "twc_bus.h"

#define GW_HELD_FILE "twc-held.json"

/**
 * gw_held_parse() - the table from the file's text.
 * @out, @cap: up to @cap entries (more is an error).
 * Return: the number of entries, or -EINVAL with a reason in @err.
 */
int gw_held_parse(const char *text, size_t len, struct twc_held *out, int cap, char *err, size_t errlen);

/* Return: the JSON text for @n entries (malloc'd, free() it), or NULL. */
char *gw_held_format(const struct twc_held *held, int n);

/* Read @dir/GW_HELD_FILE. Return: the number of entries (0 when there is no file), or a negative
 * errno with a reason in @err (a file that exists but cannot be read or parsed). */
int gw_held_load(const char *dir, struct twc_held *out, int cap, char *err, size_t errlen);

/* Replace @dir/GW_HELD_FILE atomically and durably. Return 0 or a negative errno. */
int gw_held_save(const char *dir, const struct twc_held *held, int n);

/**
 * gw_held_check() - can the wiring limits be met by slaves that need @need?
 * Return: 0, or -ERANGE with an error naming the config key and the figure needed in @err.
 */
int gw_held_check(const struct twc_need *need, int wiring_max_all, int wiring_max_per_twc, char *err,
		  size_t errlen);

#endif
