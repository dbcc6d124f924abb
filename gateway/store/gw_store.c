/*
 * gw_store: atomic, durable replacement and capped reading of small state files. The new content goes
 * to a temporary file with a random name in the same directory (a rename is only atomic within one
 * filesystem), is fsync'd, renamed over the target, and the directory is fsync'd so the rename itself
 * survives a power cut. No logging here: callers report errors, and unit tests link this alone.
 *
 * Fault hook: while the file named by the environment variable TWCGW_FAULT_DISK_FULL exists, every
 * write here (state files and journal appends alike) stops half way with ENOSPC, as on a full disk.
 * The fault-injection suite (tests/faults) fills and frees the disk this way without root or a loop
 * device; unset, it costs one getenv() per write.
 */
#include "gw_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_TRIES 100

/* A name is one path component: anything else could escape dir or leave the temp elsewhere. */
static int name_check(const char *dir, const char *name)
{
	if (!dir || !name || !name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

static bool disk_full_fault(void)
{
	const char *flag = getenv("TWCGW_FAULT_DISK_FULL");
	struct stat st;

	return flag && flag[0] && stat(flag, &st) == 0;
}

int gw_store_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	bool full = disk_full_fault();

	if (full)
		n /= 2;
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return full ? -ENOSPC : 0;
}

/* The directory entry of a rename or a new file is only durable once the directory is synced. Some
 * filesystems cannot sync a directory at all (EINVAL): there is nothing more to do on those. */
static int dir_sync(int dfd)
{
	if (fsync(dfd) != 0 && errno != EINVAL)
		return -errno;
	return 0;
}

static uint64_t tmp_random(int attempt)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	/* No entropy yet (early boot): a predictable name is still safe with O_EXCL, only maybe taken. */
	return ((uint64_t)getpid() << 24) ^ (uintptr_t)&r ^ (uint64_t)attempt * 0x9e3779b97f4a7c15ull;
}

/* Create ".<name>.<random>" in dfd with O_EXCL, so an existing file or symlink is never written. */
static int tmp_create(int dfd, const char *name, mode_t mode, char *tmp, size_t tmp_size)
{
	for (int i = 0; i < TMP_TRIES; i++) {
		int n = snprintf(tmp, tmp_size, ".%s.%012llx", name,
				 (unsigned long long)(tmp_random(i) & 0xffffffffffffull));
		int fd;

		if (n < 0 || (size_t)n >= tmp_size)
			return -ENAMETOOLONG;
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int gw_store_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	int dfd, fd, err;

	err = name_check(dir, name);
	if (err)
		return err;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = tmp_create(dfd, name, mode, tmp, sizeof(tmp));
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	err = gw_store_write_all(fd, data, len);
	if (!err && fsync(fd) != 0)
		err = -errno;
	/* close() can report a deferred write error (NFS); the data is not known to be safe then. */
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && renameat(dfd, tmp, dfd, name) != 0)
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	else
		err = dir_sync(dfd);
	close(dfd);
	return err;
}

int gw_store_read(const char *dir, const char *name, char **out, size_t *len, size_t max)
{
	char path[PATH_MAX];
	struct stat st;
	size_t have = 0;
	char *buf;
	int fd, err = name_check(dir, name);

	if (err)
		return err;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		err = -EFBIG;
	buf = err ? NULL : malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err ? err : -ENOMEM;
	}
	/* gw_store_write() never changes a file in place (it renames a new one over it), so the size
	 * fstat() saw is the size of what this descriptor reads; stop early only if it was truncated. */
	while (have < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + have, (size_t)st.st_size - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			free(buf);
			close(fd);
			return err;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
}
