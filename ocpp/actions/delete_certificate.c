/*
 * DeleteCertificate (CS -> CP, security whitepaper use case M04): remove an installed root
 * certificate named by its CertificateHashData. The core checks the hash data against the schema
 * (the algorithm, CiString128 hashes, a CiString40 serial) and hands it to the gateway's store
 * (env.delete_certificate), which refuses to delete the last central system root while a TLS
 * profile needs it. Accepted, Failed or NotFound (also when the gateway has no store).
 */
#include "ocpp_cp_internal.h"

const char *const ocpp_hash_alg_names[OCPP_HASH_ALGS] = {
	[OCPP_HASH_SHA256] = "SHA256",
	[OCPP_HASH_SHA384] = "SHA384",
	[OCPP_HASH_SHA512] = "SHA512",
};

json_t *ocpp_handle_delete_certificate(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "certificateHashData", NULL };
	static const char *const hd_keys[] = { "hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber", NULL };
	struct ocpp_cert_hash h;
	const json_t *hd = NULL;
	const char *st;
	int alg = 0, r;

	memset(&h, 0, sizeof(h));
	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_object(req, "certificateHashData", true, &hd, e) < 0 ||
	    !json_is_object(hd) || ocpp_json_only(hd, hd_keys, e) < 0 ||
	    ocpp_json_enum(hd, "hashAlgorithm", ocpp_hash_alg_names, OCPP_HASH_ALGS, true, &alg, e) < 0 ||
	    ocpp_json_string(hd, "issuerNameHash", OCPP_CERT_HASH_MAX, true, h.issuer_name_hash,
			     sizeof(h.issuer_name_hash), e) < 0 ||
	    ocpp_json_string(hd, "issuerKeyHash", OCPP_CERT_HASH_MAX, true, h.issuer_key_hash, sizeof(h.issuer_key_hash),
			     e) < 0 ||
	    ocpp_json_string(hd, "serialNumber", OCPP_CERT_SERIAL_MAX, true, h.serial, sizeof(h.serial), e) < 0)
		return NULL;
	h.alg = (enum ocpp_hash_alg)alg;
	r = cp->env.delete_certificate ? cp->env.delete_certificate(cp->env.user, &h) : OCPP_CERT_DELETE_NOT_FOUND;
	st = r < 0 ? "Failed" : r > 0 ? "NotFound" : "Accepted";
	ocpp_cp_log(cp, r == 0 ? CORE_LOG_INFO : CORE_LOG_WARN, "DeleteCertificate serial %s: %s", h.serial, st);
	return json_pack("{s:s}", "status", st);
}
