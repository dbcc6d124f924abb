/*
 * ocpp_cp_internal: the charge point's state, shared by the ocpp_cp*.c files (ocpp_cp.c the skeleton
 * and dispatch, ocpp_cp_queue.c, ocpp_cp_connector.c, ocpp_cp_transaction.c, ocpp_cp_meter.c) and
 * the one-file-per-action handlers in actions/. Not for use outside the ocpp core.
 */
#ifndef OCPP_CP_INTERNAL_H
#define OCPP_CP_INTERNAL_H

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ocpp_auth.h"
#include "ocpp_cp.h"
#include "ocpp_frame.h"
#include "ocpp_json.h"
#include "ocpp_local_list.h"
#include "ocpp_sc.h"

/* Actions the charge point sends. */
enum ocpp_out_action {
	OCPP_OUT_AUTHORIZE = 0,
	OCPP_OUT_BOOT_NOTIFICATION,
	OCPP_OUT_DATA_TRANSFER,
	OCPP_OUT_DIAGNOSTICS_STATUS_NOTIFICATION,
	OCPP_OUT_FIRMWARE_STATUS_NOTIFICATION,
	OCPP_OUT_HEARTBEAT,
	OCPP_OUT_METER_VALUES,
	OCPP_OUT_START_TRANSACTION,
	OCPP_OUT_STATUS_NOTIFICATION,
	OCPP_OUT_STOP_TRANSACTION,
	/* security whitepaper */
	OCPP_OUT_LOG_STATUS_NOTIFICATION,
	OCPP_OUT_SECURITY_EVENT_NOTIFICATION,
	OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION,
	OCPP_OUT_SIGN_CERTIFICATE,
	OCPP_OUT_COUNT
};

/* An outbound CALL waiting in the queue (or in flight). Transaction messages have a journal seq. */
struct ocpp_msg {
	struct ocpp_msg *next;
	enum ocpp_out_action action;
	json_t *payload;           /* owned */
	bool tx;                   /* transaction message: kept across outages, attempts apply (a
				    * critical security event is one too: it must not be lost) */
	bool keep;                 /* not journalled but kept across outages: a security event that is
				    * not critical cannot be re-derived after reconnecting as a status can */
	uint64_t seq;              /* journal record, 0 = not persisted (or the journal failed) */
	int connector;
	int tx_local;              /* the transaction it belongs to (0 none): for provisional ids */
	int attempts;              /* failed deliveries so far */
	uint64_t not_before_ms;    /* retry delay */
};

enum ocpp_auth_state {
	OCPP_AS_NONE = 0,
	OCPP_AS_PENDING,   /* Authorize in flight */
	OCPP_AS_OK,        /* may start once plugged */
	OCPP_AS_DENIED,    /* refused: no transaction until the car leaves */
};

struct ocpp_tx {
	bool active;
	uint64_t seq;                     /* journal record of the open transaction */
	int local;                        /* provisional id is -local until StartTransaction.conf */
	int id;                           /* confirmed id, 0 until then */
	char id_tag[OCPP_IDTAG_MAX + 1];
	char parent[OCPP_IDTAG_MAX + 1];
	int64_t start_wall;
	uint64_t start_mono;
	int meter_start;                  /* Wh */
	bool invalid;                     /* StartTransaction.conf not Accepted: no energy */
	uint64_t next_sample_ms;
};

struct ocpp_conn {
	bool mapped;
	uint16_t twc_id;
	bool seen;                        /* an evse update arrived since start */
	struct ocpp_evse ev;
	bool inoperative;                 /* persisted availability */
	int scheduled;                    /* -1 none, 0 Operative, 1 Inoperative after the transaction */
	double energy_wh;                 /* the register: monotonic, persisted */
	uint64_t energy_mono;             /* when it was last integrated */
	bool life_ref_valid;              /* reconciliation with the TWC lifetime counter */
	uint64_t life_ref_wh;
	double energy_ref_wh;
	struct { uint64_t wh, ms, bad_wh, bad_ms; bool valid, bad; } life; /* counter check, ocpp_cp_meter.c */
	enum ocpp_auth_state auth;
	bool auth_remote;                 /* authorised by RemoteStartTransaction */
	char auth_tag[OCPP_IDTAG_MAX + 1];
	char auth_parent[OCPP_IDTAG_MAX + 1];
	uint64_t auth_ms;                 /* when authorised (ConnectionTimeOut) */
	uint64_t auth_retry_ms;           /* a local idTag refused for want of a link is tried again then */
	bool finishing;                   /* transaction over, car still plugged */
	struct ocpp_tx tx;
	int reported;                     /* last status sent, -1 none */
	int reported_err;
	int limit;                        /* last set_limit, INT32_MIN unknown */
};

struct ocpp_cp {
	struct ocpp_cp_env env;
	struct ocpp_config *cfg;
	struct ocpp_auth_cache *auth;
	struct ocpp_local_list *local_list;
	struct ocpp_cp_stats stats;

	char vendor[21], model[21], serial[26], firmware[51];
	enum ocpp_id_tag_source id_src;
	char fixed_tag[OCPP_IDTAG_MAX + 1];
	int voltage, phases, max_amps, max_amps_total, min_amps;
	struct ocpp_sc *sc;               /* installed charging profiles */
	uint64_t sc_next_ms;              /* a profile's limit changes then: re-evaluate (UINT64_MAX none) */
	int total_limit;                  /* last set_total_limit, INT32_MIN unknown */
	uint64_t call_timeout_ms;
	int queue_max;
	int max_security_profile;

	bool started, connected, registered;
	enum ocpp_registration reg;
	uint64_t boot_due_ms;             /* next BootNotification while not registered */
	uint64_t last_send_ms;            /* for Heartbeat */
	uint64_t now_ms;                  /* latest mono time seen */
	int64_t now_wall;
	uint64_t id_base;
	uint32_t id_counter;

	/* the one CALL in flight */
	bool inflight;
	char inflight_id[OCPP_MSG_ID_MAX + 1];
	struct ocpp_msg *inflight_msg;    /* NULL for BootNotification */
	enum ocpp_out_action inflight_action;
	uint64_t inflight_deadline;
	uint64_t inflight_sent_ms;        /* for the answer-time histogram */

	struct ocpp_msg *q_head, *q_tail;
	int q_persisted;                  /* transaction messages in the queue */
	uint64_t next_seq;
	int tx_local_next;

	bool cp_inoperative;              /* ChangeAvailability on connector 0 */
	bool cp_scheduled;                /* ... Inoperative once the running transactions end */
	int n_conn;
	struct ocpp_conn conn[OCPP_MAX_CONNECTORS + 1]; /* [0] unused except status */
	int reported0;

	uint64_t boot_grace_ms;           /* until then an unseen TWC is not reported Faulted */
	uint64_t next_aligned_ms;         /* clock-aligned sampling */
	int64_t next_aligned_wall;        /* the wall-clock boundary it stands for */
	uint64_t next_store_ms;           /* periodic save of the connectors file */
	bool reset_pending, reset_hard;
	uint64_t reset_due_ms, reset_deadline_ms;

	/* writes the disk refused, waiting in order (ocpp_cp_journal.c) */
	struct ocpp_jop *jb;
	int jb_n, jb_cap;
	bool jb_failing;
	uint64_t jb_retry_ms;             /* next retry of waiting writes and unsaved state files, 0 none */
	unsigned state_dirty;             /* state files whose last save failed */
	int q_other;                      /* other messages in the queue (bounded, coalesced) */

	/* security whitepaper */
	bool sign_due;                    /* call env.sign_certificate once the CALLRESULT is out */
	bool clock_known;                 /* clock_off holds a reading */
	int64_t clock_off;                /* wall - mono at the last entry point: a step is SettingSystemTime */
	uint64_t reset_mark_seq;          /* journal record of a Reset performed before this start, 0 none */
	int64_t reset_mark_wall;
	bool reset_mark_hard;
	bool in_call;                     /* a CS CALL's handler runs: its CALLRESULT is not out yet, so
					   * the public entry points an env callback may call queue only */
	int log_status;                   /* last LogStatusNotification status (OCPP_LOG_ST_*), -1 none */
	int log_request_id;
	int fw_status;                    /* last SignedFirmwareStatusNotification status, -1 none */
	int fw_request_id;

	/* restore bookkeeping: confirmed ids of transactions whose StartTransaction was acknowledged */
	struct { int local, id; uint64_t seq; } maps[256];
	int n_maps;
};

/* ---- services the ocpp_cp*.c files offer the action handlers ---- */
void ocpp_cp_log(struct ocpp_cp *cp, enum core_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Queue a CALL (payload taken). @persist puts it in the journal first. Return 0 or -errno. */
int ocpp_cp_queue(struct ocpp_cp *cp, enum ocpp_out_action a, json_t *payload, int connector, int tx_local,
		  bool persist);
bool ocpp_cp_valid_connector(const struct ocpp_cp *cp, int c);
void ocpp_cp_refresh(struct ocpp_cp *cp);     /* recompute statuses and limits, queue notifications */
void ocpp_cp_save_connectors(struct ocpp_cp *cp);
void ocpp_cp_save_config(struct ocpp_cp *cp);
void ocpp_cp_save_auth(struct ocpp_cp *cp);
void ocpp_cp_save_profiles(struct ocpp_cp *cp);
/* Store @l as the Local Authorization List file; 0 or -errno (the caller keeps the old list then). */
int ocpp_cp_store_local_list(struct ocpp_cp *cp, const struct ocpp_local_list *l);
/* What the charge point knows of @tag without asking: the Local Authorization List when enabled,
 * else the cache when enabled (section 3.5: the list goes first). False when neither has it. */
bool ocpp_cp_local_auth(struct ocpp_cp *cp, const char *tag, struct ocpp_id_tag_info *info);
/* What ocpp_sc needs to evaluate connector @c (0: the charge point). */
void ocpp_cp_sc_ctx(const struct ocpp_cp *cp, int c, struct ocpp_sc_ctx *ctx);
int ocpp_cp_tx_stop(struct ocpp_cp *cp, int c, enum ocpp_stop_reason reason);
/* Queue connector @c's status as it is now (0: the charge point), even if it was sent before. */
void ocpp_cp_status_now(struct ocpp_cp *cp, int c);
/* Authorisation arrived for connector @c (remote start or Authorize.conf). */
void ocpp_cp_authorized(struct ocpp_cp *cp, int c, const char *tag, const char *parent, bool remote);
void ocpp_cp_set_availability(struct ocpp_cp *cp, int c, bool inoperative);
void ocpp_cp_request_reset(struct ocpp_cp *cp, bool hard);
/* Schedule the next clock-aligned reading (after ClockAlignedDataInterval changed). */
void ocpp_cp_aligned_arm(struct ocpp_cp *cp);
/* StartTransaction for transaction @local was confirmed as @id: journal the mapping (so a crash does
 * not send it twice) and put the id into every queued message of that transaction. */
void ocpp_cp_confirm_tx(struct ocpp_cp *cp, int local, int id);
/* Transaction @local's StopTransaction was delivered: its id mapping can go. */
void ocpp_cp_forget_tx(struct ocpp_cp *cp, int local);
/* Find the connector whose running transaction has central-system id @id; 0 if none. */
int ocpp_cp_find_tx(const struct ocpp_cp *cp, int id);
/* Transaction id as the central system knows it (confirmed, or provisional -local). */
int ocpp_cp_tx_wire_id(const struct ocpp_tx *tx);
/* A MeterValue object {timestamp, sampledValue[]} for connector @c with the measurands in @mask. */
json_t *ocpp_cp_meter_value(struct ocpp_cp *cp, int c, unsigned mask, enum ocpp_context ctx);
json_t *ocpp_idtaginfo_json(const struct ocpp_id_tag_info *info);
int ocpp_idtaginfo_parse(const json_t *obj, struct ocpp_id_tag_info *out, struct ocpp_perr *e);

/* A security event now (whitepaper section 6.4): critical ones (and those OCTT expects pushed, see
 * ocpp_security_event_journalled()) are journalled like transaction messages, the others wait in
 * memory, bounded. Return 0 or -errno. */
int ocpp_cp_security_event_at(struct ocpp_cp *cp, const char *type, const char *techinfo, int64_t wall_ms);

/* ---- between the ocpp_cp*.c files ---- */
#define OCPP_CP_RAMP_GRACE_MS 15000u  /* a car just granted current is Charging while it ramps up */
#define OCPP_CP_AUTH_RETRY_MS 30000u  /* a local idTag that could not be checked is tried again */

static inline uint64_t ocpp_cp_sec_ms(long s)
{
	return s > 0 ? (uint64_t)s * 1000u : 0;
}

static inline long ocpp_cp_key_int(const struct ocpp_cp *cp, enum ocpp_key k)
{
	return ocpp_config_int(cp->cfg, k);
}

/* ocpp_cp.c */
void ocpp_cp_str_copy(char *dst, size_t n, const char *src); /* bounded, NULL as "" */
/* Save @j (taken) as file @name through env.store; 0 or -errno. */
int ocpp_cp_json_store(struct ocpp_cp *cp, const char *name, json_t *j, bool secret);
/* After anything happened: late authorisations, statuses and limits, then send what is due. */
void ocpp_cp_step(struct ocpp_cp *cp);

/* ocpp_cp_journal.c */
/* Durably put or delete a journal record, in order with every other; a write the disk refuses waits
 * and is retried. 0 when written or waiting, -errno when it can never be (too long, out of memory). */
int ocpp_cp_journal_put(struct ocpp_cp *cp, uint64_t seq, const char *text);
void ocpp_cp_journal_del(struct ocpp_cp *cp, uint64_t seq);
bool ocpp_cp_journal_durable(const struct ocpp_cp *cp); /* nothing waits: transaction messages may go */
bool ocpp_cp_journal_room(const struct ocpp_cp *cp);    /* the waiting list may take a MeterValues */
bool ocpp_cp_journal_waiting(const struct ocpp_cp *cp, uint64_t seq); /* record @seq is not on disk yet */
void ocpp_cp_state_stored(struct ocpp_cp *cp, const char *name, int r); /* a state file's save result */
void ocpp_cp_journal_retry(struct ocpp_cp *cp);         /* at ocpp_cp_journal_deadline() */
uint64_t ocpp_cp_journal_deadline(const struct ocpp_cp *cp);
void ocpp_cp_journal_free(struct ocpp_cp *cp);

/* ocpp_cp_queue.c */
void ocpp_cp_queue_pump(struct ocpp_cp *cp);                  /* send what is due, one CALL at a time */
struct ocpp_msg *ocpp_cp_queue_peek(const struct ocpp_cp *cp); /* the next to send, NULL when empty */
void ocpp_cp_queue_remove(struct ocpp_cp *cp, struct ocpp_msg *m); /* unlink, unjournal, free */
void ocpp_cp_queue_free(struct ocpp_cp *cp);
/* Queue a SecurityEventNotification (payload taken): @critical ones in the journal, in order with the
 * transaction messages; the others bounded, kept across outages, never replacing another kind of
 * message, an identical one still waiting folded into it. Return 0 or -errno. */
int ocpp_cp_queue_security(struct ocpp_cp *cp, json_t *payload, bool critical);
/* The CALL in flight failed (CALLERROR, a result that does not parse, or no answer in time). */
void ocpp_cp_call_fail(struct ocpp_cp *cp, const char *why);
void ocpp_cp_link_drop(struct ocpp_cp *cp);                   /* the connection is gone */
/* Settle what the journal's records rebuilt, before the charge point starts. */
void ocpp_cp_restore_finish(struct ocpp_cp *cp);

/* ocpp_cp_connector.c */
void ocpp_cp_connectors_load(struct ocpp_cp *cp, const char *text);
void ocpp_cp_connector_count_update(struct ocpp_cp *cp);      /* NumberOfConnectors follows n_conn */

/* ocpp_cp_transaction.c */
void ocpp_cp_tx_start(struct ocpp_cp *cp, int c);
/* A local idTag (fixed or VIN) for connector @c: the cache, the offline rules or an Authorize. */
void ocpp_cp_auth_begin(struct ocpp_cp *cp, int c, const char *tag);
/* Local idTags that could not be authorised while offline get another try once registered. */
void ocpp_cp_auth_retry(struct ocpp_cp *cp);
void ocpp_cp_auth_expire(struct ocpp_cp *cp);

/* ocpp_cp_meter.c */
void ocpp_cp_energy_integrate(struct ocpp_cp *cp, struct ocpp_conn *k, const struct ocpp_evse *st, uint64_t now);
void ocpp_cp_sample_tick(struct ocpp_cp *cp);                  /* periodic samples that are due */
void ocpp_cp_aligned_tick(struct ocpp_cp *cp);                 /* the clock-aligned reading, when due */

/* ---- actions: the central system's CALLs (actions/<name>.c) ----
 * Parse @req completely (errors into @e), act, and return the CALLRESULT payload (NULL with @e set on
 * bad input). */
typedef json_t *(*ocpp_handler_fn)(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_certificate_signed(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_delete_certificate(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_get_installed_certificate_ids(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_get_log(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_signed_update_firmware(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_install_certificate(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_change_availability(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_change_configuration(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_clear_cache(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_clear_charging_profile(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_get_composite_schedule(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_set_charging_profile(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_extended_trigger_message(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_data_transfer(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_get_configuration(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_get_local_list_version(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_remote_start_transaction(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_remote_stop_transaction(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_reset(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_send_local_list(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_trigger_message(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);
json_t *ocpp_handle_unlock_connector(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e);

/* ---- actions the charge point sends: build the request, and take the CALLRESULT ----
 * A *_conf function returns 0, or -EINVAL with @e set when the result does not parse (the message
 * then counts as not delivered). @m is the queued message (NULL for BootNotification). */
json_t *ocpp_authorize_req(const char *id_tag);
int ocpp_authorize_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
json_t *ocpp_boot_notification_req(const struct ocpp_cp *cp);
int ocpp_boot_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
json_t *ocpp_data_transfer_req(const char *vendor_id, const char *message_id, const char *data);
int ocpp_data_transfer_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
json_t *ocpp_diagnostics_status_notification_req(const char *status);
int ocpp_diagnostics_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
					      struct ocpp_perr *e);
json_t *ocpp_firmware_status_notification_req(const char *status);
int ocpp_firmware_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
					   struct ocpp_perr *e);
json_t *ocpp_heartbeat_req(void);
int ocpp_heartbeat_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
json_t *ocpp_meter_values_req(int connector, int tx_id, json_t *meter_value);
int ocpp_meter_values_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
json_t *ocpp_start_transaction_req(int connector, const char *id_tag, int meter_start, int64_t wall_ms);
int ocpp_start_transaction_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
json_t *ocpp_status_notification_req(int connector, enum ocpp_cp_status st, enum ocpp_cp_error err,
				     const char *info, const char *vendor_code, int64_t wall_ms);
int ocpp_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
				  struct ocpp_perr *e);
json_t *ocpp_stop_transaction_req(int tx_id, const char *id_tag, int meter_stop, int64_t wall_ms,
				  enum ocpp_stop_reason reason, json_t *transaction_data);
int ocpp_stop_transaction_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
/* Security whitepaper. @request_id < 0: none (the status was not asked for by a GetLog or a
 * SignedUpdateFirmware). */
json_t *ocpp_log_status_notification_req(const char *status, int request_id);
int ocpp_log_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
				      struct ocpp_perr *e);
json_t *ocpp_signed_firmware_status_notification_req(const char *status, int request_id);
int ocpp_signed_firmware_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
						  struct ocpp_perr *e);
/* The whitepaper's UploadLogStatusEnumType and FirmwareStatusEnumType (signed variant). */
#define OCPP_LOG_ST_IDLE 1
#define OCPP_LOG_ST_UPLOADING 6
#define OCPP_LOG_STATUSES 7
extern const char *const ocpp_log_status_names[OCPP_LOG_STATUSES];
#define OCPP_FW_STATUSES 14
extern const char *const ocpp_fw_status_names[OCPP_FW_STATUSES];
/* Whether firmware status @st (an index of ocpp_fw_status_names) means an update is still going on. */
bool ocpp_fw_status_in_progress(int st);
/* Queue a LogStatusNotification / SignedFirmwareStatusNotification of @status (checked against the
 * names) in the journal and remember it (after the checks of ocpp_cp_log_status() and
 * ocpp_cp_firmware_status()); 0 or -errno. */
int ocpp_cp_log_status_queue(struct ocpp_cp *cp, const char *status, int request_id);
int ocpp_cp_firmware_status_queue(struct ocpp_cp *cp, const char *status, int request_id);
/* Journal and queue one of those two notifications (@a); log_status_notification.c says why the
 * journal. An exact repeat of the last one waiting is folded; 0 or -errno. */
int ocpp_cp_status_durable_queue(struct ocpp_cp *cp, enum ocpp_out_action a, const char *status, int request_id);
/* A status notification waiting in the queue: the journal rebuilds these too. */
static inline bool ocpp_out_status_durable(enum ocpp_out_action a)
{
	return a == OCPP_OUT_LOG_STATUS_NOTIFICATION || a == OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION;
}
#define OCPP_SECURITY_TYPE_MAX 50      /* CiString50 */
#define OCPP_SECURITY_TECHINFO_MAX 255 /* CiString255 */
/* NULL when @type is not a CiString50 of printable ASCII; @techinfo (may be NULL) is cut to 255 bytes
 * at a character boundary. */
json_t *ocpp_security_event_notification_req(const char *type, int64_t wall_ms, const char *techinfo);
int ocpp_security_event_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
					  struct ocpp_perr *e);
/* Whether the whitepaper's table of security events marks @type critical (pushed, never lost). */
bool ocpp_security_event_critical(const char *type);
/* Whether @type goes through the journal: the critical ones, and InvalidFirmwareSignature, which
 * the whitepaper does not call critical but OCTT TC_081 expects pushed. */
bool ocpp_security_event_journalled(const char *type);
/* SignCertificate: NULL when @csr is not a CiString5500 of printable ASCII and line breaks. */
json_t *ocpp_sign_certificate_req(const char *csr);
int ocpp_sign_certificate_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
/* Queue SignCertificate.req (after the checks of ocpp_cp_sign_certificate()); 0 or -errno. */
int ocpp_cp_sign_certificate_queue(struct ocpp_cp *cp, const char *csr);

/* The whitepaper's CertificateUseEnumType (what InstallCertificate and GetInstalledCertificateIds
 * take) and HashAlgorithmEnumType (indexed by enum ocpp_hash_alg). */
#define OCPP_CERT_TYPES 2
extern const char *const ocpp_cert_type_names[OCPP_CERT_TYPES];
#define OCPP_HASH_ALGS 3
extern const char *const ocpp_hash_alg_names[OCPP_HASH_ALGS];

#endif
