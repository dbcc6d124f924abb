/*
 * Tests of the OCPP 1.6 security whitepaper parts of the charge point core: the keys CpoName,
 * CertificateSignedMaxChainSize, CertificateStoreMaxLength and AdditionalRootCertificateCheck through
 * GetConfiguration and ChangeConfiguration; SecurityEventNotification (critical events journalled,
 * surviving a SIGKILL and an outage and sent in order with the transaction messages; the others
 * bounded in memory; the events the core raises itself); and ExtendedTriggerMessage for every
 * requestedMessage with its connector, registration and CpoName rules and its CALLERRORs. Runs the real
 * ocpp_cp in the shared fake environment (ocpp_fake.h), time driven by hand.
 */
#include "ocpp_cs.h"

#define FRM "FormationViolation"

/* ------------------------------------------------------------------ helpers */

static void fk_reconnect(struct fake *f)
{
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
}

/* expect_error(), and the CALLERROR has all five of its elements. */
static void expect_callerror(struct fake *f, const char *action, const char *payload, const char *code)
{
	assert_int_equal(json_array_size(expect_error(f, action, payload, code)), 5);
}

static const char *change(struct fake *f, const char *key, const char *value_json)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "{\"key\":\"%s\",\"value\":%s}", key, value_json);
	return fk_cs_status(f, "ChangeConfiguration", buf);
}

/* The value GetConfiguration reports for @key. */
static const char *get_value(struct fake *f, const char *key)
{
	char buf[256];
	json_t *r, *kv;

	snprintf(buf, sizeof(buf), "{\"key\":[\"%s\"]}", key);
	r = fk_cs(f, "GetConfiguration", buf);
	kv = json_array_get(json_object_get(json_array_get(r, 2), "configurationKey"), 0);
	assert_non_null(kv);
	return jstr(kv, "value");
}

/* The next CALL (statuses acknowledged on the way) is a SecurityEventNotification of @type. */
static json_t *sec_expect(struct fake *f, const char *type)
{
	json_t *p = fk_expect_after_status(f, "SecurityEventNotification");

	assert_string_equal(jstr(p, "type"), type);
	return p;
}

static void assert_time(const json_t *p, int64_t wall_ms)
{
	char ts[OCPP_TIME_LEN + 1];

	fmt_time(wall_ms, ts);
	assert_string_equal(jstr(p, "timestamp"), ts);
}

static int event(struct fake *f, const char *type, const char *info)
{
	return ocpp_cp_security_event(f->cp, type, info, f->now);
}

/* ExtendedTriggerMessage with @payload: its status, and the index of the answer frame. */
static const char *ext_trigger(struct fake *f, const char *payload, size_t *ans)
{
	const char *st = fk_cs_status(f, "ExtendedTriggerMessage", payload);
	char id[32];

	snprintf(id, sizeof(id), "cs-%d", f->cs_id);
	if (ans)
		*ans = answer_index(f, id);
	return st;
}

/* Answer every CALL as it comes (StatusNotifications too) until none is pending, and return the
 * actions in the order sent, a security event as "SEC:<type>", statuses left out. */
static int drain(struct fake *f, char out[][64], int max)
{
	int n = 0;
	struct frm *fr;

	while ((fr = fk_next(f)) != NULL) {
		const char *a = frame_action(fr);
		json_t *p = fk_expect(f, a);

		if (!strcmp(a, "StopTransaction"))
			fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
		else if (!strcmp(a, "Heartbeat"))
			fk_ack_time(f);
		else
			fk_ack(f, "{}");
		if (!strcmp(a, "StatusNotification"))
			continue;
		assert_true(n < max);
		if (!strcmp(a, "SecurityEventNotification"))
			snprintf(out[n], 64, "SEC:%s", jstr(p, "type"));
		else
			snprintf(out[n], 64, "%s", a);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ configuration keys */

static void test_keys_get_configuration(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	expect_result(f, "GetConfiguration",
		      "{\"key\":[\"CpoName\",\"CertificateSignedMaxChainSize\",\"CertificateStoreMaxLength\","
		      "\"AdditionalRootCertificateCheck\",\"SecurityProfile\"]}",
		      "{\"configurationKey\":["
		      "{\"key\":\"CpoName\",\"readonly\":false,\"value\":\"\"},"
		      "{\"key\":\"CertificateSignedMaxChainSize\",\"readonly\":true,\"value\":\"10000\"},"
		      "{\"key\":\"CertificateStoreMaxLength\",\"readonly\":true,\"value\":\"20\"},"
		      "{\"key\":\"AdditionalRootCertificateCheck\",\"readonly\":true,\"value\":\"false\"},"
		      "{\"key\":\"SecurityProfile\",\"readonly\":false,\"value\":\"0\"}]}");
	/* CiString keys: any case finds them, the answer names them as the table does */
	expect_result(f, "GetConfiguration", "{\"key\":[\"cponame\"]}",
		      "{\"configurationKey\":[{\"key\":\"CpoName\",\"readonly\":false,\"value\":\"\"}]}");
}

/* The gateway's config file may set the read-only keys (its certificate store's capacities); values
 * that break a key's rule are ignored there. */
static void test_keys_initial_values(void **state)
{
	struct fake *f = *state;

	fk_key(f, "CertificateStoreMaxLength", "5");
	fk_key(f, "CertificateSignedMaxChainSize", "20000"); /* above the whitepaper's 10 000 */
	fk_key(f, "AdditionalRootCertificateCheck", "maybe");
	fk_key(f, "CpoName", "Initial CPO");
	fk_online(f, 1);
	assert_string_equal(get_value(f, "CertificateStoreMaxLength"), "5");
	assert_string_equal(get_value(f, "CertificateSignedMaxChainSize"), "10000");
	assert_string_equal(get_value(f, "AdditionalRootCertificateCheck"), "false");
	assert_string_equal(get_value(f, "CpoName"), "Initial CPO");
	assert_int_equal(ocpp_config_int(ocpp_cp_config(f->cp), OCPP_KEY_CERTIFICATE_STORE_MAX_LENGTH), 5);
	/* not a change: nothing persisted, no event */
	assert_null(f->files[0].text);
	fk_no_call(f);
}

static void test_cpo_name_change(void **state)
{
	struct fake *f = *state;
	char v64[80], v65[96];
	json_t *p;

	fk_online(f, 1);
	assert_string_equal(change(f, "CpoName", "\"Example CPO\""), "Accepted");
	assert_string_equal(get_value(f, "CpoName"), "Example CPO");
	/* a security parameter changed: reported, naming the key */
	p = sec_expect(f, "ReconfigurationOfSecurityParameters");
	assert_string_equal(jstr(p, "techInfo"), "CpoName");
	assert_time(p, f->now.wall_ms);
	fk_ack(f, "{}");
	assert_int_equal(f->n_jr, 0); /* not a critical event: never journalled */
	/* persisted (in the 0600 config file) and read back after a restart */
	assert_non_null(strstr(f->files[0].text, "\"CpoName\":\"Example CPO\""));
	assert_true(f->files[0].secret);
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_connect_boot(f);
	fk_settle(f);
	assert_string_equal(get_value(f, "CpoName"), "Example CPO");

	/* a name in a certificate: UTF-8 and ':' are fine, up to X.520's 64 */
	assert_string_equal(change(f, "CpoName", "\"Stadtwerke M\\u00fcnchen: Laden\""), "Accepted");
	assert_string_equal(get_value(f, "CpoName"), "Stadtwerke M\xc3\xbcnchen: Laden");
	memset(v64, 'a', 64);
	v64[64] = '\0';
	snprintf(v65, sizeof(v65), "\"%sb\"", v64);
	assert_string_equal(change(f, "CpoName", v65), "Rejected");
	snprintf(v65, sizeof(v65), "\"%s\"", v64);
	assert_string_equal(change(f, "CpoName", v65), "Accepted");
	assert_string_equal(get_value(f, "CpoName"), v64);
	/* empty, control characters (C0, DEL, C1): Rejected, the value kept */
	assert_string_equal(change(f, "CpoName", "\"\""), "Rejected");
	assert_string_equal(change(f, "CpoName", "\"a\\u0001b\""), "Rejected");
	assert_string_equal(change(f, "CpoName", "\"a\\nb\""), "Rejected");
	assert_string_equal(change(f, "CpoName", "\"a\\u007fb\""), "Rejected");
	assert_string_equal(change(f, "CpoName", "\"a\\u0085b\""), "Rejected");
	assert_string_equal(get_value(f, "CpoName"), v64);
	/* a value that is not a string is a malformed request */
	expect_callerror(f, "ChangeConfiguration", "{\"key\":\"CpoName\",\"value\":5}", TYP);
	expect_callerror(f, "ChangeConfiguration", "{\"key\":\"CpoName\"}", OCC);
	/* since the restart two accepted changes, two events; the rejected ones none */
	for (int i = 0; i < 2; i++) {
		p = sec_expect(f, "ReconfigurationOfSecurityParameters");
		assert_string_equal(jstr(p, "techInfo"), "CpoName");
		fk_ack(f, "{}");
	}
	fk_no_call(f);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_events, 2);
}

/* Text that cannot come through JSON can come from the gateway's own config: the UTF-8 check. */
static void test_cpo_name_utf8_rule(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong, three bytes */
		"\xed\xa0\x80",     /* a UTF-16 surrogate */
		"\xe2\x82",         /* cut short */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xff",
		"ab\x80",
		"\xc2\x9f", /* C1 control */
	};
	struct ocpp_config *c = ocpp_config_new();

	(void)state;
	assert_non_null(c);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_CPO_NAME, "\xf0\x9f\x94\x8c EV \xe2\x82\xac"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ocpp_config_set(c, OCPP_KEY_CPO_NAME, bad[i]), -EINVAL);
		assert_int_equal(ocpp_config_change(c, "CpoName", bad[i], NULL), OCPP_CFG_REJECTED);
	}
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_CPO_NAME), "\xf0\x9f\x94\x8c EV \xe2\x82\xac");
	/* the gateway may unset it; the central system may not */
	assert_int_equal(ocpp_config_change(c, "CpoName", "", NULL), OCPP_CFG_REJECTED);
	assert_int_equal(ocpp_config_set(c, OCPP_KEY_CPO_NAME, ""), 0);
	assert_string_equal(ocpp_config_str(c, OCPP_KEY_CPO_NAME), "");
	/* the password rule is unchanged: ':' still refused there */
	assert_int_equal(ocpp_config_change(c, "AuthorizationKey", "0123456789abcdef:x", NULL), OCPP_CFG_REJECTED);
	ocpp_config_free(c);
}

static void test_read_only_keys(void **state)
{
	static const char *const ro[][2] = {
		{ "CertificateSignedMaxChainSize", "5000" }, { "CertificateSignedMaxChainSize", "10000" },
		{ "CertificateSignedMaxChainSize", "x" },     { "CertificateStoreMaxLength", "3" },
		{ "CertificateStoreMaxLength", "-1" },        { "AdditionalRootCertificateCheck", "true" },
		{ "AdditionalRootCertificateCheck", "false" },
	};
	struct fake *f = *state;
	char v[32];

	fk_online(f, 1);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		snprintf(v, sizeof(v), "\"%s\"", ro[i][1]);
		if (strcmp(change(f, ro[i][0], v), "Rejected") != 0)
			fail_msg("%s = %s not Rejected", ro[i][0], ro[i][1]);
	}
	assert_string_equal(get_value(f, "CertificateSignedMaxChainSize"), "10000");
	assert_string_equal(get_value(f, "CertificateStoreMaxLength"), "20");
	assert_string_equal(get_value(f, "AdditionalRootCertificateCheck"), "false");
	assert_int_equal(f->n_changed, 0);
	assert_null(f->files[0].text);
	fk_no_call(f);
}

/* SecurityProfile and AuthorizationKey changes are reported too; the key's value never leaves. */
static void test_reconfiguration_events(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 1);
	assert_string_equal(change(f, "SecurityProfile", "\"1\""), "Rejected"); /* no key yet */
	fk_no_call(f);
	assert_string_equal(change(f, "AuthorizationKey", "\"0123456789abcdefSECRET\""), "Accepted");
	assert_string_equal(change(f, "SecurityProfile", "\"1\""), "Accepted");
	p = sec_expect(f, "ReconfigurationOfSecurityParameters");
	assert_string_equal(jstr(p, "techInfo"), "AuthorizationKey");
	fk_ack(f, "{}");
	p = sec_expect(f, "ReconfigurationOfSecurityParameters");
	assert_string_equal(jstr(p, "techInfo"), "SecurityProfile");
	fk_ack(f, "{}");
	fk_no_call(f);
	for (size_t i = 0; i < f->n_fr; i++) {
		char *t = json_dumps(f->fr[i].j, JSON_COMPACT);

		assert_null(strstr(t, "SECRET"));
		free(t);
	}
	/* other keys are not security parameters */
	assert_string_equal(change(f, "HeartbeatInterval", "\"600\""), "Accepted");
	fk_no_call(f);
}

/* ------------------------------------------------------------------ SecurityEventNotification */

static void test_event_sent_and_acknowledged(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 1);
	/* not critical: sent now, never journalled */
	assert_int_equal(event(f, "InvalidCentralSystemCertificate", "certificate verify failed"), 0);
	p = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(p, "type"), "InvalidCentralSystemCertificate");
	assert_string_equal(jstr(p, "techInfo"), "certificate verify failed");
	assert_time(p, f->now.wall_ms);
	assert_int_equal(json_object_size(p), 3);
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 1);
	fk_ack(f, "{}");
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 0);

	/* critical: in the journal until its CALLRESULT arrives */
	fk_advance(f, 2500);
	assert_int_equal(event(f, "TamperDetectionActivated", NULL), 0);
	p = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(p, "type"), "TamperDetectionActivated");
	assert_null(json_object_get(p, "techInfo"));
	assert_time(p, f->now.wall_ms);
	assert_int_equal(journal_count(f, "\"a\":\"SecurityEventNotification\""), 1);
	assert_int_equal(journal_count(f, "TamperDetectionActivated"), 1);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 1);
	/* a result that does not parse is not a delivery: retried after TransactionMessageRetryInterval */
	fk_ack(f, "{\"unexpected\":1}");
	assert_int_equal(f->n_jr, 1);
	fk_advance(f, 59000);
	fk_no_call(f);
	fk_advance(f, 1000);
	p = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(p, "type"), "TamperDetectionActivated");
	fk_ack(f, "{}");
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_events, 2);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_dropped, 0);
}

static void test_event_arguments(void **state)
{
	struct fake *f = *state;
	char type51[52], info[400];
	json_t *p;

	fk_new(f);
	assert_int_equal(event(f, "StartupOfTheDevice", NULL), -EINVAL); /* not started */
	ocpp_cp_free(f->cp);
	f->cp = NULL;
	fk_online(f, 1);
	memset(type51, 'A', 51);
	type51[51] = '\0';
	assert_int_equal(event(f, NULL, NULL), -EINVAL);
	assert_int_equal(event(f, "", NULL), -EINVAL);
	assert_int_equal(event(f, type51, NULL), -EINVAL);
	assert_int_equal(event(f, "Has Space", NULL), -EINVAL);
	assert_int_equal(event(f, "Tab\t", NULL), -EINVAL);
	assert_int_equal(ocpp_cp_security_event(NULL, "StartupOfTheDevice", NULL, f->now), -EINVAL);
	fk_no_call(f);
	type51[50] = '\0';
	/* techInfo: cut to 255 bytes, control characters and non-ASCII made harmless */
	memset(info, 'x', sizeof(info) - 1);
	info[sizeof(info) - 1] = '\0';
	info[0] = '\n';
	info[1] = (char)0xc3;
	assert_int_equal(event(f, type51, info), 0);
	p = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(p, "type"), type51);
	assert_int_equal(strlen(jstr(p, "techInfo")), 255);
	assert_int_equal(strncmp(jstr(p, "techInfo"), "??xxx", 5), 0);
	fk_ack(f, "{}");
}

/* Every event taken reaches env.security_logged (the security log), the core's own included, with
 * the cleaned techInfo; a refused one does not. */
static void test_security_logged(void **state)
{
	struct fake *f = *state;
	char want[128];

	fk_online(f, 1);
	f->logged = 0;
	assert_int_equal(event(f, "InvalidTLSVersion", "server\nsaid 1.1"), 0);
	assert_int_equal(f->logged, 1);
	snprintf(want, sizeof(want), "InvalidTLSVersion %lld server?said 1.1", (long long)f->now.wall_ms);
	assert_string_equal(f->logged_last, want);
	assert_int_equal(event(f, "Has Space", NULL), -EINVAL);
	assert_int_equal(f->logged, 1);
	/* One the core raises by itself: ChangeConfiguration CpoName is ReconfigurationOfSecurityParameters. */
	assert_string_equal(fk_cs_status(f, "ChangeConfiguration", "{\"key\":\"CpoName\",\"value\":\"ACME\"}"), "Accepted");
	assert_int_equal(f->logged, 2);
	assert_non_null(strstr(f->logged_last, "ReconfigurationOfSecurityParameters "));
}

/* Critical events outlive a SIGKILL and an outage, and keep their place among the transaction
 * messages; the others outlive an outage but not a restart. */
static void test_critical_survives_restart_in_order(void **state)
{
	struct fake *f = *state;
	char seq[16][64];
	int64_t t_tamper;
	json_t *p;
	int n;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 42);
	fk_charge(f, 1, 5, 16);
	fk_offline(f);
	t_tamper = f->now.wall_ms;
	assert_int_equal(event(f, "TamperDetectionActivated", "cover opened"), 0);
	assert_int_equal(event(f, "InvalidTLSVersion", "TLS 1.0 offered"), 0); /* not critical */
	fk_advance(f, 1000);
	fk_ev(f, 1, false, 0); /* unplugged: StopTransaction, journalled after the event */
	fk_advance(f, 1000);
	assert_int_equal(event(f, "MemoryExhaustion", NULL), 0);
	assert_int_equal(journal_count(f, "SecurityEventNotification"), 2);
	assert_int_equal(journal_count(f, "InvalidTLSVersion"), 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 3);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 1);
	fk_advance(f, 3600000); /* an hour offline */
	fk_no_call(f);

	assert_int_equal(fk_restart(f, NULL, 0), 0); /* SIGKILL */
	fk_connect_boot(f);
	n = drain(f, seq, 16);
	assert_int_equal(n, 3);
	assert_string_equal(seq[0], "SEC:TamperDetectionActivated");
	assert_string_equal(seq[1], "StopTransaction");
	assert_string_equal(seq[2], "SEC:MemoryExhaustion");
	assert_int_equal(f->n_jr, 0);
	/* the timestamp is when it happened, not when it was sent */
	{
		size_t idx[4];

		assert_int_equal(calls_of(f, "SecurityEventNotification", 0, idx, 4), 2);
		p = payload_of(f, idx[0]);
		assert_time(p, t_tamper);
		assert_string_equal(jstr(p, "techInfo"), "cover opened");
	}
	/* nothing more after another restart */
	assert_int_equal(fk_restart(f, NULL, 0), 0);
	fk_connect_boot(f);
	fk_settle(f);
	fk_no_call(f);
}

static void test_outage_without_restart(void **state)
{
	struct fake *f = *state;
	char seq[16][64];
	int n;

	fk_online(f, 1);
	fk_remote_tx(f, 1, 7);
	fk_offline(f);
	assert_int_equal(event(f, "InvalidCentralSystemCertificate", "expired"), 0);
	assert_int_equal(event(f, "InvalidCentralSystemCertificate", "expired"), 0); /* each retry: folded */
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 1);
	fk_advance(f, 1000);
	assert_int_equal(event(f, "SettingSystemTime", "set by hand"), 0);
	fk_ev(f, 1, false, 0);
	fk_advance(f, 600000);
	fk_reconnect(f); /* no new BootNotification: registered before */
	n = drain(f, seq, 16);
	assert_int_equal(n, 3);
	/* the critical one in order with the transaction's StopTransaction; the other one may go first */
	assert_string_equal(seq[0], "SEC:InvalidCentralSystemCertificate");
	assert_string_equal(seq[1], "SEC:SettingSystemTime");
	assert_string_equal(seq[2], "StopTransaction");
	assert_int_equal(f->n_jr, 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 0);
}

/* The bound: past OCPP_QUEUE_OTHER_MAX the oldest waiting event goes, never the one in flight. */
static void test_noncritical_dropped_when_full(void **state)
{
	struct fake *f = *state;
	char info[32];
	json_t *p;
	int got = 0;
	long first;

	fk_online(f, 1);
	for (int i = 0; i <= OCPP_QUEUE_OTHER_MAX; i++) {
		snprintf(info, sizeof(info), "n=%d", i);
		assert_int_equal(event(f, "InvalidMessages", info), 0);
	}
	/* n=0 in flight, n=1 dropped for n=32 */
	assert_int_equal(ocpp_cp_stats(f->cp)->security_dropped, 1);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, OCPP_QUEUE_OTHER_MAX);
	/* an identical event still waiting takes the repeat */
	assert_int_equal(event(f, "InvalidMessages", "n=32"), 0);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, OCPP_QUEUE_OTHER_MAX);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_dropped, 1);
	assert_int_equal(f->n_jr, 0);
	for (int want = 0; want <= OCPP_QUEUE_OTHER_MAX; want++) {
		if (want == 1)
			continue;
		p = fk_expect(f, "SecurityEventNotification");
		snprintf(info, sizeof(info), "n=%d", want);
		assert_string_equal(jstr(p, "techInfo"), info);
		fk_ack(f, "{}");
		got++;
	}
	fk_no_call(f);
	assert_int_equal(got, OCPP_QUEUE_OTHER_MAX);

	/* offline: the same bound; a failed delivery of such an event is not retried */
	fk_offline(f);
	for (int i = 0; i < OCPP_QUEUE_OTHER_MAX + 3; i++) {
		snprintf(info, sizeof(info), "m=%d", i);
		assert_int_equal(event(f, "AttemptedReplayAttacks", info), 0);
	}
	assert_int_equal(ocpp_cp_stats(f->cp)->security_dropped, 4);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, OCPP_QUEUE_OTHER_MAX);
	fk_reconnect(f);
	fk_settle(f);
	p = fk_expect(f, "SecurityEventNotification");
	assert_int_equal(strncmp(jstr(p, "techInfo"), "m=", 2), 0);
	first = strtol(jstr(p, "techInfo") + 2, NULL, 10);
	/* m=0..2 went for the newest; the statuses of the reconnection may have pushed out more */
	assert_true(first >= 3 && first < OCPP_QUEUE_OTHER_MAX);
	fk_callerror(f);
	p = fk_expect_after_status(f, "SecurityEventNotification");
	snprintf(info, sizeof(info), "m=%ld", first + 1);
	assert_string_equal(jstr(p, "techInfo"), info);
}

/* Critical events have a bound too, by type: a clock that keeps stepping cannot fill the disk. */
static void test_critical_bound(void **state)
{
	struct fake *f = *state;

	fk_online(f, 1);
	fk_offline(f);
	for (int i = 0; i < 64; i++)
		assert_int_equal(event(f, "SettingSystemTime", "again"), 0);
	assert_int_equal(journal_count(f, "SettingSystemTime"), 64);
	assert_int_equal(event(f, "SettingSystemTime", "once more"), 0);
	assert_int_equal(journal_count(f, "SettingSystemTime"), 64);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_dropped, 1);
	/* another kind still gets in */
	assert_int_equal(event(f, "FirmwareUpdated", NULL), 0);
	assert_int_equal(journal_count(f, "FirmwareUpdated"), 1);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued, 65);
}

/* A central system without the security extension: the event is dropped at once instead of holding
 * back the transaction messages; any other failure is retried like a transaction message. */
static void test_csms_without_security_events(void **state)
{
	struct fake *f = *state;
	char buf[256];
	json_t *p;

	fk_online(f, 1);
	assert_int_equal(event(f, "FirmwareUpdated", "1.2.3"), 0);
	fk_expect(f, "SecurityEventNotification");
	snprintf(buf, sizeof(buf), "[4,\"%s\",\"NotImplemented\",\"no such action\",{}]", f->cur_id);
	fk_input(f, buf);
	assert_int_equal(f->n_jr, 0);
	fk_advance(f, 300000);
	fk_no_call(f);
	/* a transaction goes right on */
	fk_remote_tx(f, 1, 5);

	assert_int_equal(event(f, "StartupOfTheDevice", NULL), 0);
	fk_expect(f, "SecurityEventNotification");
	snprintf(buf, sizeof(buf), "[4,\"%s\",\"NotSupported\",\"\",{}]", f->cur_id);
	fk_input(f, buf);
	assert_int_equal(journal_count(f, "SecurityEventNotification"), 0);

	assert_int_equal(event(f, "SecurityLogWasCleared", NULL), 0);
	fk_expect(f, "SecurityEventNotification");
	fk_callerror(f); /* InternalError: retried */
	assert_int_equal(journal_count(f, "SecurityLogWasCleared"), 1);
	fk_advance(f, 60000);
	p = fk_expect_after_status(f, "SecurityEventNotification");
	assert_string_equal(jstr(p, "type"), "SecurityLogWasCleared");
	fk_ack(f, "{}");
	assert_int_equal(journal_count(f, "SecurityEventNotification"), 0);
}

/* ResetOrReboot: the Reset leaves a mark in the journal; the next start reports it with the time
 * of the reset, once. */
static void test_reset_reported_after_restart(void **state)
{
	struct fake *f = *state;
	int64_t t_reset;
	json_t *p;

	for (int hard = 0; hard < 2; hard++) {
		fk_online(f, 1);
		assert_string_equal(fk_cs_status(f, "Reset", hard ? "{\"type\":\"Hard\"}" : "{\"type\":\"Soft\"}"),
				    "Accepted");
		fk_advance(f, 1000);
		assert_int_equal(f->resets, hard + 1);
		t_reset = f->now.wall_ms;
		assert_int_equal(journal_count(f, "\"k\":\"reset\""), 1);
		fk_no_call(f); /* nothing said before the restart: the process goes now */
		fk_advance(f, 5000);
		assert_int_equal(fk_restart(f, NULL, 0), 0);
		assert_int_equal(journal_count(f, "\"k\":\"reset\""), 0); /* turned into the event */
		assert_int_equal(journal_count(f, "ResetOrReboot"), 1);
		fk_connect_boot(f);
		p = sec_expect(f, "ResetOrReboot");
		assert_time(p, t_reset);
		assert_non_null(strstr(jstr(p, "techInfo"), hard ? "Hard" : "Soft"));
		fk_ack(f, "{}");
		assert_int_equal(f->n_jr, 0);
		assert_int_equal(fk_restart(f, NULL, 0), 0);
		fk_connect_boot(f);
		fk_settle(f);
		fk_no_call(f);
		ocpp_cp_free(f->cp);
		f->cp = NULL;
	}
}

/* A crash after the mark but before the event was journalled, twice over: one event, the latest. */
static void test_reset_marks_folded(void **state)
{
	struct fake *f = *state;
	struct jrec recs[2] = {
		{ 3, (char *)"{\"k\":\"reset\",\"hard\":false,\"at\":1767225600000}" },
		{ 9, (char *)"{\"k\":\"reset\",\"hard\":true,\"at\":1767225660000}" },
	};
	json_t *p;

	fk_start(f);
	assert_int_equal(fk_restart(f, recs, 2), 0);
	assert_int_equal(journal_count(f, "\"k\":\"reset\""), 0);
	fk_connect_boot(f);
	p = sec_expect(f, "ResetOrReboot");
	assert_time(p, 1767225660000LL);
	assert_non_null(strstr(jstr(p, "techInfo"), "Hard"));
	fk_ack(f, "{}");
	fk_settle(f);
	fk_no_call(f);
	assert_int_equal(f->n_jr, 0);
}

/* SettingSystemTime: the wall clock stepping against the monotonic one, either way; drift is not. */
static void test_setting_system_time(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 1);
	f->now.wall_ms += 9000; /* within the tolerance */
	ocpp_cp_tick(f->cp, f->now);
	fk_advance(f, 1000);
	fk_no_call(f);
	f->now.wall_ms += 3600000;
	ocpp_cp_tick(f->cp, f->now);
	p = sec_expect(f, "SettingSystemTime");
	assert_string_equal(jstr(p, "techInfo"), "wall clock stepped by +3600 s");
	assert_time(p, f->now.wall_ms);
	assert_int_equal(journal_count(f, "SettingSystemTime"), 1);
	fk_ack(f, "{}");
	f->now.wall_ms -= 120000;
	ocpp_cp_tick(f->cp, f->now);
	p = sec_expect(f, "SettingSystemTime");
	assert_string_equal(jstr(p, "techInfo"), "wall clock stepped by -120 s");
	fk_ack(f, "{}");
	fk_advance(f, 60000);
	fk_no_call(f);
	assert_int_equal(f->n_jr, 0);
}

/* ------------------------------------------------------------------ ExtendedTriggerMessage */

static void test_ext_trigger_simple_messages(void **state)
{
	struct fake *f = *state;
	size_t ans;
	json_t *p;

	fk_online(f, 2);
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"Heartbeat\"}", &ans), "Accepted");
	fk_expect(f, "Heartbeat");
	assert_true(cur_index(f) > ans); /* the answer first, then the message */
	fk_ack_time(f);

	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"BootNotification\"}", &ans), "Accepted");
	p = fk_expect(f, "BootNotification");
	assert_true(cur_index(f) > ans);
	assert_string_equal(jstr(p, "chargePointVendor"), "Tesla");
	fk_ack_boot(f, "Accepted", 3600);

	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"LogStatusNotification\"}", &ans), "Accepted");
	p = fk_expect(f, "LogStatusNotification");
	assert_true(cur_index(f) > ans);
	assert_string_equal(jstr(p, "status"), "Idle");
	assert_null(json_object_get(p, "requestId"));
	assert_int_equal(json_object_size(p), 1);
	fk_ack(f, "{}");

	/* FirmwareStatusNotification is answered with the signed variant */
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"FirmwareStatusNotification\"}", &ans),
			    "Accepted");
	p = fk_expect(f, "SignedFirmwareStatusNotification");
	assert_true(cur_index(f) > ans);
	assert_string_equal(jstr(p, "status"), "Idle");
	assert_int_equal(json_object_size(p), 1);
	fk_ack(f, "{}");

	/* connectorId does not matter to these, but must name a connector */
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"LogStatusNotification\",\"connectorId\":2}", NULL),
			    "Accepted");
	fk_expect(f, "LogStatusNotification");
	/* a result that does not parse counts as bad input, nothing is retried */
	{
		uint32_t bad = ocpp_cp_stats(f->cp)->rx_bad;

		fk_ack(f, "{\"status\":\"x\"}");
		assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad + 1);
	}
	for (int c = 0; c < 4; c++) {
		static const char *const what[] = { "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat",
						    "BootNotification" };
		char buf[128];

		snprintf(buf, sizeof(buf), "{\"requestedMessage\":\"%s\",\"connectorId\":3}", what[c]);
		assert_string_equal(ext_trigger(f, buf, NULL), "Rejected");
	}
	fk_advance(f, 120000);
	fk_no_call(f);
}

static void test_ext_trigger_connectors(void **state)
{
	struct fake *f = *state;
	json_t *p;

	fk_online(f, 2);
	/* MeterValues: every connector without connectorId, one with, none for 0 or an unknown one */
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"MeterValues\"}", NULL), "Accepted");
	for (int c = 1; c <= 2; c++) {
		p = fk_expect(f, "MeterValues");
		assert_int_equal(jint(p, "connectorId"), c);
		assert_null(json_object_get(p, "transactionId"));
		assert_string_equal(jstr(sampled(p, 0), "context"), "Trigger");
		fk_ack(f, "{}");
	}
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":2}", NULL),
			    "Accepted");
	p = fk_expect(f, "MeterValues");
	assert_int_equal(jint(p, "connectorId"), 2);
	fk_ack(f, "{}");
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":0}", NULL),
			    "Rejected");
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":3}", NULL),
			    "Rejected");
	fk_no_call(f);
	/* a running transaction's values carry its id */
	fk_remote_tx(f, 1, 77);
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"MeterValues\",\"connectorId\":1}", NULL),
			    "Accepted");
	p = fk_expect(f, "MeterValues");
	assert_int_equal(jint(p, "transactionId"), 77);
	fk_ack(f, "{}");

	/* StatusNotification: 0 and every connector without connectorId, else the one asked for */
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"StatusNotification\"}", NULL), "Accepted");
	for (int c = 0; c <= 2; c++) {
		p = fk_expect(f, "StatusNotification");
		assert_int_equal(jint(p, "connectorId"), c);
		fk_ack(f, "{}");
	}
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":0}", NULL),
			    "Accepted");
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 0);
	fk_ack(f, "{}");
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":2}", NULL),
			    "Accepted");
	p = fk_expect(f, "StatusNotification");
	assert_int_equal(jint(p, "connectorId"), 2);
	assert_string_equal(jstr(p, "status"), "Available");
	fk_ack(f, "{}");
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":9}", NULL),
			    "Rejected");
	fk_no_call(f);
}

/* Until the central system accepts a BootNotification, only a BootNotification may be asked for. */
static void test_ext_trigger_before_registration(void **state)
{
	static const char *const others[] = { "Heartbeat", "MeterValues", "StatusNotification",
					      "LogStatusNotification", "FirmwareStatusNotification",
					      "SignChargePointCertificate" };
	struct fake *f = *state;
	char buf[128];

	fk_key(f, "CpoName", "Example CPO");
	fk_start(f);
	assert_int_equal(ocpp_cp_connector_for_twc(f->cp, 0x1001), 1);
	fk_ev(f, 1, false, 0);
	fk_reconnect(f);
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Pending", 300);
	assert_false(ocpp_cp_registered(f->cp));
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"requestedMessage\":\"%s\"}", others[i]);
		if (strcmp(ext_trigger(f, buf, NULL), "Rejected") != 0)
			fail_msg("%s Accepted before registration", others[i]);
	}
	assert_int_equal(f->signs, 0);
	fk_no_call(f);
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"BootNotification\"}", NULL), "Accepted");
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", 300);
	assert_true(ocpp_cp_registered(f->cp));
}

/* SignChargePointCertificate: NotImplemented without the gateway's CSR step, Rejected without a
 * CpoName, else Accepted and the step runs once, after the answer is out. */
static void test_ext_trigger_sign_certificate(void **state)
{
	struct fake *f = *state;
	size_t ans;

	f->no_sign = true;
	fk_online(f, 1);
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"SignChargePointCertificate\"}", NULL),
			    "NotImplemented");
	ocpp_cp_free(f->cp);
	f->cp = NULL;
	f->no_sign = false;

	fk_online(f, 1);
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"SignChargePointCertificate\"}", NULL), "Rejected");
	assert_int_equal(f->signs, 0);
	assert_string_equal(change(f, "CpoName", "\"Example CPO\""), "Accepted");
	sec_expect(f, "ReconfigurationOfSecurityParameters");
	fk_ack(f, "{}");
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"SignChargePointCertificate\"}", &ans), "Accepted");
	assert_int_equal(f->signs, 1);
	assert_true(f->sign_frames > ans); /* the CALLRESULT was sent when it ran */
	fk_no_call(f);                     /* SignCertificate itself is the gateway's next step */
	assert_string_equal(
		ext_trigger(f, "{\"requestedMessage\":\"SignChargePointCertificate\",\"connectorId\":1}", NULL),
		"Accepted");
	assert_int_equal(f->signs, 2);
	assert_string_equal(
		ext_trigger(f, "{\"requestedMessage\":\"SignChargePointCertificate\",\"connectorId\":4}", NULL),
		"Rejected");
	assert_int_equal(f->signs, 2);
	/* a failing step is logged, the answer stands; the step may report into the core */
	f->sign_rc = -EIO;
	f->sign_event = "InvalidChargePointCertificate";
	assert_string_equal(ext_trigger(f, "{\"requestedMessage\":\"SignChargePointCertificate\"}", NULL), "Accepted");
	assert_int_equal(f->signs, 3);
	sec_expect(f, "InvalidChargePointCertificate");
	fk_ack(f, "{}");
	fk_advance(f, 60000);
	assert_int_equal(f->signs, 3);
	fk_no_call(f);
}

static void test_ext_trigger_malformed(void **state)
{
	static const struct {
		const char *payload, *code;
	} cases[] = {
		{ "{}", OCC },
		{ "{\"connectorId\":1}", OCC },
		{ "{\"requestedMessage\":\"Foo\"}", PRP },
		{ "{\"requestedMessage\":\"DiagnosticsStatusNotification\"}", PRP }, /* TriggerMessage only */
		{ "{\"requestedMessage\":\"heartbeat\"}", PRP },
		{ "{\"requestedMessage\":1}", TYP },
		{ "{\"requestedMessage\":null}", TYP },
		{ "{\"requestedMessage\":\"Heartbeat\",\"connectorId\":\"1\"}", TYP },
		{ "{\"requestedMessage\":\"Heartbeat\",\"connectorId\":1.5}", TYP },
		{ "{\"requestedMessage\":\"Heartbeat\",\"connectorId\":-1}", PRP },
		{ "{\"requestedMessage\":\"Heartbeat\",\"x\":1}", PRP },
		{ "[]", FRM },
		{ "\"Heartbeat\"", FRM },
		{ "null", FRM },
	};
	struct fake *f = *state;

	fk_online(f, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_callerror(f, "ExtendedTriggerMessage", cases[i].payload, cases[i].code);
	fk_advance(f, 1000);
	fk_no_call(f);
	assert_int_equal(f->signs, 0);
	/* the whitepaper's other messages are taken now (test_ocpp_logfw.c): an empty one is a missing field */
	expect_callerror(f, "GetLog", "{}", "OccurenceConstraintViolation");
	expect_callerror(f, "SignedUpdateFirmware", "{}", "OccurenceConstraintViolation");
	/* the 1.6 Firmware Management messages they replace stay not supported */
	expect_callerror(f, "GetDiagnostics", "{}", "NotSupported");
	expect_callerror(f, "UpdateFirmware", "{}", "NotSupported");
	/* CertificateSigned is taken now (test_ocpp_certs.c): an empty one is a missing field */
	expect_callerror(f, "CertificateSigned", "{}", "OccurenceConstraintViolation");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys_get_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_initial_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpo_name_change, setup, teardown),
		cmocka_unit_test(test_cpo_name_utf8_rule),
		cmocka_unit_test_setup_teardown(test_read_only_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfiguration_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_sent_and_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_critical_survives_restart_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_without_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noncritical_dropped_when_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_critical_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csms_without_security_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_reported_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_marks_folded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setting_system_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_trigger_simple_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_trigger_connectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_trigger_before_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_trigger_sign_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_trigger_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_logged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
