/*
 * Tests of the security whitepaper's log upload (GetLog, LogStatusNotification), signed firmware
 * update (SignedUpdateFirmware, SignedFirmwareStatusNotification) and SecurityProfile 3 in the charge
 * point core: what each request hands the gateway and answers, the CALLERROR for each malformed
 * field, every status reaching the central system in order across an outage and a SIGKILL,
 * ExtendedTriggerMessage while idle and in progress, the security events raised, and the
 * SecurityProfile rules (raise only, the link's limit, AuthorizationKey, env.security_ready, the
 * gateway's fallback). Runs the real ocpp_cp in the shared fake environment (ocpp_fake.h).
 */
#include "ocpp_cs.h"

#define LOC "ftp://logs.example.com/upload/cp1"
#define FW_LOC "https://fw.example.com/twcgw-1.2.3.bin"
#define T_2026 "2026-01-01T00:00:00Z"
#define MS_2026 1767225600000LL

/* ------------------------------------------------------------------ helpers */

static const char *change(struct fake *f, const char *key, const char *value)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"key\":\"%s\",\"value\":\"%s\"}", key, value);
	return fk_cs_status(f, "ChangeConfiguration", buf);
}

static long profile(struct fake *f)
{
	return ocpp_config_int(ocpp_cp_config(f->cp), OCPP_KEY_SECURITY_PROFILE);
}

/* Index of the answer frame to the last central-system CALL. */
static size_t last_answer(const struct fake *f)
{
	char id[32];

	snprintf(id, sizeof(id), "cs-%d", f->cs_id);
	return answer_index(f, id);
}

/* The next CALL (statuses acknowledged on the way) is @action with status @status and requestId @id
 * (-1: none); it is acknowledged. */
static void expect_status(struct fake *f, const char *action, const char *status, int id)
{
	json_t *p = fk_expect_after_status(f, action);

	assert_string_equal(jstr(p, "status"), status);
	if (id < 0) {
		assert_null(json_object_get(p, "requestId"));
		assert_int_equal(json_object_size(p), 1);
	} else {
		assert_int_equal(jint(p, "requestId"), id);
		assert_int_equal(json_object_size(p), 2);
	}
	fk_ack(f, "{}");
}

static void expect_event(struct fake *f, const char *type, const char *info)
{
	json_t *p = fk_expect_after_status(f, "SecurityEventNotification");

	assert_string_equal(jstr(p, "type"), type);
	if (info)
		assert_string_equal(jstr(p, "techInfo"), info);
	fk_ack(f, "{}");
}

static const char *get_log_payload(char *buf, size_t n, const char *type, int id, const char *log_json)
{
	snprintf(buf, n, "{\"logType\":\"%s\",\"requestId\":%d,\"log\":%s}", type, id, log_json);
	return buf;
}

/* A SignedUpdateFirmware payload with @extra fields (may be "") inside firmware, after the required. */
static char *fw_payload(int id, const char *location, const char *cert, const char *sig, const char *outer,
			const char *inner)
{
	size_t n = strlen(location) + strlen(cert) + strlen(sig) + strlen(outer) + strlen(inner) + 256;
	char *buf = malloc(n);

	assert_non_null(buf);
	snprintf(buf, n,
		 "{\"requestId\":%d%s,\"firmware\":{\"location\":\"%s\",\"retrieveDateTime\":\"" T_2026 "\","
		 "\"signingCertificate\":\"%s\",\"signature\":\"%s\"%s}}",
		 id, outer, location, cert, sig, inner);
	return buf;
}

/* ------------------------------------------------------------------ GetLog */

/* TC_079: GetLog(SecurityLog) Accepted with the file name, then Uploading and Uploaded. */
static void test_get_log_accepted(void **state)
{
	struct fake *f = *state;
	char buf[512];

	fk_online(f, 1);
	f->log_file = "security-log-7.tar.gz";
	expect_result(f, "GetLog",
		      "{\"logType\":\"SecurityLog\",\"requestId\":7,\"retries\":2,\"retryInterval\":30,"
		      "\"log\":{\"remoteLocation\":\"" LOC "\",\"oldestTimestamp\":\"" T_2026 "\","
		      "\"latestTimestamp\":\"2026-01-02T00:00:00.500+01:00\"}}",
		      "{\"status\":\"Accepted\",\"filename\":\"security-log-7.tar.gz\"}");
	assert_int_equal(f->log_calls, 1);
	assert_int_equal(f->log_req.type, OCPP_LOG_SECURITY);
	assert_int_equal(f->log_req.request_id, 7);
	assert_string_equal(f->log_req.location, LOC);
	assert_int_equal(f->log_req.oldest_ms, MS_2026);
	assert_int_equal(f->log_req.latest_ms, MS_2026 + 86400000LL - 3600000LL + 500);
	assert_int_equal(f->log_req.retries, 2);
	assert_int_equal(f->log_req.retry_interval_s, 30);
	assert_int_equal(f->log_file_len, OCPP_LOG_FILE_NAME_MAX + 1);
	fk_no_call(f); /* the gateway reports the steps */

	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 7, f->now), 0);
	assert_int_equal(journal_count(f, "LogStatusNotification"), 1);
	expect_status(f, "LogStatusNotification", "Uploading", 7);
	assert_int_equal(journal_count(f, "LogStatusNotification"), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploaded", 7, f->now), 0);
	expect_status(f, "LogStatusNotification", "Uploaded", 7);
	fk_no_call(f);
	assert_int_equal(f->n_jr, 0);

	/* the optional fields absent: 0 and -1 */
	f->log_file = NULL;
	expect_result(f, "GetLog", get_log_payload(buf, sizeof(buf), "DiagnosticsLog", 0, "{\"remoteLocation\":\"" LOC "\"}"),
		      "{\"status\":\"Accepted\"}");
	assert_int_equal(f->log_calls, 2);
	assert_int_equal(f->log_req.type, OCPP_LOG_DIAGNOSTICS);
	assert_int_equal(f->log_req.request_id, 0);
	assert_int_equal(f->log_req.oldest_ms, 0);
	assert_int_equal(f->log_req.latest_ms, 0);
	assert_int_equal(f->log_req.retries, -1);
	assert_int_equal(f->log_req.retry_interval_s, -1);
}

static void test_get_log_answers(void **state)
{
	struct fake *f = *state;
	char buf[512];
	const char *p = get_log_payload(buf, sizeof(buf), "SecurityLog", 9, "{\"remoteLocation\":\"" LOC "\"}");

	fk_online(f, 1);
	f->log_file = "a.log";
	f->log_rc = 1;
	expect_result(f, "GetLog", p, "{\"status\":\"AcceptedCanceled\",\"filename\":\"a.log\"}");
	f->log_rc = -EBUSY;
	expect_result(f, "GetLog", p, "{\"status\":\"Rejected\"}");
	assert_non_null(strstr(f->warn_last, "Rejected"));
	f->log_rc = 2; /* not in the contract: the safe answer */
	expect_result(f, "GetLog", p, "{\"status\":\"Rejected\"}");
	assert_int_equal(f->log_calls, 3);
	/* a name longer than the room it was given is cut, never overruns */
	{
		char *longname = repeat('n', 400);

		f->log_rc = 0;
		f->log_file = longname;
		{
			json_t *r = cs_call(f, "GetLog", p);

			assert_int_equal(strlen(jstr(json_array_get(r, 2), "filename")), OCPP_LOG_FILE_NAME_MAX);
		}
		free(longname);
	}
	/* a name that is not UTF-8 is left out, the upload is still Accepted */
	f->log_file = "bad\xff.log";
	expect_result(f, "GetLog", p, "{\"status\":\"Accepted\"}");
	fk_no_call(f);
}

static void test_get_log_without_callback(void **state)
{
	struct fake *f = *state;
	char buf[512];

	f->no_logfw = true;
	fk_online(f, 1);
	expect_result(f, "GetLog", get_log_payload(buf, sizeof(buf), "SecurityLog", 1, "{\"remoteLocation\":\"" LOC "\"}"),
		      "{\"status\":\"Rejected\"}");
	assert_int_equal(f->log_calls, 0);
	/* still checked first */
	expect_error(f, "GetLog", "{\"logType\":\"SecurityLog\",\"requestId\":1}", OCC);
}

static void test_get_log_malformed(void **state)
{
	struct fake *f = *state;
	char *uri512 = repeat('a', OCPP_URI_MAX - 6), *uri513 = repeat('a', OCPP_URI_MAX - 5);
	char logj[600], buf[800];
	static const struct {
		const char *payload, *code;
	} cases[] = {
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1}", OCC },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":\"" LOC "\"}", TYP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":[]}", TYP },
		{ "{\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\"}}", OCC },
		{ "{\"logType\":\"AuditLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\"}}", PRP },
		{ "{\"logType\":1,\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\"}}", TYP },
		{ "{\"logType\":\"SecurityLog\",\"log\":{\"remoteLocation\":\"" LOC "\"}}", OCC },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":\"1\",\"log\":{\"remoteLocation\":\"" LOC "\"}}", TYP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1.5,\"log\":{\"remoteLocation\":\"" LOC "\"}}", TYP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":-1,\"log\":{\"remoteLocation\":\"" LOC "\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":2147483648,\"log\":{\"remoteLocation\":\"" LOC "\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{}}", OCC },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":5}}", TYP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"logs.example.com\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"ftp://a b\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"1ftp://a\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"ftp:\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"ftp://a\\nb\"}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC
		  "\",\"oldestTimestamp\":\"yesterday\"}}",
		  PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC
		  "\",\"latestTimestamp\":0}}",
		  TYP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\",\"size\":1}}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\"},\"retries\":-1}", PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\"},\"retries\":\"3\"}", TYP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC
		  "\"},\"retryInterval\":-5}",
		  PRP },
		{ "{\"logType\":\"SecurityLog\",\"requestId\":1,\"log\":{\"remoteLocation\":\"" LOC "\"},\"when\":1}", PRP },
	};

	fk_online(f, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(f, "GetLog", cases[i].payload, cases[i].code);
	snprintf(logj, sizeof(logj), "{\"remoteLocation\":\"https:%s\"}", uri513);
	expect_error(f, "GetLog", get_log_payload(buf, sizeof(buf), "SecurityLog", 1, logj), PRP);
	assert_int_equal(f->log_calls, 0);
	/* 512 is the bound, included */
	snprintf(logj, sizeof(logj), "{\"remoteLocation\":\"https:%s\"}", uri512);
	expect_result(f, "GetLog", get_log_payload(buf, sizeof(buf), "SecurityLog", 1, logj), "{\"status\":\"Accepted\"}");
	assert_int_equal(strlen(f->log_req.location), OCPP_URI_MAX);
	free(uri512);
	free(uri513);
}

/* ------------------------------------------------------------------ LogStatusNotification */

static void test_log_status_arguments(void **state)
{
	struct fake *f = *state;
	static const char *const all[] = { "BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied",
					   "Uploaded", "UploadFailure", "Uploading" };

	fk_new(f);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 1, f->now), -EINVAL); /* not started */
	ocpp_cp_free(f->cp);
	assert_int_equal(ocpp_cp_log_status(NULL, "Uploading", 1, f->now), -EINVAL);
	fk_online(f, 1);
	assert_int_equal(ocpp_cp_log_status(f->cp, NULL, 1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_log_status(f->cp, "uploading", 1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading ", 1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Downloading", 1, f->now), -EINVAL);
	assert_int_equal(f->n_jr, 0);
	fk_no_call(f);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(ocpp_cp_log_status(f->cp, all[i], 40 + i, f->now), 0);
		expect_status(f, "LogStatusNotification", all[i], 40 + i);
	}
	/* no request: no requestId */
	assert_int_equal(ocpp_cp_log_status(f->cp, "Idle", -1, f->now), 0);
	expect_status(f, "LogStatusNotification", "Idle", -1);
	/* a result with fields the schema does not have is bad input: retried */
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploaded", 3, f->now), 0);
	fk_expect(f, "LogStatusNotification");
	fk_ack(f, "{\"status\":\"Accepted\"}");
	assert_int_equal(journal_count(f, "LogStatusNotification"), 1);
	fk_advance(f, 60000);
	expect_status(f, "LogStatusNotification", "Uploaded", 3);
	assert_int_equal(f->n_jr, 0);
}

/* Every status of a sequence, in order, though the link is down and the process dies meanwhile. */
static void test_log_status_outage_and_restart(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	fk_offline(f);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 5, f->now), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "UploadFailure", 5, f->now), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 6, f->now), 0);
	assert_int_equal(journal_count(f, "LogStatusNotification"), 3);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 3);
	fk_advance(f, 5000);
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploaded", 6, f->now), 0);
	fk_connect_boot(f);
	expect_status(f, "LogStatusNotification", "Uploading", 5);
	expect_status(f, "LogStatusNotification", "UploadFailure", 5);
	expect_status(f, "LogStatusNotification", "Uploading", 6);
	expect_status(f, "LogStatusNotification", "Uploaded", 6);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(f->n_jr, 0);
}

/* No status is folded into a later one while they wait behind a CALL in flight; only an exact
 * repeat of the last one waiting is; 64 waiting is the bound. */
static void test_log_status_not_coalesced(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 1, f->now), 0);
	fk_expect(f, "LogStatusNotification"); /* in flight, unanswered */
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 1, f->now), 0); /* not folded into the one in flight */
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploaded", 1, f->now), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploaded", 1, f->now), 0); /* folded */
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 2, f->now), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploaded", 2, f->now), 0);
	assert_int_equal(journal_count(f, "LogStatusNotification"), 5);
	fk_ack(f, "{}");
	expect_status(f, "LogStatusNotification", "Uploading", 1);
	expect_status(f, "LogStatusNotification", "Uploaded", 1);
	expect_status(f, "LogStatusNotification", "Uploading", 2);
	expect_status(f, "LogStatusNotification", "Uploaded", 2);
	fk_no_call(f);

	fk_offline(f);
	for (int i = 0; i < 64; i++)
		assert_int_equal(ocpp_cp_log_status(f->cp, i % 2 ? "Uploaded" : "Uploading", i, f->now), 0);
	assert_int_equal(ocpp_cp_log_status(f->cp, "Idle", 99, f->now), -ENOSPC);
	assert_int_equal(journal_count(f, "LogStatusNotification"), 64);
	/* firmware statuses have their own bound */
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "Downloading", 1, f->now), 0);
}

/* The gateway may report Uploading from inside env.get_log: it follows the GetLog's CALLRESULT. */
static void test_log_status_from_callback(void **state)
{
	struct fake *f = *state;
	char buf[512];
	size_t ans;

	fk_online(f, 1);
	f->log_status_cb = "Uploading";
	f->log_status_cb_rc = 1;
	expect_result(f, "GetLog", get_log_payload(buf, sizeof(buf), "SecurityLog", 12, "{\"remoteLocation\":\"" LOC "\"}"),
		      "{\"status\":\"Accepted\"}");
	assert_int_equal(f->log_status_cb_rc, 0);
	ans = last_answer(f);
	expect_status(f, "LogStatusNotification", "Uploading", 12);
	assert_true(cur_index(f) > ans);
}

/* ExtendedTriggerMessage(LogStatusNotification): Uploading with its requestId while one runs. */
static void test_log_trigger(void **state)
{
	struct fake *f = *state;
	static const char *const ends[] = { "Uploaded", "UploadFailure", "BadMessage", "PermissionDenied",
					    "NotSupportedOperation", "Idle" };
	const char *trg = "{\"requestedMessage\":\"LogStatusNotification\"}";

	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
	expect_status(f, "LogStatusNotification", "Idle", -1);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 20 + (int)i, f->now), 0);
		expect_status(f, "LogStatusNotification", "Uploading", 20 + (int)i);
		assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
		expect_status(f, "LogStatusNotification", "Uploading", 20 + (int)i);
		assert_int_equal(f->n_jr, 0); /* a snapshot is not journalled */
		assert_int_equal(ocpp_cp_log_status(f->cp, ends[i], 20 + (int)i, f->now), 0);
		expect_status(f, "LogStatusNotification", ends[i], 20 + (int)i);
		assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
		expect_status(f, "LogStatusNotification", "Idle", -1);
	}
	/* a snapshot is lost with the link; the steps are not */
	assert_int_equal(ocpp_cp_log_status(f->cp, "Uploading", 30, f->now), 0);
	fk_expect(f, "LogStatusNotification");
	assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
	fk_offline(f);
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
	expect_status(f, "LogStatusNotification", "Uploading", 30); /* the one in flight, again */
	fk_settle(f);
	fk_no_call(f);
}

/* ------------------------------------------------------------------ SignedUpdateFirmware */

/* TC_080: the request as the gateway gets it, then every step in order across the reboot. */
static void test_signed_fw_accepted(void **state)
{
	struct fake *f = *state;
	static const char *const steps[] = { "DownloadScheduled", "Downloading", "Downloaded", "SignatureVerified",
					     "InstallScheduled", "Installing", "InstallRebooting" };
	char *cert = repeat('C', OCPP_FW_SIGNING_CERT_MAX), *sig = repeat('S', OCPP_FW_SIGNATURE_MAX);
	char *p = fw_payload(42, FW_LOC, cert, sig, ",\"retries\":3,\"retryInterval\":60",
			     ",\"installDateTime\":\"2026-01-01T02:00:00.000Z\"");

	fk_online(f, 1);
	expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Accepted\"}");
	assert_int_equal(f->fw_calls, 1);
	assert_int_equal(f->fw_req.request_id, 42);
	assert_string_equal(f->fw_req.location, FW_LOC);
	assert_int_equal(f->fw_req.retrieve_ms, MS_2026);
	assert_int_equal(f->fw_req.install_ms, MS_2026 + 7200000LL);
	assert_int_equal(f->fw_req.retries, 3);
	assert_int_equal(f->fw_req.retry_interval_s, 60);
	assert_int_equal(f->fw_cert_len, OCPP_FW_SIGNING_CERT_MAX);
	assert_int_equal(f->fw_sig_len, OCPP_FW_SIGNATURE_MAX);
	fk_no_call(f);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		assert_int_equal(ocpp_cp_firmware_status(f->cp, steps[i], 42, f->now), 0);
	/* the process restarts before any was acknowledged */
	assert_int_equal(journal_count(f, "SignedFirmwareStatusNotification"), 7);
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "Installed", 42, f->now), 0);
	fk_connect_boot(f);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		expect_status(f, "SignedFirmwareStatusNotification", steps[i], 42);
	expect_status(f, "SignedFirmwareStatusNotification", "Installed", 42);
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(f->n_jr, 0);
	free(p);

	/* optional fields absent */
	p = fw_payload(0, FW_LOC, "", "", "", "");
	expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Accepted\"}");
	assert_int_equal(f->fw_req.request_id, 0);
	assert_int_equal(f->fw_req.install_ms, 0);
	assert_int_equal(f->fw_req.retries, -1);
	assert_int_equal(f->fw_req.retry_interval_s, -1);
	assert_int_equal(f->fw_cert_len, 0);
	free(p);
	free(cert);
	free(sig);
}

static void test_signed_fw_answers(void **state)
{
	struct fake *f = *state;
	char *p = fw_payload(8, FW_LOC, "-----BEGIN CERTIFICATE-----", "c2ln", "", "");
	static const char *const names[] = { "Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate",
					     "RevokedCertificate" };
	char want[64];

	fk_online(f, 1);
	for (int rc = 0; rc < 5; rc++) {
		f->fw_rc = rc;
		snprintf(want, sizeof(want), "{\"status\":\"%s\"}", names[rc]);
		expect_result(f, "SignedUpdateFirmware", p, want);
		if (rc == OCPP_FW_INVALID_CERTIFICATE) {
			/* not critical: kept in memory, not journalled */
			assert_int_equal(f->n_jr, 0);
			expect_event(f, "InvalidFirmwareSigningCertificate", "SignedUpdateFirmware requestId 8");
		}
		fk_settle(f);
		fk_no_call(f);
	}
	f->fw_rc = 5; /* outside the enum */
	expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Rejected\"}");
	f->fw_rc = -EIO;
	expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Rejected\"}");
	fk_no_call(f);
	assert_int_equal(f->fw_calls, 7);
	free(p);
}

static void test_signed_fw_without_callback(void **state)
{
	struct fake *f = *state;
	char *p = fw_payload(8, FW_LOC, "x", "y", "", "");

	f->no_logfw = true;
	fk_online(f, 1);
	expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Rejected\"}");
	assert_int_equal(f->fw_calls, 0);
	fk_no_call(f);
	free(p);
}

static void test_signed_fw_malformed(void **state)
{
	struct fake *f = *state;
	char *cert = repeat('C', OCPP_FW_SIGNING_CERT_MAX + 1), *sig = repeat('S', OCPP_FW_SIGNATURE_MAX + 1);
	char *loc = repeat('l', OCPP_URI_MAX - 4), loc_uri[OCPP_URI_MAX + 8]; /* with "http:": 513 */
	static const struct {
		const char *payload, *code;
	} cases[] = {
		{ "{\"requestId\":1}", OCC },
		{ "{\"requestId\":1,\"firmware\":\"x\"}", TYP },
		{ "{\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  OCC },
		{ "{\"requestId\":true,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  TYP },
		{ "{\"requestId\":-2,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  PRP },
		{ "{\"requestId\":1,\"firmware\":{\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  OCC },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"fw.bin\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  PRP },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  OCC },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC
		  "\",\"retrieveDateTime\":\"soon\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  PRP },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"installDateTime\":17,\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  TYP },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signature\":\"s\"}}",
		  OCC },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":[],\"signature\":\"s\"}}",
		  TYP },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\"}}",
		  OCC },
		{ "{\"requestId\":1,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\",\"hash\":\"x\"}}",
		  PRP },
		{ "{\"requestId\":1,\"retries\":-1,\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  PRP },
		{ "{\"requestId\":1,\"retryInterval\":1.5,\"firmware\":{\"location\":\"" FW_LOC
		  "\",\"retrieveDateTime\":\"" T_2026 "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  TYP },
		{ "{\"requestId\":1,\"version\":\"1\",\"firmware\":{\"location\":\"" FW_LOC "\",\"retrieveDateTime\":\"" T_2026
		  "\",\"signingCertificate\":\"c\",\"signature\":\"s\"}}",
		  PRP },
	};
	char *p;

	fk_online(f, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(f, "SignedUpdateFirmware", cases[i].payload, cases[i].code);
	p = fw_payload(1, FW_LOC, cert, "s", "", "");
	expect_error(f, "SignedUpdateFirmware", p, PRP);
	free(p);
	p = fw_payload(1, FW_LOC, "c", sig, "", "");
	expect_error(f, "SignedUpdateFirmware", p, PRP);
	free(p);
	snprintf(loc_uri, sizeof(loc_uri), "http:%s", loc);
	p = fw_payload(1, loc_uri, "c", "s", "", "");
	expect_error(f, "SignedUpdateFirmware", p, PRP);
	free(p);
	assert_int_equal(f->fw_calls, 0);
	snprintf(loc_uri, sizeof(loc_uri), "http:%s", loc + 1); /* 512: the bound, included */
	p = fw_payload(1, loc_uri, "c", "s", "", "");
	expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Accepted\"}");
	assert_int_equal(strlen(f->fw_req.location), OCPP_URI_MAX);
	free(p);
	free(cert);
	free(sig);
	free(loc);
}

/* ------------------------------------------------------------------ SignedFirmwareStatusNotification */

static void test_fw_status_arguments(void **state)
{
	struct fake *f = *state;
	static const char *const all[] = { "Downloaded",	 "DownloadFailed",	  "Downloading",
					   "DownloadScheduled", "DownloadPaused",	  "Idle",
					   "InstallationFailed", "Installing",		  "Installed",
					   "InstallRebooting",	 "InstallScheduled",	  "InstallVerificationFailed",
					   "SignatureVerified" };

	fk_online(f, 1);
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "Uploading", 1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "installed", 1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_firmware_status(f->cp, NULL, 1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_firmware_status(NULL, "Installed", 1, f->now), -EINVAL);
	assert_int_equal(f->n_jr, 0);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(ocpp_cp_firmware_status(f->cp, all[i], (int)i, f->now), 0);
		expect_status(f, "SignedFirmwareStatusNotification", all[i], (int)i);
	}
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "Idle", -7, f->now), 0);
	expect_status(f, "SignedFirmwareStatusNotification", "Idle", -1);
	fk_settle(f);
	fk_no_call(f); /* none of these raised an event */
}

/* TC_081: InvalidSignature, then the event InvalidFirmwareSignature, both journalled: an outage and a
 * SIGKILL lose neither. */
static void test_invalid_signature_event(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	f->fw_status_cb = "DownloadScheduled";
	{
		char *p = fw_payload(77, FW_LOC, "c", "s", "", "");

		expect_result(f, "SignedUpdateFirmware", p, "{\"status\":\"Accepted\"}");
		free(p);
	}
	assert_int_equal(f->fw_status_cb_rc, 0);
	expect_status(f, "SignedFirmwareStatusNotification", "DownloadScheduled", 77);
	fk_offline(f);
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "Downloaded", 77, f->now), 0);
	assert_int_equal(ocpp_cp_firmware_status(f->cp, "InvalidSignature", 77, f->now), 0);
	assert_int_equal(journal_count(f, "SignedFirmwareStatusNotification"), 2);
	assert_int_equal(journal_count(f, "InvalidFirmwareSignature"), 1);
	assert_non_null(strstr(f->warn_last, "InvalidFirmwareSignature"));
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_connect_boot(f);
	expect_status(f, "SignedFirmwareStatusNotification", "Downloaded", 77);
	expect_status(f, "SignedFirmwareStatusNotification", "InvalidSignature", 77);
	expect_event(f, "InvalidFirmwareSignature", "SignedUpdateFirmware requestId 77");
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(f->n_jr, 0);
	/* the gateway reporting the event itself: journalled too */
	assert_int_equal(ocpp_cp_security_event(f->cp, "InvalidFirmwareSignature", NULL, f->now), 0);
	assert_int_equal(journal_count(f, "InvalidFirmwareSignature"), 1);
	expect_event(f, "InvalidFirmwareSignature", NULL);
}

/* ExtendedTriggerMessage(FirmwareStatusNotification): the last step while an update goes on. */
static void test_fw_trigger(void **state)
{
	struct fake *f = *state;
	static const char *const going[] = { "Downloaded",	   "Downloading",	"DownloadScheduled",
					     "DownloadPaused",	   "Installing",	"InstallRebooting",
					     "InstallScheduled",   "SignatureVerified" };
	static const char *const ends[] = { "DownloadFailed", "Idle", "InstallationFailed", "Installed",
					    "InstallVerificationFailed", "InvalidSignature" };
	const char *trg = "{\"requestedMessage\":\"FirmwareStatusNotification\"}";

	fk_online(f, 1);
	assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
	expect_status(f, "SignedFirmwareStatusNotification", "Idle", -1);
	for (size_t i = 0; i < sizeof(going) / sizeof(going[0]); i++) {
		assert_int_equal(ocpp_cp_firmware_status(f->cp, going[i], 3, f->now), 0);
		expect_status(f, "SignedFirmwareStatusNotification", going[i], 3);
		assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
		expect_status(f, "SignedFirmwareStatusNotification", going[i], 3);
	}
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		assert_int_equal(ocpp_cp_firmware_status(f->cp, "Downloading", 4, f->now), 0);
		expect_status(f, "SignedFirmwareStatusNotification", "Downloading", 4);
		assert_int_equal(ocpp_cp_firmware_status(f->cp, ends[i], 4, f->now), 0);
		expect_status(f, "SignedFirmwareStatusNotification", ends[i], 4);
		if (!strcmp(ends[i], "InvalidSignature"))
			expect_event(f, "InvalidFirmwareSignature", NULL);
		assert_string_equal(fk_cs_status(f, "ExtendedTriggerMessage", trg), "Accepted");
		expect_status(f, "SignedFirmwareStatusNotification", "Idle", -1);
	}
	/* the plain TriggerMessage still answers the unsigned FirmwareStatusNotification */
	assert_string_equal(fk_cs_status(f, "TriggerMessage", trg), "Accepted");
	fk_expect(f, "FirmwareStatusNotification");
	fk_ack(f, "{}");
	fk_settle(f);
	fk_no_call(f);
}

/* ------------------------------------------------------------------ SecurityProfile 3 */

static void test_sp3_accepted(void **state)
{
	struct fake *f = *state;

	f->p.max_security_profile = 3;
	fk_online(f, 1);
	/* SP 3 authenticates with the certificate: no AuthorizationKey needed, straight from 0 */
	assert_string_equal(change(f, "SecurityProfile", "3"), "Accepted");
	assert_int_equal(f->ready_calls, 1);
	assert_int_equal(f->ready_profile, 3);
	assert_int_equal(profile(f), 3);
	assert_int_equal(f->n_changed, 1);
	assert_int_equal(f->changed[0], OCPP_KEY_SECURITY_PROFILE);
	assert_non_null(strstr(f->files[0].text, "\"SecurityProfile\":\"3\""));
	expect_event(f, "ReconfigurationOfSecurityParameters", "SecurityProfile");
	/* never lowered, nor set again */
	assert_string_equal(change(f, "SecurityProfile", "3"), "Rejected");
	assert_string_equal(change(f, "SecurityProfile", "2"), "Rejected");
	assert_non_null(strstr(f->warn_last, "not above the current 3"));
	assert_int_equal(f->ready_calls, 1);
	assert_int_equal(f->n_changed, 1);
}

static void test_sp_steps_asked(void **state)
{
	struct fake *f = *state;

	f->p.max_security_profile = 3;
	fk_online(f, 1);
	/* 1 and 2 need the key, checked before the gateway is asked */
	assert_string_equal(change(f, "SecurityProfile", "2"), "Rejected");
	assert_non_null(strstr(f->warn_last, "no AuthorizationKey"));
	assert_int_equal(f->ready_calls, 0);
	assert_string_equal(change(f, "AuthorizationKey", "0123456789abcdef0123"), "Accepted");
	assert_string_equal(change(f, "SecurityProfile", "1"), "Accepted");
	assert_int_equal(f->ready_profile, 1);
	/* the gateway says no (no CSMS root, say) */
	f->ready_rc = -ENOENT;
	f->ready_why = "no CentralSystemRootCertificate installed\n";
	assert_string_equal(change(f, "SecurityProfile", "2"), "Rejected");
	assert_int_equal(f->ready_profile, 2);
	assert_non_null(strstr(f->warn_last, "SecurityProfile 2 Rejected: no CentralSystemRootCertificate installed?"));
	assert_null(strstr(f->warn_last, "0123456789abcdef0123"));
	f->ready_why = NULL;
	assert_string_equal(change(f, "SecurityProfile", "3"), "Rejected");
	assert_non_null(strstr(f->warn_last, "not ready"));
	assert_int_equal(profile(f), 1);
	f->ready_rc = 0;
	assert_string_equal(change(f, "SecurityProfile", "2"), "Accepted");
	assert_string_equal(change(f, "SecurityProfile", "3"), "Accepted");
	assert_int_equal(profile(f), 3);
	assert_int_equal(f->ready_calls, 5);
	/* values that are no profile are the key table's to refuse, without asking */
	assert_string_equal(change(f, "SecurityProfile", "4"), "Rejected");
	assert_string_equal(change(f, "SecurityProfile", "x"), "Rejected");
	assert_int_equal(f->ready_calls, 5);
}

static void test_sp3_refused(void **state)
{
	struct fake *f = *state;

	/* without env.security_ready: 3 never, 1 and 2 as before */
	f->no_ready = true;
	f->p.max_security_profile = 3;
	fk_online(f, 1);
	assert_string_equal(change(f, "SecurityProfile", "3"), "Rejected");
	assert_non_null(strstr(f->warn_last, "charge point certificate"));
	assert_string_equal(change(f, "AuthorizationKey", "0123456789abcdef0123"), "Accepted");
	assert_string_equal(change(f, "SecurityProfile", "2"), "Accepted");
	assert_string_equal(change(f, "SecurityProfile", "3"), "Rejected");
	assert_int_equal(profile(f), 2);
	ocpp_cp_free(f->cp);
	f->cp = NULL;
	for (size_t i = 0; i < f->n_fr; i++)
		f->fr[i].seen = true; /* what the first charge point sent */

	/* the link cannot do it (ws://): not even asked */
	f->no_ready = false;
	f->p.max_security_profile = 2;
	fk_online(f, 1);
	assert_int_equal(profile(f), 2); /* the saved keys came back */
	assert_string_equal(change(f, "SecurityProfile", "3"), "Rejected");
	assert_non_null(strstr(f->warn_last, "at most 2"));
	assert_int_equal(f->ready_calls, 0);
}

/* The gateway's fallback after a failed first connection: down, persisted, no config_changed. */
static void test_sp_fallback(void **state)
{
	struct fake *f = *state;
	int writes;

	f->p.max_security_profile = 3;
	fk_online(f, 1);
	assert_string_equal(change(f, "AuthorizationKey", "0123456789abcdef0123"), "Accepted");
	assert_string_equal(change(f, "SecurityProfile", "2"), "Accepted");
	fk_settle(f);
	while (fk_next(f)) {
		fk_expect(f, "SecurityEventNotification");
		fk_ack(f, "{}");
	}
	assert_string_equal(change(f, "SecurityProfile", "3"), "Accepted");
	expect_event(f, "ReconfigurationOfSecurityParameters", "SecurityProfile");
	assert_int_equal(f->n_changed, 3);
	writes = f->files[0].writes;

	assert_int_equal(ocpp_cp_security_profile_fallback(f->cp, 3, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_security_profile_fallback(f->cp, 4, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_security_profile_fallback(f->cp, -1, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_security_profile_fallback(NULL, 1, f->now), -EINVAL);
	assert_int_equal(profile(f), 3);
	assert_int_equal(f->files[0].writes, writes);

	assert_int_equal(ocpp_cp_security_profile_fallback(f->cp, 2, f->now), 0);
	assert_int_equal(profile(f), 2);
	assert_int_equal(f->files[0].writes, writes + 1);
	assert_true(f->files[0].secret);
	assert_non_null(strstr(f->files[0].text, "\"SecurityProfile\":\"2\""));
	assert_int_equal(f->n_changed, 3); /* the gateway reconnects by itself */
	expect_event(f, "ReconfigurationOfSecurityParameters", "SecurityProfile back from 3 to 2: no connection with 3");
	/* it is what a restart reads back */
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	assert_int_equal(profile(f), 2);
	/* the central system may try again */
	fk_connect_boot(f);
	assert_string_equal(change(f, "SecurityProfile", "3"), "Accepted");
	assert_int_equal(ocpp_cp_security_profile_fallback(f->cp, 0, f->now), 0);
	assert_int_equal(profile(f), 0);
}

/* ------------------------------------------------------------------ the URI rule */

static void test_uri_rule(void **state)
{
	static const char *const good[] = { "ftp://a", "https://h.example/p?q=1#f", "sftp+x.y-z:rest", "urn:isbn:1",
					    "http://[::1]:80/", "file:/x", "https://ex\xc3\xa4mple.de/" };
	static const char *const bad[] = { "",	       ":x",	   "ftp:",     "ftp", "1ab:x", "a b:x",
					   "ftp://a b", "ftp://\t", "ftp://a\x7f", "_x:y", NULL };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ocpp_uri_ok(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ocpp_uri_ok(bad[i]))
			fail_msg("%s taken", bad[i] ? bad[i] : "NULL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_log_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_log_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_log_without_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_log_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_status_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_status_outage_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_status_not_coalesced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_status_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_trigger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed_fw_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed_fw_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed_fw_without_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed_fw_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_status_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_signature_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_trigger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sp3_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sp_steps_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sp3_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sp_fallback, setup, teardown),
		cmocka_unit_test(test_uri_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
