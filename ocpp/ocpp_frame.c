/*
 * ocpp_frame: OCPP-J framing. Parsing checks the array shape element by element so that every bad
 * frame gets the FormationViolation the spec asks for, with the message id whenever it can be read;
 * answers to our own calls that are malformed are only counted, never answered. Building is jansson
 * in compact mode, so what we send is exactly "[2,\"id\",\"Action\",{...}]".
 */
#include "ocpp_frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const error_names[] = {
	[OCPP_ERR_NONE] = "GenericError", /* never sent; a name that is at least valid on the wire */
	[OCPP_ERR_NOT_IMPLEMENTED] = "NotImplemented",
	[OCPP_ERR_NOT_SUPPORTED] = "NotSupported",
	[OCPP_ERR_INTERNAL] = "InternalError",
	[OCPP_ERR_PROTOCOL] = "ProtocolError",
	[OCPP_ERR_SECURITY] = "SecurityError",
	[OCPP_ERR_FORMATION] = "FormationViolation",
	[OCPP_ERR_PROPERTY_CONSTRAINT] = "PropertyConstraintViolation",
	[OCPP_ERR_OCCURENCE_CONSTRAINT] = "OccurenceConstraintViolation",
	[OCPP_ERR_TYPE_CONSTRAINT] = "TypeConstraintViolation",
	[OCPP_ERR_GENERIC] = "GenericError",
};
#define ERROR_COUNT (sizeof(error_names) / sizeof(error_names[0]))

const char *ocpp_error_name(enum ocpp_error e)
{
	if ((unsigned)e >= ERROR_COUNT)
		return error_names[OCPP_ERR_GENERIC];
	return error_names[e];
}

enum ocpp_error ocpp_error_parse(const char *name)
{
	if (!name)
		return OCPP_ERR_GENERIC;
	/* Errata spellings that central systems really send. */
	if (strcmp(name, "OccurrenceConstraintViolation") == 0)
		return OCPP_ERR_OCCURENCE_CONSTRAINT;
	if (strcmp(name, "FormatViolation") == 0)
		return OCPP_ERR_FORMATION;
	for (size_t i = OCPP_ERR_NONE + 1; i < ERROR_COUNT; i++)
		if (strcmp(name, error_names[i]) == 0)
			return (enum ocpp_error)i;
	return OCPP_ERR_GENERIC;
}

/* Copy at most @cap - 1 bytes of the valid UTF-8 @src (@len bytes), never splitting a character,
 * so that whatever we cut can still be put back into JSON. */
static void copy_cut(char *dst, size_t cap, const char *src, size_t len)
{
	if (len > cap - 1) {
		len = cap - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void copy_json_string(char *dst, size_t cap, const json_t *s)
{
	copy_cut(dst, cap, json_string_value(s), json_string_length(s));
}

static int fail(struct ocpp_frame_fault *fault, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct ocpp_frame_fault *fault, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fault->desc, sizeof(fault->desc), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Element count per message type: [2,id,action,payload], [3,id,payload], [4,id,code,desc,details]. */
static size_t frame_length(enum ocpp_msg_type t)
{
	return t == OCPP_CALL ? 4 : t == OCPP_CALLRESULT ? 3 : 5;
}

static int parse_root(const json_t *root, struct ocpp_frame *out, struct ocpp_frame_fault *fault)
{
	const json_t *jt, *jid, *last;
	json_int_t t;
	size_t n;

	if (!json_is_array(root))
		return fail(fault, "message is not a JSON array");
	n = json_array_size(root);
	jid = json_array_get(root, 1);
	if (json_is_string(jid))
		copy_json_string(fault->id, sizeof(fault->id), jid);
	jt = json_array_get(root, 0);
	if (!json_is_integer(jt))
		return fail(fault, "message type id is not an integer");
	t = json_integer_value(jt);
	if (t == OCPP_CALLRESULT || t == OCPP_CALLERROR)
		fault->reply = false; /* one never answers an answer */
	else if (t != OCPP_CALL)
		return fail(fault, "unknown message type id %lld", (long long)t);
	out->type = (enum ocpp_msg_type)t;
	if (n != frame_length(out->type))
		return fail(fault, "message type %d needs %zu elements, got %zu", out->type,
			    frame_length(out->type), n);
	if (!json_is_string(jid))
		return fail(fault, "message id is not a string");
	if (json_string_length(jid) > OCPP_MSG_ID_MAX)
		return fail(fault, "message id longer than %d characters", OCPP_MSG_ID_MAX);
	copy_json_string(out->id, sizeof(out->id), jid);

	if (out->type == OCPP_CALL) {
		const json_t *ja = json_array_get(root, 2);

		if (!json_is_string(ja))
			return fail(fault, "action is not a string");
		copy_json_string(out->action, sizeof(out->action), ja);
	} else if (out->type == OCPP_CALLERROR) {
		const json_t *jc = json_array_get(root, 2), *jd = json_array_get(root, 3);

		if (!json_is_string(jc) || !json_is_string(jd))
			return fail(fault, "error code or description is not a string");
		out->error = ocpp_error_parse(json_string_value(jc));
		copy_json_string(out->error_code, sizeof(out->error_code), jc);
		copy_json_string(out->error_desc, sizeof(out->error_desc), jd);
	}
	last = json_array_get(root, n - 1);
	if (!json_is_object(last))
		return fail(fault, "payload is not an object");
	out->payload = json_incref((json_t *)last);
	return 0;
}

int ocpp_frame_parse(const char *text, size_t len, struct ocpp_frame *out, struct ocpp_frame_fault *fault)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(fault, 0, sizeof(*fault));
	fault->error = OCPP_ERR_FORMATION;
	fault->reply = true;
	snprintf(fault->id, sizeof(fault->id), "-1");
	if (!text || len > OCPP_FRAME_MAX)
		return fail(fault, "message longer than %d bytes", OCPP_FRAME_MAX);
	/* Flags 0: trailing text after the array and \u0000 inside strings are both errors. */
	root = json_loadb(text, len, 0, &jerr);
	if (!root)
		return fail(fault, "not valid JSON (column %d)", jerr.column);
	rc = parse_root(root, out, fault);
	json_decref(root);
	if (rc == 0) {
		memset(fault, 0, sizeof(*fault));
	} else {
		ocpp_frame_clear(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

void ocpp_frame_clear(struct ocpp_frame *f)
{
	if (!f)
		return;
	json_decref(f->payload);
	f->payload = NULL;
}

/* Dump and release @arr (NULL when building it failed, e.g. an id that is not UTF-8). */
static char *dump(json_t *arr)
{
	char *s;

	if (!arr)
		return NULL;
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* A new reference for json_pack's "o" to steal: jansson counts references even on borrowed values,
 * and the count is back where it was once the array is released. */
static json_t *payload_ref(const json_t *payload)
{
	return payload ? json_incref((json_t *)payload) : json_object();
}

char *ocpp_frame_call(const char *id, const char *action, const json_t *payload)
{
	if (!id || !action)
		return NULL;
	return dump(json_pack("[isso]", OCPP_CALL, id, action, payload_ref(payload)));
}

char *ocpp_frame_result(const char *id, const json_t *payload)
{
	if (!id)
		return NULL;
	return dump(json_pack("[iso]", OCPP_CALLRESULT, id, payload_ref(payload)));
}

char *ocpp_frame_error(const char *id, enum ocpp_error code, const char *desc, const json_t *details)
{
	char d[OCPP_ERR_DESC_MAX + 1];

	if (!id)
		return NULL;
	desc = desc ? desc : "";
	copy_cut(d, sizeof(d), desc, strlen(desc));
	return dump(json_pack("[issso]", OCPP_CALLERROR, id, ocpp_error_name(code), d, payload_ref(details)));
}
