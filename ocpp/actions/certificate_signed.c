/*
 * CertificateSigned (CS -> CP, security whitepaper use cases A02/A03): the central system's signed
 * charge point certificate (and maybe its chain) for the CSR we sent with SignCertificate. The core
 * only bounds its size by CertificateSignedMaxChainSize; whether the chain is valid and matches the
 * key is the gateway's certificate code's to say (env.certificate_signed). Rejected also raises
 * InvalidChargePointCertificate (OCTT TC_077), with the reason as techInfo.
 */
#include "ocpp_cp_internal.h"

static json_t *status(const char *s)
{
	return json_pack("{s:s}", "status", s);
}

static json_t *rejected(struct ocpp_cp *cp, const char *why)
{
	ocpp_cp_log(cp, CORE_LOG_WARN, "CertificateSigned Rejected: %s", why[0] ? why : "no reason given");
	ocpp_cp_security_event_at(cp, "InvalidChargePointCertificate", why[0] ? why : NULL, cp->now_wall);
	return status("Rejected");
}

json_t *ocpp_handle_certificate_signed(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "certificateChain", NULL };
	char reason[OCPP_SECURITY_TECHINFO_MAX + 1] = "";
	const json_t *v = json_object_get(req, "certificateChain");
	long max = ocpp_cp_key_int(cp, OCPP_KEY_CERTIFICATE_SIGNED_MAX_CHAIN_SIZE);
	size_t len;

	if (ocpp_json_only(req, keys, e) < 0)
		return NULL;
	if (!v) {
		ocpp_perr_set(e, OCPP_ERR_OCCURENCE_CONSTRAINT, "'certificateChain' missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'certificateChain' must be a string");
		return NULL;
	}
	/* Longer than the key says is the whitepaper's Rejected, not a CALLERROR: the central system
	 * reads the bound from the key, and a chain it sends past it is a certificate we refuse. */
	len = json_string_length(v);
	if (max > 0 && len > (size_t)max) {
		snprintf(reason, sizeof(reason), "certificateChain of %zu characters, CertificateSignedMaxChainSize is %ld",
			 len, max);
		return rejected(cp, reason);
	}
	if (len == 0)
		return rejected(cp, "empty certificateChain");
	if (!cp->env.certificate_signed) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "CertificateSigned Rejected: this gateway has no certificate store");
		return status("Rejected");
	}
	if (cp->env.certificate_signed(cp->env.user, json_string_value(v), reason, sizeof(reason)) < 0) {
		reason[sizeof(reason) - 1] = '\0'; /* the callback's text, whatever it did with the buffer */
		return rejected(cp, reason);
	}
	ocpp_cp_log(cp, CORE_LOG_INFO, "CertificateSigned Accepted: the new charge point certificate is taken");
	return status("Accepted");
}
