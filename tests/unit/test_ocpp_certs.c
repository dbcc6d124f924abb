/*
 * Tests of the security whitepaper's certificate messages in the OCPP charge point core:
 * SignCertificate (queued by ocpp_cp_sign_certificate() from the gateway's CSR step, acknowledged,
 * rejected, its argument checks), CertificateSigned (the CertificateSignedMaxChainSize bound at
 * exactly max and max + 1, the gateway's verdict, InvalidChargePointCertificate after a Rejected),
 * InstallCertificate, DeleteCertificate and GetInstalledCertificateIds (every status, the hash data
 * both ways, the CALLERROR for each malformed payload), and each without its env callback. Runs the
 * real ocpp_cp in the shared fake environment (ocpp_fake.h), time driven by hand.
 */
#include "ocpp_cs.h"

#define CSR "-----BEGIN CERTIFICATE REQUEST-----\nMIIBIjCByAIBADBmMQswCQYDVQQGEwJERTEN\n-----END CERTIFICATE REQUEST-----\n"

/* ------------------------------------------------------------------ helpers */

static void expect_status(struct fake *f, const char *action, const char *payload, const char *status)
{
	char want[64];

	snprintf(want, sizeof(want), "{\"status\":\"%s\"}", status);
	expect_result(f, action, payload, want);
}

/* {"certificateChain":"<n characters of PEM-ish text>"} (free()). */
static char *chain_payload(size_t n)
{
	char *p = malloc(n + 32);
	size_t o;

	assert_non_null(p);
	o = (size_t)snprintf(p, n + 32, "{\"certificateChain\":\"");
	for (size_t i = 0; i < n; i++)
		p[o + i] = (char)('A' + (i % 26));
	snprintf(p + o + n, 32, "\"}");
	return p;
}

/* The link drops and comes back (still registered: no BootNotification). */
static void reconnect(struct fake *f)
{
	ocpp_cp_disconnected(f->cp, f->now);
	f->connected = false;
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
}

/* Online with one TWC and CpoName set: ExtendedTriggerMessage(SignChargePointCertificate) works. */
static void online(struct fake *f)
{
	fk_key(f, "CpoName", "ACME Charging");
	fk_online(f, 1);
}

static void trigger_sign(struct fake *f)
{
	expect_status(f, "ExtendedTriggerMessage", "{\"requestedMessage\":\"SignChargePointCertificate\"}", "Accepted");
}

/* ------------------------------------------------------------------ SignCertificate */

static void test_sign_certificate_accepted(void **state)
{
	struct fake *f = *state;
	uint32_t answered;
	json_t *p;

	online(f);
	f->sign_csr = CSR;
	trigger_sign(f);
	assert_int_equal(f->signs, 1);
	assert_int_equal(f->sign_csr_rc, 0);
	p = fk_expect(f, "SignCertificate");
	assert_string_equal(jstr(p, "csr"), CSR);
	assert_int_equal(json_object_size(p), 1);
	answered = ocpp_cp_stats(f->cp)->calls_answered;
	fk_ack(f, "{\"status\":\"Accepted\"}");
	assert_int_equal(ocpp_cp_stats(f->cp)->calls_answered, answered + 1);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 0);
	fk_advance(f, 60000);
	fk_no_call(f);
}

/* Rejected ends the attempt: nothing is retried and no security event goes out. */
static void test_sign_certificate_rejected(void **state)
{
	struct fake *f = *state;
	uint32_t bad, events;

	online(f);
	f->sign_csr = CSR;
	trigger_sign(f);
	fk_expect(f, "SignCertificate");
	bad = ocpp_cp_stats(f->cp)->rx_bad;
	events = ocpp_cp_stats(f->cp)->security_events;
	fk_ack(f, "{\"status\":\"Rejected\"}");
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_events, events);
	assert_int_equal(ocpp_cp_stats(f->cp)->queued_other, 0);
	fk_advance(f, 120000);
	fk_no_call(f);
}

/* A result that does not parse counts as a bad frame; the message is not sent again. */
static void test_sign_certificate_bad_result(void **state)
{
	struct fake *f = *state;
	static const char *const bad_results[] = {
		"{\"status\":\"Maybe\"}", "{}", "{\"status\":\"Accepted\",\"x\":1}", "{\"status\":1}",
	};

	online(f);
	for (size_t i = 0; i < sizeof(bad_results) / sizeof(bad_results[0]); i++) {
		uint32_t bad = ocpp_cp_stats(f->cp)->rx_bad;

		assert_int_equal(ocpp_cp_sign_certificate(f->cp, CSR, f->now), 0);
		fk_expect(f, "SignCertificate");
		fk_ack(f, bad_results[i]);
		assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad + 1);
		fk_advance(f, 60000);
		fk_no_call(f);
	}
}

static void test_sign_certificate_arguments(void **state)
{
	struct fake *f = *state;
	char *big = repeat('A', OCPP_CSR_MAX + 1);
	json_t *p;

	fk_key(f, "CpoName", "ACME Charging");
	fk_new(f);
	/* not started */
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, CSR, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_sign_certificate(NULL, CSR, f->now), -EINVAL);
	ocpp_cp_start(f->cp, 0, f->now);
	/* started, no link: an ordinary message does not wait for one */
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, CSR, f->now), -ENOTCONN);
	/* connected, not yet registered: waits for the BootNotification's Accepted */
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, CSR, f->now), 0);
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", 3600);
	p = fk_expect_after_status(f, "SignCertificate");
	assert_string_equal(jstr(p, "csr"), CSR);
	fk_ack(f, "{\"status\":\"Accepted\"}");
	fk_settle(f);
	/* bad CSRs: nothing is queued */
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, NULL, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, "", f->now), -EINVAL);
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, big, f->now), -EINVAL);
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, "-----BEGIN\tCSR-----", f->now), -EINVAL);
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, "caf\xc3\xa9", f->now), -EINVAL);
	fk_no_call(f);
	/* exactly OCPP_CSR_MAX characters go */
	big[OCPP_CSR_MAX] = '\0';
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, big, f->now), 0);
	p = fk_expect(f, "SignCertificate");
	assert_int_equal(strlen(jstr(p, "csr")), OCPP_CSR_MAX);
	/* while that one is in flight, a newer CSR replaces one still waiting */
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, "-----BEGIN CERTIFICATE REQUEST-----\nold\n", f->now), 0);
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, CSR, f->now), 0);
	fk_no_call(f);
	fk_ack(f, "{\"status\":\"Accepted\"}");
	p = fk_expect(f, "SignCertificate");
	assert_string_equal(jstr(p, "csr"), CSR);
	fk_ack(f, "{\"status\":\"Accepted\"}");
	fk_advance(f, 10000);
	fk_no_call(f);
	/* a link that drops takes the waiting request with it */
	assert_int_equal(ocpp_cp_sign_certificate(f->cp, CSR, f->now), 0);
	fk_expect(f, "SignCertificate");
	reconnect(f);
	fk_settle(f);
	fk_advance(f, 10000);
	fk_no_call(f);
	free(big);
}

/* ------------------------------------------------------------------ CertificateSigned */

static void test_certificate_signed_accepted(void **state)
{
	struct fake *f = *state;
	char *p = chain_payload(3000);
	uint32_t events;

	online(f);
	events = ocpp_cp_stats(f->cp)->security_events;
	expect_status(f, "CertificateSigned", p, "Accepted");
	assert_int_equal(f->signed_calls, 1);
	assert_int_equal(f->signed_len, 3000);
	assert_true(f->signed_reasonlen >= 255);
	assert_int_equal(ocpp_cp_stats(f->cp)->security_events, events);
	fk_advance(f, 1000);
	fk_no_call(f);
	free(p);
}

/* OCTT TC_077: a chain the gateway refuses is Rejected, then InvalidChargePointCertificate goes out
 * with the gateway's reason, after the CALLRESULT. */
static void test_certificate_signed_rejected_event(void **state)
{
	struct fake *f = *state;
	size_t before;
	json_t *ev;

	online(f);
	f->signed_rc = -EINVAL;
	f->signed_reason = "ChainInvalid: not issued by an installed CentralSystemRootCertificate";
	before = f->n_fr;
	expect_status(f, "CertificateSigned", "{\"certificateChain\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n\"}",
		      "Rejected");
	assert_int_equal(f->signed_calls, 1);
	assert_int_equal(f->fr[before].type, 3); /* the CALLRESULT first */
	ev = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(ev, "type"), "InvalidChargePointCertificate");
	assert_string_equal(jstr(ev, "techInfo"), f->signed_reason);
	assert_non_null(json_object_get(ev, "timestamp"));
	fk_ack(f, "{}");
	fk_no_call(f);

	/* no reason given: the event goes without techInfo */
	f->signed_reason = NULL;
	expect_status(f, "CertificateSigned", "{\"certificateChain\":\"x\"}", "Rejected");
	ev = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(ev, "type"), "InvalidChargePointCertificate");
	assert_null(json_object_get(ev, "techInfo"));
	fk_ack(f, "{}");

	/* a reason as long as the buffer is cut, never overrun */
	{
		char *longer = repeat('r', 600);

		f->signed_reason = longer;
		expect_status(f, "CertificateSigned", "{\"certificateChain\":\"x\"}", "Rejected");
		ev = fk_expect(f, "SecurityEventNotification");
		assert_true(strlen(jstr(ev, "techInfo")) <= 255);
		assert_int_equal(jstr(ev, "techInfo")[0], 'r');
		fk_ack(f, "{}");
		free(longer);
	}
	/* the event survives the link dropping before it was answered, as the other events do */
	f->signed_reason = "KeyMismatch";
	expect_status(f, "CertificateSigned", "{\"certificateChain\":\"x\"}", "Rejected");
	fk_expect(f, "SecurityEventNotification");
	reconnect(f);
	ev = fk_expect_after_status(f, "SecurityEventNotification");
	assert_string_equal(jstr(ev, "techInfo"), "KeyMismatch");
	fk_ack(f, "{}");
	fk_settle(f);
	fk_no_call(f);
}

/* CertificateSignedMaxChainSize: exactly max is passed on, max + 1 is Rejected without asking the
 * gateway, with the event; beyond the whitepaper's 10 000 it is still Rejected, not a CALLERROR. */
static void test_certificate_signed_size_bound(void **state)
{
	struct fake *f = *state;
	char *p;
	json_t *ev;

	online(f);
	p = chain_payload(10000);
	expect_status(f, "CertificateSigned", p, "Accepted");
	free(p);
	assert_int_equal(f->signed_calls, 1);
	assert_int_equal(f->signed_len, 10000);
	fk_no_call(f);

	p = chain_payload(10001);
	expect_status(f, "CertificateSigned", p, "Rejected");
	free(p);
	assert_int_equal(f->signed_calls, 1);
	ev = fk_expect(f, "SecurityEventNotification");
	assert_string_equal(jstr(ev, "type"), "InvalidChargePointCertificate");
	assert_non_null(strstr(jstr(ev, "techInfo"), "10001"));
	assert_non_null(strstr(jstr(ev, "techInfo"), "CertificateSignedMaxChainSize is 10000"));
	fk_ack(f, "{}");

	p = chain_payload(30000);
	expect_status(f, "CertificateSigned", p, "Rejected");
	free(p);
	assert_int_equal(f->signed_calls, 1);
	fk_expect(f, "SecurityEventNotification");
	fk_ack(f, "{}");

	/* an empty chain is no certificate: Rejected without asking */
	expect_status(f, "CertificateSigned", "{\"certificateChain\":\"\"}", "Rejected");
	assert_int_equal(f->signed_calls, 1);
	fk_expect(f, "SecurityEventNotification");
	fk_ack(f, "{}");
}

/* A smaller bound set as the key's initial value. */
static void test_certificate_signed_smaller_bound(void **state)
{
	struct fake *f = *state;
	char *p;

	fk_key(f, "CertificateSignedMaxChainSize", "500");
	online(f);
	p = chain_payload(500);
	expect_status(f, "CertificateSigned", p, "Accepted");
	free(p);
	p = chain_payload(501);
	expect_status(f, "CertificateSigned", p, "Rejected");
	free(p);
	assert_int_equal(f->signed_calls, 1);
	assert_non_null(strstr(jstr(fk_expect(f, "SecurityEventNotification"), "techInfo"), "is 500"));
}

static void test_certificate_signed_malformed(void **state)
{
	struct fake *f = *state;

	online(f);
	expect_error(f, "CertificateSigned", "{}", OCC);
	expect_error(f, "CertificateSigned", "{\"certificateChain\":5}", TYP);
	expect_error(f, "CertificateSigned", "{\"certificateChain\":null}", TYP);
	expect_error(f, "CertificateSigned", "{\"certificateChain\":[\"a\"]}", TYP);
	expect_error(f, "CertificateSigned", "{\"certificateChain\":\"a\",\"extra\":1}", PRP);
	assert_int_equal(f->signed_calls, 0);
	fk_advance(f, 1000);
	fk_no_call(f);
}

/* ------------------------------------------------------------------ InstallCertificate */

static void test_install_certificate(void **state)
{
	struct fake *f = *state;
	char *pem, *p;
	size_t n = OCPP_CERT_PEM_MAX + 100;

	online(f);
	expect_status(f, "InstallCertificate",
		      "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"-----BEGIN CERTIFICATE-----\"}",
		      "Accepted");
	assert_int_equal(f->install_calls, 1);
	assert_string_equal(f->install_type, "CentralSystemRootCertificate");
	assert_int_equal(f->install_len, strlen("-----BEGIN CERTIFICATE-----"));
	f->install_rc = OCPP_CERT_INSTALL_REJECTED;
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"ManufacturerRootCertificate\",\"certificate\":\"x\"}",
		      "Rejected");
	assert_string_equal(f->install_type, "ManufacturerRootCertificate");
	f->install_rc = OCPP_CERT_INSTALL_FAILED;
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"ManufacturerRootCertificate\",\"certificate\":\"x\"}",
		      "Failed");
	f->install_rc = -EIO; /* any negative value */
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"ManufacturerRootCertificate\",\"certificate\":\"x\"}",
		      "Failed");
	f->install_rc = 7; /* any positive value */
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"ManufacturerRootCertificate\",\"certificate\":\"x\"}",
		      "Rejected");
	assert_int_equal(f->install_calls, 5);
	/* an empty certificate is refused without asking */
	f->install_rc = 0;
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"ManufacturerRootCertificate\",\"certificate\":\"\"}",
		      "Rejected");
	assert_int_equal(f->install_calls, 5);

	/* CiString5500: exactly 5500 is passed on, 5501 is a CALLERROR */
	pem = repeat('Q', OCPP_CERT_PEM_MAX + 1);
	p = malloc(n + 100);
	assert_non_null(p);
	snprintf(p, n + 100, "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"%s\"}", pem);
	expect_error(f, "InstallCertificate", p, PRP);
	pem[OCPP_CERT_PEM_MAX] = '\0';
	snprintf(p, n + 100, "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"%s\"}", pem);
	expect_status(f, "InstallCertificate", p, "Accepted");
	assert_int_equal(f->install_len, OCPP_CERT_PEM_MAX);
	free(p);
	free(pem);
	assert_int_equal(f->install_calls, 6);

	expect_error(f, "InstallCertificate", "{\"certificate\":\"x\"}", OCC);
	expect_error(f, "InstallCertificate", "{\"certificateType\":\"CentralSystemRootCertificate\"}", OCC);
	expect_error(f, "InstallCertificate", "{\"certificateType\":\"V2GRootCertificate\",\"certificate\":\"x\"}", PRP);
	expect_error(f, "InstallCertificate", "{\"certificateType\":\"centralsystemrootcertificate\",\"certificate\":\"x\"}",
		     PRP);
	expect_error(f, "InstallCertificate", "{\"certificateType\":1,\"certificate\":\"x\"}", TYP);
	expect_error(f, "InstallCertificate", "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":1}", TYP);
	expect_error(f, "InstallCertificate",
		     "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"x\",\"more\":true}", PRP);
	assert_int_equal(f->install_calls, 6);
	fk_no_call(f);
}

/* ------------------------------------------------------------------ DeleteCertificate */

#define HD(alg, name, key, serial)                                                                           \
	"{\"certificateHashData\":{\"hashAlgorithm\":\"" alg "\",\"issuerNameHash\":\"" name                   \
	"\",\"issuerKeyHash\":\"" key "\",\"serialNumber\":\"" serial "\"}}"

static void test_delete_certificate(void **state)
{
	struct fake *f = *state;
	char *h128 = repeat('a', 128), *h129 = repeat('a', 129), *s40 = repeat('1', 40), *s41 = repeat('1', 41);
	char p[1024];

	online(f);
	expect_status(f, "DeleteCertificate", HD("SHA384", "0a1b", "c2d3", "1f"), "Accepted");
	assert_int_equal(f->delete_calls, 1);
	assert_int_equal(f->deleted.alg, OCPP_HASH_SHA384);
	assert_string_equal(f->deleted.issuer_name_hash, "0a1b");
	assert_string_equal(f->deleted.issuer_key_hash, "c2d3");
	assert_string_equal(f->deleted.serial, "1f");
	/* TC_076: NotFound on the repeat */
	f->delete_rc = OCPP_CERT_DELETE_NOT_FOUND;
	expect_status(f, "DeleteCertificate", HD("SHA256", "0a1b", "c2d3", "1f"), "NotFound");
	assert_int_equal(f->deleted.alg, OCPP_HASH_SHA256);
	f->delete_rc = OCPP_CERT_DELETE_FAILED;
	expect_status(f, "DeleteCertificate", HD("SHA512", "0a1b", "c2d3", "1f"), "Failed");
	assert_int_equal(f->deleted.alg, OCPP_HASH_SHA512);
	f->delete_rc = -EPERM;
	expect_status(f, "DeleteCertificate", HD("SHA512", "0a1b", "c2d3", "1f"), "Failed");
	f->delete_rc = 0;

	/* the CiString bounds: exactly at them passes, one more is a CALLERROR */
	snprintf(p, sizeof(p), HD("SHA512", "%s", "%s", "%s"), h128, h128, s40);
	expect_status(f, "DeleteCertificate", p, "Accepted");
	assert_string_equal(f->deleted.issuer_name_hash, h128);
	assert_string_equal(f->deleted.issuer_key_hash, h128);
	assert_string_equal(f->deleted.serial, s40);
	assert_int_equal(f->delete_calls, 5);
	snprintf(p, sizeof(p), HD("SHA512", "%s", "ab", "01"), h129);
	expect_error(f, "DeleteCertificate", p, PRP);
	snprintf(p, sizeof(p), HD("SHA512", "ab", "%s", "01"), h129);
	expect_error(f, "DeleteCertificate", p, PRP);
	snprintf(p, sizeof(p), HD("SHA512", "ab", "cd", "%s"), s41);
	expect_error(f, "DeleteCertificate", p, PRP);

	expect_error(f, "DeleteCertificate", "{}", OCC);
	expect_error(f, "DeleteCertificate", "{\"certificateHashData\":\"x\"}", TYP);
	expect_error(f, "DeleteCertificate", "{\"certificateHashData\":[]}", TYP);
	expect_error(f, "DeleteCertificate", HD("MD5", "ab", "cd", "01"), PRP);
	expect_error(f, "DeleteCertificate", HD("sha256", "ab", "cd", "01"), PRP);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"issuerNameHash\":\"a\",\"issuerKeyHash\":\"b\",\"serialNumber\":\"1\"}}", OCC);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"hashAlgorithm\":\"SHA256\",\"issuerKeyHash\":\"b\",\"serialNumber\":\"1\"}}",
		     OCC);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"hashAlgorithm\":\"SHA256\",\"issuerNameHash\":\"a\",\"serialNumber\":\"1\"}}",
		     OCC);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"hashAlgorithm\":\"SHA256\",\"issuerNameHash\":\"a\",\"issuerKeyHash\":\"b\"}}",
		     OCC);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"hashAlgorithm\":\"SHA256\",\"issuerNameHash\":\"a\",\"issuerKeyHash\":2,"
		     "\"serialNumber\":\"1\"}}",
		     TYP);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"hashAlgorithm\":\"SHA256\",\"issuerNameHash\":\"a\",\"issuerKeyHash\":\"b\","
		     "\"serialNumber\":\"1\",\"x\":1}}",
		     PRP);
	expect_error(f, "DeleteCertificate",
		     "{\"certificateHashData\":{\"hashAlgorithm\":\"SHA256\",\"issuerNameHash\":\"a\",\"issuerKeyHash\":\"b\","
		     "\"serialNumber\":\"1\"},\"x\":1}",
		     PRP);
	assert_int_equal(f->delete_calls, 5);
	fk_no_call(f);
	free(h128);
	free(h129);
	free(s40);
	free(s41);
}

/* ------------------------------------------------------------------ GetInstalledCertificateIds */

static void set_ids(struct fake *f)
{
	f->ids[0] = (struct ocpp_cert_hash){ OCPP_HASH_SHA256, "aa11", "bb22", "01" };
	f->ids[1] = (struct ocpp_cert_hash){ OCPP_HASH_SHA512, "cc33", "dd44", "7fffffff" };
}

static void test_get_installed_ids(void **state)
{
	struct fake *f = *state;

	online(f);
	set_ids(f);
	/* none: NotFound without the array */
	expect_result(f, "GetInstalledCertificateIds", "{\"certificateType\":\"CentralSystemRootCertificate\"}",
		      "{\"status\":\"NotFound\"}");
	assert_int_equal(f->ids_calls, 1);
	assert_string_equal(f->ids_type, "CentralSystemRootCertificate");
	assert_int_equal(f->ids_max, 20); /* CertificateStoreMaxLength's default */
	f->ids_rc = 2;
	expect_result(f, "GetInstalledCertificateIds", "{\"certificateType\":\"ManufacturerRootCertificate\"}",
		      "{\"status\":\"Accepted\",\"certificateHashData\":["
		      "{\"hashAlgorithm\":\"SHA256\",\"issuerNameHash\":\"aa11\",\"issuerKeyHash\":\"bb22\",\"serialNumber\":\"01\"},"
		      "{\"hashAlgorithm\":\"SHA512\",\"issuerNameHash\":\"cc33\",\"issuerKeyHash\":\"dd44\","
		      "\"serialNumber\":\"7fffffff\"}]}");
	assert_string_equal(f->ids_type, "ManufacturerRootCertificate");
	/* the store failing is an InternalError, not a NotFound that would look like an empty store */
	f->ids_rc = -EIO;
	expect_error(f, "GetInstalledCertificateIds", "{\"certificateType\":\"ManufacturerRootCertificate\"}",
		     "InternalError");
	/* hash data the core cannot send (a bad algorithm) is an InternalError too */
	f->ids_rc = 1;
	f->ids[0].alg = (enum ocpp_hash_alg)9;
	expect_error(f, "GetInstalledCertificateIds", "{\"certificateType\":\"ManufacturerRootCertificate\"}",
		     "InternalError");
	assert_int_equal(f->ids_calls, 4);

	expect_error(f, "GetInstalledCertificateIds", "{}", OCC);
	expect_error(f, "GetInstalledCertificateIds", "{\"certificateType\":\"V2GRootCertificate\"}", PRP);
	expect_error(f, "GetInstalledCertificateIds", "{\"certificateType\":[\"CentralSystemRootCertificate\"]}", TYP);
	expect_error(f, "GetInstalledCertificateIds",
		     "{\"certificateType\":\"CentralSystemRootCertificate\",\"x\":1}", PRP);
	assert_int_equal(f->ids_calls, 4);
	fk_no_call(f);
}

/* At most CertificateStoreMaxLength entries, even when the store claims more. */
static void test_get_installed_ids_bound(void **state)
{
	struct fake *f = *state;
	json_t *r;

	fk_key(f, "CertificateStoreMaxLength", "1");
	online(f);
	set_ids(f);
	f->ids_rc = 2;
	r = cs_call(f, "GetInstalledCertificateIds", "{\"certificateType\":\"CentralSystemRootCertificate\"}");
	assert_int_equal(json_integer_value(json_array_get(r, 0)), 3);
	assert_int_equal(f->ids_max, 1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(r, 2), "certificateHashData")), 1);
}

/* ------------------------------------------------------------------ without the callbacks */

static void test_no_callbacks(void **state)
{
	struct fake *f = *state;
	uint32_t events;

	f->no_certs = true;
	online(f);
	events = ocpp_cp_stats(f->cp)->security_events;
	expect_status(f, "CertificateSigned", "{\"certificateChain\":\"-----BEGIN CERTIFICATE-----\"}", "Rejected");
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"x\"}",
		      "Rejected");
	expect_status(f, "DeleteCertificate", HD("SHA256", "a", "b", "1"), "NotFound");
	expect_result(f, "GetInstalledCertificateIds", "{\"certificateType\":\"CentralSystemRootCertificate\"}",
		      "{\"status\":\"NotFound\"}");
	/* payloads are still checked */
	expect_error(f, "CertificateSigned", "{}", OCC);
	expect_error(f, "InstallCertificate", "{\"certificateType\":\"X\",\"certificate\":\"x\"}", PRP);
	expect_error(f, "DeleteCertificate", "{}", OCC);
	expect_error(f, "GetInstalledCertificateIds", "{\"certificateType\":2}", TYP);
	assert_int_equal(f->signed_calls + f->install_calls + f->delete_calls + f->ids_calls, 0);
	/* nothing was checked, so no InvalidChargePointCertificate */
	assert_int_equal(ocpp_cp_stats(f->cp)->security_events, events);
	fk_advance(f, 1000);
	fk_no_call(f);
}

/* GetDiagnostics and UpdateFirmware stay known and not supported (GetLog and SignedUpdateFirmware,
 * test_ocpp_logfw.c, replace them); the certificate messages are taken. */
static void test_still_not_supported(void **state)
{
	struct fake *f = *state;

	online(f);
	expect_error(f, "GetDiagnostics", "{}", "NotSupported");
	expect_error(f, "UpdateFirmware", "{}", "NotSupported");
	expect_error(f, "SignCertificate", "{\"csr\":\"x\"}", "NotImplemented"); /* ours to send, not to take */
	expect_status(f, "InstallCertificate", "{\"certificateType\":\"CentralSystemRootCertificate\",\"certificate\":\"x\"}",
		      "Accepted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_certificate_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_certificate_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_certificate_bad_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_certificate_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificate_signed_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificate_signed_rejected_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificate_signed_size_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificate_signed_smaller_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificate_signed_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_installed_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_installed_ids_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_still_not_supported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
