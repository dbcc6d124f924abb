/*
 * gw_config_dir: the dataDir check, the one part of loading that touches the disk: the directory is
 * created (0750, with its parents) if missing and must be a writable directory. Run last, so an
 * otherwise invalid file changes nothing on disk.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_config_internal.h"

/* mkdir -p with mode 0750 for each missing level. */
static int mkdir_p(const char *dir)
{
	char path[GW_CONFIG_PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return -errno;
		path[i] = saved;
	}
	return 0;
}

int gw_config_data_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char shown[GOT_MAX];
	int rc;

	gw_config_text_sanitize(dir, shown, sizeof(shown));
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT) {
			rc = -errno;
			gw_config_err_set(err, errlen, "config: dataDir: %s (got \"%s\")", strerror(-rc), shown);
			return rc;
		}
		rc = mkdir_p(dir);
		if (rc == 0 && stat(dir, &st) != 0)
			rc = -errno;
		if (rc) {
			gw_config_err_set(err, errlen, "config: dataDir: cannot create the directory: %s (got \"%s\")",
				strerror(-rc), shown);
			return rc;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		gw_config_err_set(err, errlen,
			"config: dataDir: must be a directory (got \"%s\", which is not)", shown);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		rc = -errno;
		gw_config_err_set(err, errlen, "config: dataDir: must be a writable directory: %s (got \"%s\")",
			strerror(-rc), shown);
		return rc;
	}
	return 0;
}
