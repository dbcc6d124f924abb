/*
 * gw_store: small state files in dataDir, written so that a crash or power cut leaves either the old
 * or the new content, never a mix: write a temporary file in the same directory, fsync it, rename it
 * over the old one, fsync the directory. Files that may hold secrets are created 0600.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <stddef.h>
#include <sys/types.h>

/**
 * gw_store_write() - replace @dir/@name with @len bytes of @data atomically and durably.
 * @mode: permissions of the new file (0600 for anything that may hold a secret, else 0640).
 * Return: 0 or a negative errno (the old file is then untouched; the temporary is removed).
 */
int gw_store_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

/**
 * gw_store_read() - read all of @dir/@name.
 * @out: receives a malloc'd buffer with a NUL appended (not counted in *@len); free() it.
 * @max: refuse files larger than this (-EFBIG).
 * Return: 0, -ENOENT if the file does not exist, or another negative errno.
 */
int gw_store_read(const char *dir, const char *name, char **out, size_t *len, size_t max);

/* Write all @n bytes to @fd, retrying on EINTR and short writes. Return 0 or a negative errno. */
int gw_store_write_all(int fd, const void *buf, size_t n);

#endif
