/*
 * ocpp_frame: OCPP-J message framing (OCPP 1.6 JSON, section 4). Turns one websocket text message
 * into a parsed CALL, CALLRESULT or CALLERROR, and builds the text of each. It classifies every
 * malformed frame so the caller can answer with the CALLERROR the spec asks for, and never trusts a
 * length or a type it has not checked. Pure: no I/O, no clock.
 */
#ifndef OCPP_FRAME_H
#define OCPP_FRAME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define OCPP_MSG_ID_MAX 36      /* OCPP-J: the unique id is at most 36 characters */
#define OCPP_ACTION_MAX 40      /* longest 1.6 action name is 29; room for unknown ones, then cut */
#define OCPP_ERR_DESC_MAX 255
#define OCPP_FRAME_MAX 65000    /* inbound text frames longer than this are refused (MaxMessageSize) */

enum ocpp_msg_type {
	OCPP_CALL = 2,
	OCPP_CALLRESULT = 3,
	OCPP_CALLERROR = 4,
};

/* The 1.6J RPC error codes. Names come from ocpp_error_name(); note the spec's own spelling
 * "OccurenceConstraintViolation", which is what we send. */
enum ocpp_error {
	OCPP_ERR_NONE = 0,
	OCPP_ERR_NOT_IMPLEMENTED,
	OCPP_ERR_NOT_SUPPORTED,
	OCPP_ERR_INTERNAL,
	OCPP_ERR_PROTOCOL,
	OCPP_ERR_SECURITY,
	OCPP_ERR_FORMATION,
	OCPP_ERR_PROPERTY_CONSTRAINT,
	OCPP_ERR_OCCURENCE_CONSTRAINT,
	OCPP_ERR_TYPE_CONSTRAINT,
	OCPP_ERR_GENERIC,
};

const char *ocpp_error_name(enum ocpp_error e);
/* Accepts the spec spelling and the errata spellings ("OccurrenceConstraintViolation",
 * "FormatViolation"); unknown names give OCPP_ERR_GENERIC. */
enum ocpp_error ocpp_error_parse(const char *name);

/* A parsed frame. @payload is owned by the frame (CALL: the request; CALLRESULT: the result;
 * CALLERROR: the errorDetails object) and released by ocpp_frame_clear(). */
struct ocpp_frame {
	enum ocpp_msg_type type;
	char id[OCPP_MSG_ID_MAX + 1];
	char action[OCPP_ACTION_MAX + 1];          /* CALL only */
	enum ocpp_error error;                     /* CALLERROR only */
	char error_code[OCPP_ACTION_MAX + 1];      /* CALLERROR only, as received (cut) */
	char error_desc[OCPP_ERR_DESC_MAX + 1];    /* CALLERROR only (cut) */
	json_t *payload;
};

/* Why a frame could not be used, and what to answer. */
struct ocpp_frame_fault {
	enum ocpp_error error;       /* code for the CALLERROR */
	bool reply;                  /* true: answer with a CALLERROR to @id; false: only count it */
	char id[OCPP_MSG_ID_MAX + 1];/* the message id if it could be read, else "-1" */
	char desc[128];              /* human description (no payload content) */
};

/**
 * ocpp_frame_parse() - parse one text message.
 * @text, @len: the message (need not be NUL-terminated).
 * @out:   filled on success; call ocpp_frame_clear() after.
 * @fault: filled on failure.
 * Rules: not JSON, not an array, or an array of the wrong length or element types -> FormationViolation
 * (reply true, with the message id when element 1 is a string, else with id "-1" as ocpp-rpc does);
 * an unknown message type id -> FormationViolation; an id longer than 36 -> FormationViolation with the
 * id cut; a CALL whose action is not a string -> FormationViolation; a CALL payload that is not an
 * object -> FormationViolation; @len > OCPP_FRAME_MAX -> FormationViolation, id "-1".
 * CALLRESULT/CALLERROR problems set reply=false (one never answers an answer).
 * Return: 0, or -EINVAL (see @fault).
 */
int ocpp_frame_parse(const char *text, size_t len, struct ocpp_frame *out, struct ocpp_frame_fault *fault);
void ocpp_frame_clear(struct ocpp_frame *f);

/* Build "[2,id,action,payload]" etc. The payload is borrowed. Return: a malloc'd NUL-terminated
 * compact JSON string, or NULL on allocation failure. */
char *ocpp_frame_call(const char *id, const char *action, const json_t *payload);
char *ocpp_frame_result(const char *id, const json_t *payload);
/* @details may be NULL (sent as {}). @desc is cut to OCPP_ERR_DESC_MAX. */
char *ocpp_frame_error(const char *id, enum ocpp_error code, const char *desc, const json_t *details);

#endif
