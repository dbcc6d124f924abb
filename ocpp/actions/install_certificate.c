/*
 * InstallCertificate (CS -> CP, security whitepaper use case M05): a root certificate for the
 * gateway's store, of type CentralSystemRootCertificate (TLS trust anchor for the central system) or
 * ManufacturerRootCertificate (signs firmware). The core checks the request; whether the
 * certificate is a valid CA that fits in the store is for the gateway (env.install_certificate).
 * Accepted, Rejected (invalid, store full, no store) or Failed (could not write it).
 */
#include "ocpp_cp_internal.h"

const char *const ocpp_cert_type_names[OCPP_CERT_TYPES] = {
	"CentralSystemRootCertificate",
	"ManufacturerRootCertificate",
};

json_t *ocpp_handle_install_certificate(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "certificateType", "certificate", NULL };
	const json_t *v = json_object_get(req, "certificate");
	const char *st;
	int type = 0, r;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_enum(req, "certificateType", ocpp_cert_type_names, OCPP_CERT_TYPES, true, &type, e) < 0)
		return NULL;
	if (!v) {
		ocpp_perr_set(e, OCPP_ERR_OCCURENCE_CONSTRAINT, "'certificate' missing");
		return NULL;
	}
	if (!json_is_string(v)) {
		ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "'certificate' must be a string");
		return NULL;
	}
	if (json_string_length(v) > OCPP_CERT_PEM_MAX) {
		ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'certificate' longer than %d characters", OCPP_CERT_PEM_MAX);
		return NULL;
	}
	if (!cp->env.install_certificate || json_string_length(v) == 0)
		r = OCPP_CERT_INSTALL_REJECTED;
	else
		r = cp->env.install_certificate(cp->env.user, ocpp_cert_type_names[type], json_string_value(v));
	st = r < 0 ? "Failed" : r > 0 ? "Rejected" : "Accepted";
	ocpp_cp_log(cp, r == 0 ? CORE_LOG_INFO : CORE_LOG_WARN, "InstallCertificate %s: %s", ocpp_cert_type_names[type],
		    st);
	return json_pack("{s:s}", "status", st);
}
