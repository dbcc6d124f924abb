/*
 * ocpp_cp: the OCPP 1.6J charge point as a pure state machine. Connector 0 is the gateway and
 * connector N the N-th TWC slave first seen. Text frames from the central system, the state of each
 * TWC and the current time come in; frames to send, durable journal records, state files, per-
 * connector current limits and resets go out through struct ocpp_cp_env. ocpp_cp_next_deadline()
 * says when it next wants ocpp_cp_tick(). It never reads a clock, a socket or a file.
 *
 * Transaction messages (StartTransaction, StopTransaction, MeterValues), the security events the
 * whitepaper calls critical and the log upload and firmware update statuses are put in the journal before they are sent and deleted when their
 * CALLRESULT arrives, so they survive a crash and are replayed in order after restart: feed every
 * live journal record to ocpp_cp_restore_record() before ocpp_cp_start().
 */
#ifndef OCPP_CP_H
#define OCPP_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_text.h"
#include "ocpp_config.h"
#include "ocpp_types.h"

#define OCPP_MAX_CONNECTORS 8
/* A connector's energy register stops here: meterStart and meterStop are integers (Wh). */
#define OCPP_ENERGY_MAX_WH 2147483647.0
/* Messages other than transaction messages waiting for the central system, at most (coalesced first). */
#define OCPP_QUEUE_OTHER_MAX 32

/* State files the core asks the gateway to keep (ocpp_cp_env.store). */
#define OCPP_FILE_CONFIG "ocpp-config.json"         /* changed keys; holds AuthorizationKey: 0600 */
#define OCPP_FILE_CONNECTORS "ocpp-connectors.json" /* TWC ID map, availability, energy registers */
#define OCPP_FILE_AUTH "ocpp-auth-cache.json"
#define OCPP_FILE_PROFILES "ocpp-profiles.json"     /* installed charging profiles */
#define OCPP_FILE_LOCAL_LIST "ocpp-local-list.json" /* the Local Authorization List */

/* Both clocks: monotonic for timers, wall (Unix ms, UTC) for OCPP timestamps. */
struct ocpp_now {
	uint64_t mono_ms;
	int64_t wall_ms;
};

enum ocpp_id_tag_source {
	OCPP_IDTAG_REMOTE = 0, /* wait for RemoteStartTransaction */
	OCPP_IDTAG_VIN,        /* the VIN a firmware 4.5.3 TWC reads is the idTag, checked with Authorize */
	OCPP_IDTAG_FIXED,      /* one configured idTag for every plug-in */
};

/* What the gateway knows about the TWC behind one connector. */
struct ocpp_evse {
	bool present;          /* the slave answers on the bus */
	bool fault;            /* the TWC reports an error state */
	unsigned fault_code;   /* raw TWC state code (vendorErrorCode) */
	bool plugged;          /* a car is connected */
	bool drawing;          /* the car draws current (>= 1 A) */
	double amps;           /* measured current per phase, A */
	double offered_amps;   /* limit in force on the slave, A */
	bool paused;           /* the bus gives it nothing now: its share of a short total is below the
				* minimum (SuspendedEVSE while a transaction runs) */
	double volts;          /* measured voltage; 0 = unknown (nominal is used) */
	bool has_lifetime;     /* the TWC reported its lifetime energy counter */
	uint64_t lifetime_wh;  /* that counter in Wh */
	char vin[18];          /* "" = unknown */
};

struct ocpp_key_override {
	const char *name;
	const char *value;
};

/* CertificateHashData of the security whitepaper (an RFC 6960 CertID): the order of the algorithms
 * is that of certs/certs.h's enum certs_hash_alg, the sizes its CERTS_HASH_HEX_MAX and
 * CERTS_SERIAL_MAX, so the gateway can copy one into the other field by field. */
enum ocpp_hash_alg {
	OCPP_HASH_SHA256 = 0,
	OCPP_HASH_SHA384,
	OCPP_HASH_SHA512,
};
#define OCPP_CERT_HASH_MAX 128  /* issuerNameHash, issuerKeyHash: CiString128 (hex) */
#define OCPP_CERT_SERIAL_MAX 40 /* serialNumber: CiString40 (hex) */
struct ocpp_cert_hash {
	enum ocpp_hash_alg alg;
	char issuer_name_hash[OCPP_CERT_HASH_MAX + 1];
	char issuer_key_hash[OCPP_CERT_HASH_MAX + 1];
	char serial[OCPP_CERT_SERIAL_MAX + 1];
};
#define OCPP_CSR_MAX 5500       /* SignCertificate.csr */
#define OCPP_CERT_PEM_MAX 5500  /* InstallCertificate.certificate */

/* What env.install_certificate returns: the InstallCertificate.conf status. */
enum ocpp_cert_install {
	OCPP_CERT_INSTALL_FAILED = -1,  /* any negative value: could not store it */
	OCPP_CERT_INSTALL_ACCEPTED = 0,
	OCPP_CERT_INSTALL_REJECTED = 1, /* any positive value: not a valid root, store full, ... */
};
/* What env.delete_certificate returns: the DeleteCertificate.conf status. */
enum ocpp_cert_delete {
	OCPP_CERT_DELETE_FAILED = -1,   /* any negative value: e.g. the last CentralSystemRootCertificate */
	OCPP_CERT_DELETE_ACCEPTED = 0,
	OCPP_CERT_DELETE_NOT_FOUND = 1, /* any positive value */
};

/* GetLog (whitepaper use case N01), as the core hands it to env.get_log once it has checked it. */
#define OCPP_URI_MAX 512            /* remoteLocation, firmware.location: anyURI of at most 512 */
#define OCPP_LOG_FILE_NAME_MAX 255  /* GetLog.conf filename: CiString255 */
enum ocpp_log_type {
	OCPP_LOG_DIAGNOSTICS, /* DiagnosticsLog */
	OCPP_LOG_SECURITY,    /* SecurityLog */
};
struct ocpp_get_log {
	enum ocpp_log_type type;
	int request_id;                  /* >= 0 */
	const char *location;            /* where to upload: a URI with a scheme, at most OCPP_URI_MAX */
	int64_t oldest_ms, latest_ms;    /* 0 = absent, else ms since the epoch */
	int retries, retry_interval_s;   /* -1 = absent, else >= 0 */
};

/* SignedUpdateFirmware (whitepaper use case L01), as the core hands it to env.signed_update_firmware. */
#define OCPP_FW_SIGNING_CERT_MAX 5500 /* firmware.signingCertificate: PEM */
#define OCPP_FW_SIGNATURE_MAX 800     /* firmware.signature: base64 */
struct ocpp_signed_firmware {
	int request_id;                  /* >= 0 */
	const char *location;            /* a URI with a scheme, at most OCPP_URI_MAX */
	int64_t retrieve_ms, install_ms; /* install_ms 0 = absent (install once downloaded and checked) */
	int retries, retry_interval_s;   /* -1 = absent, else >= 0 */
	const char *signing_certificate; /* at most OCPP_FW_SIGNING_CERT_MAX characters */
	const char *signature;           /* at most OCPP_FW_SIGNATURE_MAX characters */
};
/* What env.signed_update_firmware returns: the SignedUpdateFirmware.conf status. */
enum ocpp_fw_update {
	OCPP_FW_ACCEPTED = 0,
	OCPP_FW_REJECTED,
	OCPP_FW_ACCEPTED_CANCELED,    /* an update in progress was cancelled and this one started */
	OCPP_FW_INVALID_CERTIFICATE,  /* signingCertificate not valid (the core raises the security event) */
	OCPP_FW_REVOKED_CERTIFICATE,
};

struct ocpp_cp_params {
	/* BootNotification */
	const char *vendor;          /* CiString20 */
	const char *model;           /* CiString20 */
	const char *serial;          /* chargePointSerialNumber, CiString25, may be NULL */
	const char *firmware;        /* firmwareVersion, CiString50, may be NULL */
	enum ocpp_id_tag_source id_tag_source;
	const char *fixed_id_tag;    /* OCPP_IDTAG_FIXED */
	int voltage;                 /* nominal V, for energy when the TWC reports none */
	int phases;                  /* 1 or 3 */
	int max_amps_per_connector;  /* wiring per TWC: Current.Offered without a limit */
	int max_amps_total;          /* wiring for all TWCs: the charge point's limit without a profile */
	int min_amps;                /* minAmpsPerTWC: a profile allowing less pauses the connector */
	int call_timeout_s;          /* a CALL unanswered this long has failed; 0 = 30 */
	int queue_max;               /* transaction messages held at most; 0 = 1000 */
	int max_security_profile;    /* highest SecurityProfile the link can do: 3 on wss://, else 1 */
	/* Initial key values (the config file's ocpp.keys); persisted central-system changes win. */
	const struct ocpp_key_override *keys;
	int n_keys;
	/* State files read back at start (NUL-terminated text, borrowed; NULL if absent). */
	const char *config_json;
	const char *connectors_json;
	const char *auth_json;
	const char *profiles_json;
	const char *local_list_json;
};

struct ocpp_cp_env {
	void *user;
	/* Send one text frame now. Return 0, or a negative errno if the link cannot take it (the core
	 * then behaves as if ocpp_cp_disconnected() had been called). */
	int (*send)(void *user, const char *text, size_t len);
	/* Durable records (gw_journal): must be on disk when they return 0. */
	int (*journal_put)(void *user, uint64_t seq, const char *text);
	int (*journal_del)(void *user, uint64_t seq);
	/* Replace state file @name atomically; @secret: create it 0600. Return 0 or -errno. */
	int (*store)(void *user, const char *name, const char *text, bool secret);
	/* Current limit for @connector (1..): amps >= 0, or -1 for "whatever the wiring allows". */
	void (*set_limit)(void *user, int connector, int amps);
	/* Limit for the sum of all connectors (ChargePointMaxProfile): amps >= 0, or -1 for the wiring.
	 * Optional. */
	void (*set_total_limit)(void *user, int amps);
	/* A Reset is due now: the gateway restarts the process (after closing cleanly). */
	void (*reset)(void *user, bool hard);
	/* A key the gateway applies changed (WebSocketPingInterval, SecurityProfile, AuthorizationKey). */
	void (*config_changed)(void *user, enum ocpp_key k);
	/* One log line. Never contains a secret. Optional. */
	void (*log)(void *user, enum core_log_level level, const char *msg);
	/* ExtendedTriggerMessage(SignChargePointCertificate) was Accepted (CpoName is set, read it with
	 * ocpp_config_str(ocpp_cp_config(cp), OCPP_KEY_CPO_NAME)): make a new key and CSR for the
	 * SignCertificate request. Called after the CALLRESULT went out, from inside the core's entry
	 * point; it may call ocpp_cp_security_event() and ocpp_cp_sign_certificate() (with the CSR, now
	 * or later). Return 0 or -errno (logged). Optional: without it the trigger is answered
	 * NotImplemented. */
	int (*sign_certificate)(void *user);
	/* The certificate callbacks below bind the central system's certificate messages to the
	 * gateway's certificate store. Each is called from inside ocpp_cp_input(), before the CALLRESULT
	 * goes out: it must not call back into the core (a reconnect it wants is scheduled, not done). */
	/* CertificateSigned: @chain (PEM, at most CertificateSignedMaxChainSize characters) for the key
	 * of the last CSR. Return 0 when it is valid and will be used (Accepted), < 0 when not
	 * (Rejected): then @reason (@reasonlen bytes, "" on entry) may say why, and the core sends the
	 * security event InvalidChargePointCertificate with it as techInfo. NULL: every chain is
	 * Rejected (no event: nothing was checked). */
	int (*certificate_signed)(void *user, const char *chain, char *reason, size_t reasonlen);
	/* InstallCertificate: @type "CentralSystemRootCertificate" or "ManufacturerRootCertificate",
	 * @pem at most OCPP_CERT_PEM_MAX characters. Return an enum ocpp_cert_install. NULL: Rejected. */
	int (*install_certificate)(void *user, const char *type, const char *pem);
	/* DeleteCertificate: the certificate(s) with hash data @h. Return an enum ocpp_cert_delete.
	 * NULL: NotFound. */
	int (*delete_certificate)(void *user, const struct ocpp_cert_hash *h);
	/* GetInstalledCertificateIds: the hash data of the installed certificates of @type (as above)
	 * into @out, at most @max (CertificateStoreMaxLength). Return how many (0: NotFound), or -errno
	 * (answered with a CALLERROR InternalError). NULL: NotFound. */
	int (*installed_certificates)(void *user, const char *type, struct ocpp_cert_hash *out, int max);
	/* The log and firmware callbacks below are called from inside ocpp_cp_input(), before the
	 * CALLRESULT goes out. They may report the first status at once (ocpp_cp_log_status(),
	 * ocpp_cp_firmware_status(): the notification is queued behind the CALLRESULT); the work itself
	 * (download, upload) they schedule, they do not do it here. */
	/* GetLog: upload the log @req->type to @req->location (the fields as documented at struct
	 * ocpp_get_log). Return 0 when the upload is taken (Accepted), 1 when one in progress was
	 * cancelled for it (AcceptedCanceled): then @file_name (@file_name_len bytes, "" on entry) names
	 * the file it uploads, at most OCPP_LOG_FILE_NAME_MAX characters ("" sends none). < 0: Rejected.
	 * Progress goes to ocpp_cp_log_status() with @req->request_id. NULL: every GetLog is Rejected. */
	int (*get_log)(void *user, const struct ocpp_get_log *req, char *file_name, size_t file_name_len);
	/* SignedUpdateFirmware: fetch @req->location at @req->retrieve_ms, check the signature against
	 * the signing certificate, install at @req->install_ms (0: once checked). Return an enum
	 * ocpp_fw_update (anything else is answered Rejected); OCPP_FW_INVALID_CERTIFICATE also makes
	 * the core send the security event InvalidFirmwareSigningCertificate. Progress goes to
	 * ocpp_cp_firmware_status() with @req->request_id. NULL: every request is Rejected. */
	int (*signed_update_firmware)(void *user, const struct ocpp_signed_firmware *req);
	/* ChangeConfiguration SecurityProfile=@profile (1..3, above the current one and within
	 * params.max_security_profile; for 1 and 2 an AuthorizationKey is set, the core checks that):
	 * whether the gateway can connect with it, i.e. for 2 and 3 a CentralSystemRootCertificate is
	 * installed, for 3 a valid charge point certificate and key too. Return 0 when ready, < 0 when
	 * not: then @why (@whylen bytes, "" on entry) may say why (logged: never a secret), and the
	 * answer is Rejected. Called from inside ocpp_cp_input(); must not call back into the core.
	 * NULL: 3 is Rejected, 1 and 2 need only the AuthorizationKey. */
	int (*security_ready)(void *user, int profile, char *why, size_t whylen);
	/* Every security event the core takes (its own and ocpp_cp_security_event()'s), as it is queued:
	 * @type, when it happened (wall ms), @techinfo cleaned of control characters (may be NULL), for the
	 * security log GetLog uploads. Must not call back into the core. Optional. */
	void (*security_logged)(void *user, const char *type, int64_t when_ms, const char *techinfo);
};

#define OCPP_LATENCY_BUCKETS 8
extern const uint32_t ocpp_latency_bounds_ms[OCPP_LATENCY_BUCKETS]; /* 50 ms .. 10 s */

struct ocpp_cp_stats {
	uint32_t rx_frames, tx_frames;
	uint32_t rx_bad;              /* frames answered with a CALLERROR or dropped */
	uint32_t calls_timed_out;
	uint32_t lifetime_rejected;   /* TWC lifetime counter readings not believed (a jump, a reset) */
	uint32_t queue_dropped;       /* MeterValues dropped by the queue bound */
	uint32_t queued;              /* transaction messages, critical security events, log and firmware
				       * statuses waiting now (all journalled) */
	uint32_t queued_other;        /* other messages waiting now (at most OCPP_QUEUE_OTHER_MAX) */
	uint32_t queue_coalesced;     /* other messages replaced by a newer one of the same kind, or dropped */
	uint32_t journal_failures;    /* journal writes the disk refused (each retry counts) */
	uint32_t journal_waiting;     /* journal writes waiting for the disk now */
	uint32_t security_events;     /* security events taken (queued, or folded into one waiting) */
	uint32_t security_dropped;    /* security events dropped by their bounds (see ocpp_cp_security_event) */
	/* CALL -> CALLRESULT time of our own CALLs that were answered, cumulative per bound of
	 * ocpp_latency_bounds_ms (a Prometheus histogram without its +Inf, which is calls_answered). */
	uint32_t calls_answered;
	uint64_t answer_ms_sum;
	uint32_t answer_le[OCPP_LATENCY_BUCKETS];
};

struct ocpp_cp;

/* Return: the charge point (not started), or NULL on bad params or allocation failure. Persisted
 * state that does not parse is logged and ignored, never fatal. */
struct ocpp_cp *ocpp_cp_new(const struct ocpp_cp_params *p, const struct ocpp_cp_env *env);
void ocpp_cp_free(struct ocpp_cp *cp);

/* One live journal record, in ascending @seq order, before ocpp_cp_start(). Return 0 or -EINVAL
 * (the record is then dropped by the core through journal_del). */
int ocpp_cp_restore_record(struct ocpp_cp *cp, uint64_t seq, const char *text);

/* Begin: transactions left open by a crash or power loss are stopped (reason PowerLoss) and queued;
 * new records use sequence numbers above @max_seq (the journal's). */
void ocpp_cp_start(struct ocpp_cp *cp, uint64_t max_seq, struct ocpp_now now);

/* The websocket opened (send BootNotification or resume) / closed. */
void ocpp_cp_connected(struct ocpp_cp *cp, struct ocpp_now now);
void ocpp_cp_disconnected(struct ocpp_cp *cp, struct ocpp_now now);
/* One complete inbound text frame. */
void ocpp_cp_input(struct ocpp_cp *cp, const char *text, size_t len, struct ocpp_now now);

void ocpp_cp_tick(struct ocpp_cp *cp, struct ocpp_now now);
/* Monotonic ms of the next thing ocpp_cp_tick() has to do; UINT64_MAX if nothing. */
uint64_t ocpp_cp_next_deadline(const struct ocpp_cp *cp);

/*
 * ocpp_cp_security_event() - a security event the gateway saw (whitepaper section 6.4), for the
 * central system as a SecurityEventNotification: @type is the event's name ("StartupOfTheDevice",
 * "InvalidCentralSystemCertificate", ...; printable ASCII, at most 50 characters), @techinfo free
 * text for the operator (may be NULL; cut to 255 bytes; never a secret), @now when it happened.
 * Call it after ocpp_cp_start(). Critical events (FirmwareUpdated, SettingSystemTime,
 * StartupOfTheDevice, ResetOrReboot, SecurityLogWasCleared, MemoryExhaustion,
 * TamperDetectionActivated) are journalled like transaction messages and sent in order with them,
 * whatever the link does meanwhile. The others wait in memory across outages, at most
 * OCPP_QUEUE_OTHER_MAX messages with the rest: past that a new one replaces the oldest waiting event
 * (counted in stats.security_dropped), and one identical to an event still waiting is folded into it.
 * The core reports by itself: ResetOrReboot after a Reset it performed (at the next start),
 * SettingSystemTime when the wall clock steps against the monotonic one, and
 * ReconfigurationOfSecurityParameters when the central system changes SecurityProfile,
 * AuthorizationKey or CpoName. StartupOfTheDevice and the TLS and certificate events are the
 * gateway's to report. Return 0, -EINVAL (bad @type, not started) or -ENOMEM.
 */
int ocpp_cp_security_event(struct ocpp_cp *cp, const char *type, const char *techinfo, struct ocpp_now now);

/*
 * ocpp_cp_sign_certificate() - send SignCertificate.req with @csr_pem (a PEM PKCS#10 request, at most
 * OCPP_CSR_MAX characters of printable ASCII and line breaks): the gateway calls it from (or after)
 * env.sign_certificate once it has made the key and the CSR. It is an ordinary message: it waits
 * for the registration, a newer one replaces one still waiting, and it is lost with the link (the
 * central system triggers again). The answer is only logged: Accepted means CertificateSigned
 * follows, Rejected ends the attempt. Return 0, -EINVAL (bad @csr_pem, not started), -ENOTCONN (no
 * link) or -ENOMEM.
 */
int ocpp_cp_sign_certificate(struct ocpp_cp *cp, const char *csr_pem, struct ocpp_now now);

/*
 * ocpp_cp_log_status() - where the upload of a log asked for by GetLog stands, for the central
 * system as a LogStatusNotification {status, requestId}: @status one of BadMessage, Idle,
 * NotSupportedOperation, PermissionDenied, Uploaded, UploadFailure, Uploading; @request_id the
 * GetLog's requestId (< 0: none is sent). Every status is journalled and sent in order with the
 * transaction messages, whatever the link or the process does meanwhile: none is folded into a
 * later one (only an exact repeat of the last one still waiting is). The core remembers the last
 * status: ExtendedTriggerMessage(LogStatusNotification) answers Uploading with its requestId while
 * it is Uploading, else Idle. May be called from env.get_log. Return 0, -EINVAL (unknown @status,
 * not started), -ENOSPC (64 of them already wait) or -ENOMEM.
 */
int ocpp_cp_log_status(struct ocpp_cp *cp, const char *status, int request_id, struct ocpp_now now);

/*
 * ocpp_cp_firmware_status() - where a signed firmware update stands, for the central system as a
 * SignedFirmwareStatusNotification {status, requestId}: @status one of Downloaded, DownloadFailed,
 * Downloading, DownloadScheduled, DownloadPaused, Idle, InstallationFailed, Installing, Installed,
 * InstallRebooting, InstallScheduled, InstallVerificationFailed, InvalidSignature,
 * SignatureVerified; @request_id the SignedUpdateFirmware's requestId (< 0: none is sent).
 * Journalled and sent in order like ocpp_cp_log_status(), so InstallRebooting reaches the central
 * system even when the restart follows at once (report Installed after it). InvalidSignature also
 * raises the security event InvalidFirmwareSignature, journalled like a critical one (OCTT
 * TC_081). ExtendedTriggerMessage(FirmwareStatusNotification) answers with the last status while
 * an update is in progress (not Idle, Installed or one of the failures), else Idle. May be called
 * from env.signed_update_firmware. Return 0, -EINVAL, -ENOSPC or -ENOMEM as ocpp_cp_log_status().
 */
int ocpp_cp_firmware_status(struct ocpp_cp *cp, const char *status, int request_id, struct ocpp_now now);

/*
 * ocpp_cp_security_profile_fallback() - the first connection with the SecurityProfile the central
 * system raised failed: put SecurityProfile back to @profile (below the current value: the only way
 * down, the central system can only raise it) and persist the keys through env.store as any change
 * does. env.config_changed is not called: the gateway that calls this reconnects by itself. The
 * central system hears of it as a ReconfigurationOfSecurityParameters event. Return 0 or -EINVAL
 * (@profile not below the current one, or negative).
 */
int ocpp_cp_security_profile_fallback(struct ocpp_cp *cp, int profile, struct ocpp_now now);

/* The connector for TWC @twc_id, assigning the next free number (and persisting the map) the first
 * time. Return 1..OCPP_MAX_CONNECTORS or -ENOSPC. */
int ocpp_cp_connector_for_twc(struct ocpp_cp *cp, uint16_t twc_id);
/* New state for connector @connector (from ocpp_cp_connector_for_twc()). */
void ocpp_cp_evse_update(struct ocpp_cp *cp, int connector, const struct ocpp_evse *st, struct ocpp_now now);

/* For the gateway's status lines and tests. */
int ocpp_cp_connector_count(const struct ocpp_cp *cp);
enum ocpp_cp_status ocpp_cp_connector_status(const struct ocpp_cp *cp, int connector);
/* Transaction id on @connector: > 0 confirmed, < 0 provisional, 0 none. */
int ocpp_cp_transaction_id(const struct ocpp_cp *cp, int connector);
double ocpp_cp_energy_wh(const struct ocpp_cp *cp, int connector);
bool ocpp_cp_registered(const struct ocpp_cp *cp); /* BootNotification Accepted since connect */
/* "Accepted", "Pending", "Rejected" (the last BootNotification answer on this link), or "none". */
const char *ocpp_cp_registration(const struct ocpp_cp *cp);
struct ocpp_config *ocpp_cp_config(struct ocpp_cp *cp);
const struct ocpp_cp_stats *ocpp_cp_stats(const struct ocpp_cp *cp);

#endif
