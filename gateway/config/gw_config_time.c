/*
 * gw_config_time: the times a config file holds, as text turned into numbers: policy.until, an
 * instant in ISO 8601 with its offset (a bare local time would move with the machine's zone), and the
 * HH:MM of a schedule window, minutes after midnight.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gw_config_internal.h"

/* Whether @s starts with the shape @pat: 'd' a digit, anything else itself. */
static bool shape(const char *s, const char *pat)
{
	for (; *pat; s++, pat++)
		if (*pat == 'd' ? !isdigit((unsigned char)*s) : *s != *pat)
			return false;
	return true;
}

/* The @n digits at @s (checked by shape() first). */
static int digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* "YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM)": an instant, so the offset is required. */
int gw_config_until_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0;
	const char *p;
	struct tm tm;
	time_t t;

	(void)k;
	if (!shape(value, "dddd-dd-ddTdd:dd"))
		goto bad;
	p = value + 16; /* only now known to be inside the string */
	y = digits(value, 4);
	mo = digits(value + 5, 2);
	d = digits(value + 8, 2);
	h = digits(value + 11, 2);
	mi = digits(value + 14, 2);
	if (*p == ':') {
		if (!shape(p, ":dd"))
			goto bad;
		sec = digits(p + 1, 2);
		p += 3;
	}
	if (*p == 'Z' && p[1] == '\0') {
		oh = om = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && shape(p + 1, "dd:dd")) {
		oh = digits(p + 1, 2);
		om = digits(p + 4, 2);
		if (oh > 14 || om > 59)
			goto bad;
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		goto bad;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != d) /* 31 February */
		goto bad;
	*(int64_t *)field = ((int64_t)t - (int64_t)oh * 3600 - (int64_t)om * 60) * 1000;
	return 0;
bad:
	snprintf(why, whylen, "must be a date and time with its offset, e.g. 2026-11-22T07:00:00+01:00 or "
		 "2026-11-22T06:00Z");
	return -EINVAL;
}

int gw_config_until_text(const char *value, int64_t *out_ms, char *why, size_t whylen)
{
	return gw_config_until_parse(NULL, value, out_ms, why, whylen);
}

/* "HH:MM" as minutes after midnight. */
int gw_config_hhmm_parse(const char *s, int *out)
{
	int h, m;

	if (!shape(s, "dd:dd") || s[5])
		return -EINVAL;
	h = digits(s, 2);
	m = digits(s + 3, 2);
	if (h > 23 || m > 59)
		return -EINVAL;
	*out = h * 60 + m;
	return 0;
}
