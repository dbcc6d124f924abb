/*
 * DataTransfer (both ways): this gateway defines no vendor extensions, so a central system's request
 * is answered UnknownVendorId (or UnknownMessageId for our own vendor id); the outgoing direction is
 * there for completeness and never used on its own.
 */
#include "ocpp_cp_internal.h"

#define OUR_VENDOR_ID "twcgw"

json_t *ocpp_handle_data_transfer(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "vendorId", "messageId", "data", NULL };
	char vendor[256], message[51];

	(void)cp;
	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_string(req, "vendorId", 255, true, vendor, sizeof(vendor), e) < 0 ||
	    ocpp_json_string(req, "messageId", 50, false, message, sizeof(message), e) < 0)
		return NULL;
	if (json_object_get(req, "data") && !json_is_string(json_object_get(req, "data"))) {
		ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "data: must be a string");
		return NULL;
	}
	return json_pack("{s:s}", "status", strcmp(vendor, OUR_VENDOR_ID) ? "UnknownVendorId" : "UnknownMessageId");
}

json_t *ocpp_data_transfer_req(const char *vendor_id, const char *message_id, const char *data)
{
	json_t *j = json_pack("{s:s}", "vendorId", vendor_id);

	if (j && message_id)
		json_object_set_new(j, "messageId", json_string(message_id));
	if (j && data)
		json_object_set_new(j, "data", json_string(data));
	return j;
}

int ocpp_data_transfer_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "status", "data", NULL };
	static const char *const st_names[] = { "Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId" };
	int st;

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e) < 0 || ocpp_json_enum(conf, "status", st_names, 4, true, &st, e) < 0
		       ? -EINVAL
		       : 0;
}
