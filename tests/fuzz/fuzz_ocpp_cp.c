/*
 * libFuzzer target for the OCPP charge-point engine: the input, split into chunks at 0x00 bytes, is
 * fed to a running charge point as central-system frames, interleaved with commands (chunks that
 * start with a byte below 0x20) that let time pass (ticking at each deadline), update a TWC (its
 * lifetime counter any uint64), map a TWC, open or close the link, make sends fail, or rebuild the
 * charge point from its journal and state files as after a SIGKILL; commands from 0x10 up report
 * what a gateway reports (log upload and firmware statuses, the SecurityProfile fallback, security
 * events, a CSR) or choose what the env callbacks answer. Every env callback has a stub, so the
 * certificate, log, firmware and SecurityProfile paths run too; some call back into the core as a
 * gateway may (a first status from inside GetLog, a CSR from the CSR step). Nothing is ever answered
 * except what the input itself answers (the message ids are predictable: "19b76daa800-<n>").
 * Checked: no crash, leak or undefined behaviour; every frame sent is a JSON array; set_limit()
 * only for connectors 1..8 with -1 (the wiring), 0 or from the minimum to below the wiring,
 * whatever charging profiles arrive, and set_total_limit() -1 or below the total wiring; what
 * the callbacks are handed is within the bounds ocpp_cp.h promises; every journal record the core
 * wrote is understood when restored. The whole input is also given to
 * ocpp_cp_restore_record() of a second charge point as one record.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp_cp.h"
#include "ocpp_json.h"
#include "fuzz_mem_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WALL0 1767225600000LL /* the first message ids are "19b76daa800-1", "-2", ... */
#define MAX_RECORDS 512

struct fz {
	struct ocpp_cp *cp;
	struct ocpp_now now;
	bool send_fail;
	uint64_t seq[MAX_RECORDS];
	char *text[MAX_RECORDS];
	int n;
	char *files[5];
	uint8_t knob;   /* what the env callbacks answer (command 0x15) */
};

static const char *const file_names[5] = { OCPP_FILE_CONFIG, OCPP_FILE_CONNECTORS, OCPP_FILE_AUTH,
					   OCPP_FILE_PROFILES, OCPP_FILE_LOCAL_LIST };

#define CSR "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfuzz\n-----END CERTIFICATE REQUEST-----\n"

/* The names the gateway may report, and one it may not (the last). */
static const char *const log_statuses[] = { "BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied",
					    "Uploaded", "UploadFailure", "Uploading", "Downloading" };
static const char *const fw_statuses[] = {
	"Downloaded",	     "DownloadFailed",	 "Downloading",	     "DownloadScheduled",
	"DownloadPaused",    "Idle",		 "InstallationFailed", "Installing",
	"Installed",	     "InstallRebooting", "InstallScheduled",   "InstallVerificationFailed",
	"InvalidSignature",  "SignatureVerified", "Uploading",
};
static const char *const events[] = { "StartupOfTheDevice", "InvalidCentralSystemCertificate",
				      "InvalidFirmwareSignature", "SettingSystemTime", "FailedToAuthenticateAtCentralSystem",
				      "bad type", "" };

static int fz_send(void *user, const char *text, size_t len)
{
	struct fz *z = user;
	json_t *j = json_loadb(text, len, 0, NULL);

	if (!json_is_array(j))
		abort();
	json_decref(j);
	return z->send_fail ? -EPIPE : 0;
}

static int fz_jput(void *user, uint64_t seq, const char *text)
{
	struct fz *z = user;

	return mem_journal_put(z->seq, z->text, &z->n, MAX_RECORDS, seq, text);
}

static int fz_jdel(void *user, uint64_t seq)
{
	struct fz *z = user;

	return mem_journal_del(z->seq, z->text, &z->n, seq);
}

static int fz_store(void *user, const char *name, const char *text, bool secret)
{
	struct fz *z = user;

	(void)secret;
	for (int i = 0; i < 5; i++)
		if (!strcmp(name, file_names[i])) {
			free(z->files[i]);
			z->files[i] = strdup(text);
			return 0;
		}
	abort();
}

static void fz_set_limit(void *user, int connector, int amps)
{
	(void)user;
	if (connector < 1 || connector > OCPP_MAX_CONNECTORS || amps < -1 || (amps > 0 && amps < 6) || amps >= 32)
		abort();
}

static void fz_set_total_limit(void *user, int amps)
{
	(void)user;
	if (amps < -1 || amps >= 40)
		abort();
}

static void fz_reset(void *user, bool hard)
{
	(void)user;
	(void)hard;
}

static void fz_config_changed(void *user, enum ocpp_key k)
{
	(void)user;
	if ((unsigned)k >= OCPP_KEY_COUNT)
		abort();
}

static int fz_sign_certificate(void *user)
{
	struct fz *z = user;

	if (z->knob & 1)
		ocpp_cp_sign_certificate(z->cp, z->knob & 2 ? CSR : "not PEM \x01", z->now);
	if (z->knob & 4)
		ocpp_cp_security_event(z->cp, "InvalidChargePointCertificate", "from the CSR step", z->now);
	return z->knob & 8 ? -EIO : 0;
}

static int fz_certificate_signed(void *user, const char *chain, char *reason, size_t reasonlen)
{
	struct fz *z = user;

	if (!chain || !reason || reasonlen == 0 || reason[0] || strlen(chain) > 10000)
		abort();
	if (z->knob & 1)
		return 0;
	/* a reason that fills the buffer to the last byte, unterminated: the core must cope */
	memset(reason, z->knob & 2 ? 'r' : '\n', reasonlen);
	return -EINVAL;
}

static int fz_install_certificate(void *user, const char *type, const char *pem)
{
	struct fz *z = user;

	if (!type || !pem || strlen(pem) > OCPP_CERT_PEM_MAX)
		abort();
	return (int)(z->knob % 3) - 1;
}

static int fz_delete_certificate(void *user, const struct ocpp_cert_hash *h)
{
	struct fz *z = user;

	if ((unsigned)h->alg > OCPP_HASH_SHA512 || strlen(h->issuer_name_hash) > OCPP_CERT_HASH_MAX ||
	    strlen(h->issuer_key_hash) > OCPP_CERT_HASH_MAX || strlen(h->serial) > OCPP_CERT_SERIAL_MAX)
		abort();
	return (int)(z->knob % 3) - 1;
}

static int fz_installed_certificates(void *user, const char *type, struct ocpp_cert_hash *out, int max)
{
	struct fz *z = user;
	int n = z->knob % 4 == 3 ? -EIO : z->knob % 4;

	if (!type || max < 1)
		abort();
	for (int i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].alg = (enum ocpp_hash_alg)(i % 3);
		memset(out[i].issuer_name_hash, 'A', OCPP_CERT_HASH_MAX); /* full length */
		snprintf(out[i].issuer_key_hash, sizeof(out[i].issuer_key_hash), "%02x", i);
		snprintf(out[i].serial, sizeof(out[i].serial), "%d", z->knob);
	}
	return n < 0 || n <= max ? n : max;
}

static int fz_get_log(void *user, const struct ocpp_get_log *req, char *file_name, size_t file_name_len)
{
	struct fz *z = user;

	if ((req->type != OCPP_LOG_DIAGNOSTICS && req->type != OCPP_LOG_SECURITY) || req->request_id < 0 ||
	    !req->location || strlen(req->location) > OCPP_URI_MAX || !ocpp_uri_ok(req->location) ||
	    req->retries < -1 || req->retry_interval_s < -1 || file_name_len != OCPP_LOG_FILE_NAME_MAX + 1 ||
	    file_name[0])
		abort();
	if (z->knob & 1)
		memset(file_name, 'f', file_name_len); /* unterminated */
	else if (z->knob & 2)
		snprintf(file_name, file_name_len, "log\xff%d", req->request_id); /* not UTF-8 */
	if (z->knob & 4)
		ocpp_cp_log_status(z->cp, "Uploading", req->request_id, z->now);
	return (int)(z->knob >> 3 & 3) - 1;
}

static int fz_signed_update_firmware(void *user, const struct ocpp_signed_firmware *req)
{
	struct fz *z = user;

	if (req->request_id < 0 || !req->location || strlen(req->location) > OCPP_URI_MAX ||
	    !ocpp_uri_ok(req->location) || !req->signing_certificate ||
	    strlen(req->signing_certificate) > OCPP_FW_SIGNING_CERT_MAX || !req->signature ||
	    strlen(req->signature) > OCPP_FW_SIGNATURE_MAX || req->retries < -1 || req->retry_interval_s < -1)
		abort();
	if (z->knob & 4)
		ocpp_cp_firmware_status(z->cp, z->knob & 1 ? "InvalidSignature" : "DownloadScheduled", req->request_id,
					z->now);
	return (int)(z->knob >> 3 & 7) - 1; /* -1 .. 6: past the enum too */
}

static int fz_security_ready(void *user, int profile, char *why, size_t whylen)
{
	struct fz *z = user;

	if (profile < 1 || profile > 3 || !why || whylen == 0 || why[0])
		abort();
	if (z->knob & 1)
		return 0;
	memset(why, z->knob & 2 ? 'w' : '\x01', whylen); /* unterminated, control characters */
	return -ENOENT;
}

static void fz_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	if ((unsigned)level > CORE_LOG_DEBUG || !msg || strlen(msg) >= 512)
		abort();
}

static const struct ocpp_key_override keys[] = {
	{ "AllowOfflineTxForUnknownId", "true" },
	{ "MeterValueSampleInterval", "10" },
	{ "ClockAlignedDataInterval", "60" },
	{ "MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import,Power.Active.Import" },
	{ "StopTxnSampledData", "Energy.Active.Import.Register" },
	{ "TransactionMessageRetryInterval", "5" },
};

static struct ocpp_cp *fz_new(struct fz *z, bool fixed)
{
	struct ocpp_cp_params p;
	struct ocpp_cp_env env = {
		.user = z,
		.send = fz_send,
		.journal_put = fz_jput,
		.journal_del = fz_jdel,
		.store = fz_store,
		.set_limit = fz_set_limit,
		.set_total_limit = fz_set_total_limit,
		.reset = fz_reset,
		.config_changed = fz_config_changed,
		.log = fz_log,
		.sign_certificate = fz_sign_certificate,
		.certificate_signed = fz_certificate_signed,
		.install_certificate = fz_install_certificate,
		.delete_certificate = fz_delete_certificate,
		.installed_certificates = fz_installed_certificates,
		.get_log = fz_get_log,
		.signed_update_firmware = fz_signed_update_firmware,
		.security_ready = fz_security_ready,
	};

	memset(&p, 0, sizeof(p));
	p.vendor = "Tesla";
	p.model = "TWC2 gateway";
	p.id_tag_source = fixed ? OCPP_IDTAG_FIXED : OCPP_IDTAG_REMOTE;
	p.fixed_id_tag = "FLEET01";
	p.voltage = 230;
	p.phases = 1;
	p.max_amps_per_connector = 32;
	p.max_amps_total = 40;
	p.min_amps = 6;
	p.call_timeout_s = 10;
	p.queue_max = 20;
	p.max_security_profile = 3;
	p.keys = keys;
	p.n_keys = (int)(sizeof(keys) / sizeof(keys[0]));
	p.config_json = z->files[0];
	p.connectors_json = z->files[1];
	p.auth_json = z->files[2];
	p.profiles_json = z->files[3];
	p.local_list_json = z->files[4];
	return ocpp_cp_new(&p, &env);
}

/* SIGKILL and restart from the journal; every record the core wrote must be understood. */
static void fz_restart(struct fz *z, bool fixed)
{
	int n = z->n;
	uint64_t seq[MAX_RECORDS];
	char *text[MAX_RECORDS];

	ocpp_cp_free(z->cp);
	z->cp = fz_new(z, fixed);
	if (!z->cp)
		abort();
	/* the core may delete records while restoring: work on a copy */
	for (int i = 0; i < n; i++) {
		seq[i] = z->seq[i];
		text[i] = strdup(z->text[i]);
	}
	for (int i = 0; i < n; i++) {
		if (ocpp_cp_restore_record(z->cp, seq[i], text[i]) != 0)
			abort();
		free(text[i]);
	}
	ocpp_cp_start(z->cp, n ? seq[n - 1] : 0, z->now);
}

static void fz_advance(struct fz *z, uint64_t ms)
{
	uint64_t target = z->now.mono_ms + ms;

	for (int guard = 0; guard < 64; guard++) {
		uint64_t d = ocpp_cp_next_deadline(z->cp);

		if (d > target)
			break;
		if (d > z->now.mono_ms) {
			z->now.wall_ms += (int64_t)(d - z->now.mono_ms);
			z->now.mono_ms = d;
		}
		ocpp_cp_tick(z->cp, z->now);
	}
	z->now.wall_ms += (int64_t)(target - z->now.mono_ms);
	z->now.mono_ms = target;
	ocpp_cp_tick(z->cp, z->now);
}

/* Commands 0x10..0x1f: what the gateway reports into the core, and what the callbacks answer. */
static void fz_gateway(struct fz *z, const uint8_t *c, size_t n)
{
	uint8_t a = n > 1 ? c[1] : 0, b = n > 2 ? c[2] : 0;
	int id = (int)b - 1; /* a chunk holds no 0x00: 1 is request 0, and -1 none (0xff - 1 = 254) */

	if (b == 0xff)
		id = -1;
	switch (c[0] & 7) {
	case 0:
		ocpp_cp_log_status(z->cp, log_statuses[a % (sizeof(log_statuses) / sizeof(log_statuses[0]))], id, z->now);
		break;
	case 1:
		ocpp_cp_firmware_status(z->cp, fw_statuses[a % (sizeof(fw_statuses) / sizeof(fw_statuses[0]))], id, z->now);
		break;
	case 2:
		ocpp_cp_security_profile_fallback(z->cp, (int)(a % 5) - 1, z->now);
		break;
	case 3:
		ocpp_cp_security_event(z->cp, events[a % (sizeof(events) / sizeof(events[0]))], b & 1 ? "tech\x01info" : NULL,
				       z->now);
		break;
	case 4:
		ocpp_cp_sign_certificate(z->cp, a & 1 ? CSR : "", z->now);
		break;
	default:
		z->knob = a;
		break;
	}
}

static void fz_command(struct fz *z, const uint8_t *c, size_t n, bool fixed)
{
	uint8_t a = n > 1 ? c[1] : 0, b = n > 2 ? c[2] : 0, d = n > 3 ? c[3] : 0, e = n > 4 ? c[4] : 0;

	if (c[0] & 0x10) {
		fz_gateway(z, c, n);
		return;
	}
	switch (c[0] & 7) {
	case 0:
		fz_advance(z, (uint64_t)a * 1000u + (uint64_t)b * 10u);
		break;
	case 1: {
		struct ocpp_evse ev;

		memset(&ev, 0, sizeof(ev));
		ev.present = !(b & 1);
		ev.plugged = b & 2;
		ev.fault = b & 4;
		ev.drawing = b & 8;
		ev.has_lifetime = b & 16;
		ev.fault_code = d;
		ev.amps = (double)(d % 40) + (b & 32 ? 0.5 : 0);
		ev.offered_amps = (double)(e % 33);
		ev.volts = b & 64 ? 0 : 230;
		ev.lifetime_wh = (uint64_t)e * 100u;
		/* Up to 9 more bytes: the lifetime counter as any uint64 (a TWC's reply can be absurd), in
		 * base 255 with digit = byte - 1, since a chunk holds no 0x00; wraps at 2^64. */
		if (n > 5) {
			ev.lifetime_wh = 0;
			for (size_t i = n < 14 ? n : 14; i-- > 5;)
				ev.lifetime_wh = ev.lifetime_wh * 255u + (uint64_t)(c[i] - 1u);
		}
		if (b & 128)
			memcpy(ev.vin, "5YJ3E1EA7KF000001", 18);
		ocpp_cp_evse_update(z->cp, 1 + a % 3, &ev, z->now);
		break;
	}
	case 2:
		ocpp_cp_connected(z->cp, z->now);
		break;
	case 3:
		ocpp_cp_disconnected(z->cp, z->now);
		break;
	case 4:
		ocpp_cp_connector_for_twc(z->cp, (uint16_t)(a | b << 8));
		break;
	case 5:
		z->send_fail = !z->send_fail;
		break;
	case 6:
		ocpp_cp_tick(z->cp, z->now);
		break;
	default:
		fz_restart(z, fixed);
		if (a & 1)
			ocpp_cp_connected(z->cp, z->now);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z;
	bool fixed = size > 0 && (data[0] & 0x80); /* the first byte of a JSON frame is '[' (0x5b) */
	size_t start = 0;
	char *whole;

	memset(&z, 0, sizeof(z));
	z.now.mono_ms = 1000000;
	z.now.wall_ms = WALL0;
	z.cp = fz_new(&z, fixed);
	if (!z.cp)
		abort();
	if (ocpp_cp_connector_for_twc(z.cp, 0x1001) != 1 || ocpp_cp_connector_for_twc(z.cp, 0x1002) != 2)
		abort();
	ocpp_cp_start(z.cp, 0, z.now);
	ocpp_cp_connected(z.cp, z.now);

	for (size_t i = 0; i <= size; i++) {
		const uint8_t *chunk = data + start;
		size_t len = i - start;

		if (i < size && data[i] != 0)
			continue;
		start = i + 1;
		if (len == 0)
			continue;
		if (chunk[0] < 0x20)
			fz_command(&z, chunk, len, fixed);
		else
			ocpp_cp_input(z.cp, (const char *)chunk, len, z.now);
		/* a little time passes between frames */
		z.now.mono_ms += 7;
		z.now.wall_ms += 7;
		if (ocpp_cp_next_deadline(z.cp) <= z.now.mono_ms)
			ocpp_cp_tick(z.cp, z.now);
		if (ocpp_cp_connector_count(z.cp) > OCPP_MAX_CONNECTORS)
			abort();
	}
	fz_advance(&z, 120000);
	/* the state it leaves behind must restore */
	fz_restart(&z, fixed);
	ocpp_cp_connected(z.cp, z.now);
	fz_advance(&z, 1000);
	ocpp_cp_free(z.cp);

	/* the input as one journal record, on a fresh charge point */
	z.cp = fz_new(&z, fixed);
	whole = malloc(size + 1);
	if (!z.cp || !whole)
		abort();
	memcpy(whole, data, size);
	whole[size] = '\0';
	ocpp_cp_restore_record(z.cp, 5, whole);
	free(whole);
	ocpp_cp_start(z.cp, 5, z.now);
	ocpp_cp_connected(z.cp, z.now);
	fz_advance(&z, 1000);
	ocpp_cp_free(z.cp);

	for (int i = 0; i < z.n; i++)
		free(z.text[i]);
	for (int i = 0; i < 5; i++)
		free(z.files[i]);
	return 0;
}
