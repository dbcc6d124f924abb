/*
 * GetInstalledCertificateIds (CS -> CP, security whitepaper use case M03): the CertificateHashData of
 * every installed root certificate of one type. The gateway's store lists them
 * (env.installed_certificates), at most CertificateStoreMaxLength; none (or no store) is NotFound
 * without the array, as the whitepaper's edition 3 has it.
 */
#include "ocpp_cp_internal.h"

static json_t *hash_json(const struct ocpp_cert_hash *h)
{
	if ((unsigned)h->alg >= OCPP_HASH_ALGS)
		return NULL;
	return json_pack("{s:s,s:s%,s:s%,s:s%}", "hashAlgorithm", ocpp_hash_alg_names[h->alg], "issuerNameHash",
			 h->issuer_name_hash, strnlen(h->issuer_name_hash, OCPP_CERT_HASH_MAX), "issuerKeyHash",
			 h->issuer_key_hash, strnlen(h->issuer_key_hash, OCPP_CERT_HASH_MAX), "serialNumber", h->serial,
			 strnlen(h->serial, OCPP_CERT_SERIAL_MAX));
}

json_t *ocpp_handle_get_installed_certificate_ids(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "certificateType", NULL };
	struct ocpp_cert_hash *hs;
	json_t *conf, *arr;
	int type = 0, n, max;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_enum(req, "certificateType", ocpp_cert_type_names, OCPP_CERT_TYPES, true, &type, e) < 0)
		return NULL;
	if (!cp->env.installed_certificates)
		return json_pack("{s:s}", "status", "NotFound");
	max = (int)ocpp_cp_key_int(cp, OCPP_KEY_CERTIFICATE_STORE_MAX_LENGTH);
	if (max < 1)
		max = 1;
	hs = calloc((size_t)max, sizeof(*hs));
	if (!hs) {
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	n = cp->env.installed_certificates(cp->env.user, ocpp_cert_type_names[type], hs, max);
	if (n < 0) {
		free(hs);
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "the certificate store could not be read: %s", strerror(-n));
		return NULL;
	}
	if (n > max)
		n = max; /* a store that says more than it could write: only what is in @hs is real */
	if (n == 0) {
		free(hs);
		return json_pack("{s:s}", "status", "NotFound");
	}
	arr = json_array();
	for (int i = 0; arr && i < n; i++) {
		json_t *h = hash_json(&hs[i]);

		if (!h || json_array_append_new(arr, h) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	free(hs);
	conf = arr ? json_pack("{s:s,s:o}", "status", "Accepted", "certificateHashData", arr) : NULL;
	if (!conf)
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "bad hash data from the certificate store, or out of memory");
	return conf;
}
