/*
 * libFuzzer target for the certificate store text certs/ reads back from dataDir: any bytes give
 * either an error with a reason and the store left as it was, or a store that formats to a text
 * which parses back to the same store (same text, same ids), whose entries are all CA certificates
 * within the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certs.h"

#define MAX 6
#define NOW INT64_C(1811808000) /* 2027-06-01 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok)
{
	if (!ok)
		abort();
}

static void same_ids(const struct certs_store *a, const struct certs_store *b, enum certs_type t)
{
	struct certs_hash_data ha[MAX], hb[MAX];
	int na = certs_store_ids(a, t, CERTS_SHA256, ha, MAX), nb = certs_store_ids(b, t, CERTS_SHA256, hb, MAX);

	need(na == nb && na == certs_store_count(a, t));
	for (int k = 0; k < na; k++)
		need(certs_hash_data_equal(&ha[k], &hb[k]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certs_store *st = certs_store_new(MAX), *back = certs_store_new(MAX);
	struct certs_expiry exp[MAX + 1];
	char err[CERTS_DETAIL_MAX];
	char *text, *again, *bundle;
	int rc, n;

	need(st && back);
	rc = certs_store_parse(st, (const char *)data, size, err, sizeof(err));
	if (rc < 0) {
		need(err[0] != '\0' && strlen(err) < sizeof(err));
		need(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT) + certs_store_count(st, CERTS_MANUFACTURER_ROOT) == 0);
		goto out;
	}
	need(rc == 0);
	n = certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT) + certs_store_count(st, CERTS_MANUFACTURER_ROOT);
	need(n <= MAX);
	text = certs_store_format(st);
	need(text != NULL);
	need(certs_store_parse(back, text, strlen(text), err, sizeof(err)) == 0);
	again = certs_store_format(back);
	need(again && !strcmp(text, again));
	same_ids(st, back, CERTS_CENTRAL_SYSTEM_ROOT);
	same_ids(st, back, CERTS_MANUFACTURER_ROOT);
	bundle = certs_store_bundle(st, CERTS_CENTRAL_SYSTEM_ROOT);
	need((bundle != NULL) == (certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT) > 0));
	if (bundle)
		need(certs_ca_check(bundle, strlen(bundle), NOW, NULL) != CERTS_E_NOT_CA);
	free(bundle);
	need(certs_expiring(st, NULL, 0, NOW, 86400 * 30, exp, MAX + 1) <= n);
	free(text);
	free(again);
out:
	certs_store_free(st);
	certs_store_free(back);
	return 0;
}
