/*
 * SignCertificate (CP -> CS, security whitepaper use cases A02/A03): carry the CSR the gateway made
 * for a new charge point certificate to the central system, which signs it and answers later with
 * CertificateSigned. The private key never leaves the gateway; this file only checks that the CSR
 * is a CiString5500 fit for a JSON string, queues it as an ordinary message and logs the answer
 * (Rejected ends the attempt: there is nothing to retry until the central system triggers again).
 */
#include "ocpp_cp_internal.h"

static const char *const sign_status_names[] = { "Accepted", "Rejected" };

/* PEM is printable ASCII in lines: anything else is not a CSR, and would not be a CiString. */
static bool csr_ok(const char *csr)
{
	size_t n = csr ? strnlen(csr, OCPP_CSR_MAX + 1) : 0;

	if (n == 0 || n > OCPP_CSR_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((csr[i] < 0x20 || csr[i] > 0x7e) && csr[i] != '\n' && csr[i] != '\r')
			return false;
	return true;
}

json_t *ocpp_sign_certificate_req(const char *csr)
{
	return csr_ok(csr) ? json_pack("{s:s}", "csr", csr) : NULL;
}

int ocpp_cp_sign_certificate_queue(struct ocpp_cp *cp, const char *csr)
{
	json_t *p;
	int r;

	if (!csr_ok(csr)) {
		ocpp_cp_log(cp, CORE_LOG_ERROR, "SignCertificate: the CSR is empty, longer than %d characters or not PEM text",
			    OCPP_CSR_MAX);
		return -EINVAL;
	}
	p = ocpp_sign_certificate_req(csr);
	if (!p)
		return -ENOMEM;
	r = ocpp_cp_queue(cp, OCPP_OUT_SIGN_CERTIFICATE, p, 0, 0, false);
	if (r < 0)
		ocpp_cp_log(cp, CORE_LOG_WARN, "SignCertificate not queued: %s", strerror(-r));
	return r;
}

int ocpp_sign_certificate_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "status", NULL };
	int st = 0;

	(void)m;
	if (ocpp_json_only(conf, keys, e) < 0 || ocpp_json_enum(conf, "status", sign_status_names, 2, true, &st, e) < 0)
		return -EINVAL;
	if (st == 0)
		ocpp_cp_log(cp, CORE_LOG_INFO, "SignCertificate Accepted: CertificateSigned should follow");
	else
		ocpp_cp_log(cp, CORE_LOG_WARN, "SignCertificate Rejected by the central system: no new certificate");
	return 0;
}
