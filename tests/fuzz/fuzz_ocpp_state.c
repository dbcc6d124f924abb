/*
 * libFuzzer target for the OCPP core's state files and journal records as read back at start: today
 * they only ever hold what the core wrote, but a disk fault, an old version or a hand edit can leave
 * anything. The first byte picks what the rest is: one of the five state files (config, connectors,
 * auth cache, charging profiles, Local Authorization List), one journal record, or (6, 7) all of
 * them split at 0x00 bytes (five files, an empty chunk for an absent one, then journal records).
 * Its bits 3-4 pick the idTag source. A charge point is built from that, restored, started and run
 * through a session against a central system that accepts everything: boot, a plug-in with a VIN,
 * charging for an hour in three steps, calls that make it rewrite every state file (ChangeConfiguration,
 * SendLocalList, SetChargingProfile, Authorize), unplugging. Then it restarts from the files and
 * journal it wrote itself. Checked: no crash, leak or undefined behaviour; ocpp_cp_new() never fails
 * on state; every frame sent is a JSON array; the limits stay within the wiring as in fuzz_ocpp_cp;
 * every state file written is JSON; and after the restart nothing the core wrote is "not understood":
 * no warning about a file it stored, every journal record restores.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ocpp_cp.h"
#include "fuzz_mem_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WALL0 1767225600000LL
#define MAX_RECORDS 512
#define MAX_PENDING 64
#define N_FILES 5
#define VIN "5YJ3E1EA7KF000001"

static const char *const file_names[N_FILES] = { OCPP_FILE_CONFIG, OCPP_FILE_CONNECTORS, OCPP_FILE_AUTH,
						 OCPP_FILE_PROFILES, OCPP_FILE_LOCAL_LIST };

struct pending {
	char id[48];
	char action[40];
};

struct fz {
	struct ocpp_cp *cp;
	struct ocpp_now now;
	enum ocpp_id_tag_source source;
	uint64_t seq[MAX_RECORDS];
	char *text[MAX_RECORDS];
	int n;
	char *files[N_FILES];    /* as last stored by the core; NULL: never */
	char *input[N_FILES];    /* as the input gave them; NULL: absent */
	struct pending pend[MAX_PENDING];
	int n_pend;
	int tx_id;
	bool restarting;         /* warnings about files the core stored are failures now */
};

static int fz_send(void *user, const char *text, size_t len)
{
	struct fz *z = user;
	json_t *j = json_loadb(text, len, 0, NULL);

	if (!json_is_array(j))
		abort();
	/* A CALL from the charge point: answered after the core returns, never from inside it. */
	if (json_integer_value(json_array_get(j, 0)) == 2 && z->n_pend < MAX_PENDING) {
		struct pending *p = &z->pend[z->n_pend];
		const char *id = json_string_value(json_array_get(j, 1));
		const char *action = json_string_value(json_array_get(j, 2));

		if (!id || !action)
			abort();
		snprintf(p->id, sizeof(p->id), "%s", id);
		snprintf(p->action, sizeof(p->action), "%s", action);
		z->n_pend++;
	}
	json_decref(j);
	return 0;
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
	json_t *j = json_loads(text, 0, NULL);

	if (!j)
		abort();
	json_decref(j);
	for (int i = 0; i < N_FILES; i++)
		if (!strcmp(name, file_names[i])) {
			if (secret != (i == 0))
				abort();
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

static void fz_log(void *user, enum core_log_level level, const char *msg)
{
	struct fz *z = user;

	if (!msg || (unsigned)level > CORE_LOG_DEBUG)
		abort();
	if (!z->restarting || level > CORE_LOG_WARN)
		return;
	/* After the restart: a warning about a file the core wrote itself means it cannot read its own
	 * writing. */
	for (int i = 0; i < N_FILES; i++)
		if (z->files[i] && !strncmp(msg, file_names[i], strlen(file_names[i])))
			abort();
	if (strstr(msg, "journal record"))
		abort();
}

static const struct ocpp_key_override keys[] = {
	{ "AllowOfflineTxForUnknownId", "false" },
	{ "LocalAuthorizeOffline", "true" },
	{ "LocalPreAuthorize", "true" },
	{ "AuthorizationCacheEnabled", "true" },
	{ "LocalAuthListEnabled", "true" },
	{ "MeterValueSampleInterval", "300" },
	{ "MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import" },
	{ "TransactionMessageRetryInterval", "5" },
};

static struct ocpp_cp *fz_new(struct fz *z, char *const *files)
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
	};

	memset(&p, 0, sizeof(p));
	p.vendor = "Tesla";
	p.model = "TWC2 gateway";
	p.id_tag_source = z->source;
	p.fixed_id_tag = "FLEET01";
	p.voltage = 230;
	p.phases = 1;
	p.max_amps_per_connector = 32;
	p.max_amps_total = 40;
	p.min_amps = 6;
	p.call_timeout_s = 10;
	p.queue_max = 20;
	p.max_security_profile = 1;
	p.keys = keys;
	p.n_keys = (int)(sizeof(keys) / sizeof(keys[0]));
	p.config_json = files[0];
	p.connectors_json = files[1];
	p.auth_json = files[2];
	p.profiles_json = files[3];
	p.local_list_json = files[4];
	return ocpp_cp_new(&p, &env);
}

/* Answer every CALL the charge point made, as a central system that accepts everything. */
static void fz_answer(struct fz *z)
{
	for (int guard = 0; guard < 256 && z->n_pend > 0; guard++) {
		struct pending p = z->pend[0];
		char frame[256];
		int n;

		memmove(&z->pend[0], &z->pend[1], (size_t)(z->n_pend - 1) * sizeof(z->pend[0]));
		z->n_pend--;
		if (!strcmp(p.action, "BootNotification"))
			n = snprintf(frame, sizeof(frame),
				     "[3,\"%s\",{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\","
				     "\"interval\":300}]", p.id);
		else if (!strcmp(p.action, "Authorize"))
			n = snprintf(frame, sizeof(frame),
				     "[3,\"%s\",{\"idTagInfo\":{\"status\":\"Accepted\",\"expiryDate\":"
				     "\"2027-01-01T00:00:00Z\"}}]", p.id);
		else if (!strcmp(p.action, "StartTransaction"))
			n = snprintf(frame, sizeof(frame),
				     "[3,\"%s\",{\"transactionId\":%d,\"idTagInfo\":{\"status\":\"Accepted\"}}]", p.id,
				     ++z->tx_id);
		else if (!strcmp(p.action, "Heartbeat"))
			n = snprintf(frame, sizeof(frame), "[3,\"%s\",{\"currentTime\":\"2026-01-01T00:00:00Z\"}]", p.id);
		else
			n = snprintf(frame, sizeof(frame), "[3,\"%s\",{}]", p.id);
		ocpp_cp_input(z->cp, frame, (size_t)n, z->now);
	}
	z->n_pend = 0;
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
		fz_answer(z);
	}
	z->now.wall_ms += (int64_t)(target - z->now.mono_ms);
	z->now.mono_ms = target;
	ocpp_cp_tick(z->cp, z->now);
	fz_answer(z);
}

static void fz_evse(struct fz *z, int connector, bool plugged, double amps, uint64_t wh)
{
	struct ocpp_evse ev;

	memset(&ev, 0, sizeof(ev));
	ev.present = true;
	ev.plugged = plugged;
	ev.drawing = amps >= 1;
	ev.amps = amps;
	ev.offered_amps = 32;
	ev.volts = 230;
	ev.has_lifetime = true;
	ev.lifetime_wh = wh;
	memcpy(ev.vin, VIN, sizeof(VIN));
	ocpp_cp_evse_update(z->cp, connector, &ev, z->now);
	fz_answer(z);
}

static void fz_call(struct fz *z, const char *frame)
{
	ocpp_cp_input(z->cp, frame, strlen(frame), z->now);
	fz_answer(z);
}

/* Restore the journal as it stands (the core may delete records meanwhile: work on a copy) and start. */
static void fz_restore_start(struct fz *z, bool must_understand)
{
	int n = z->n;
	uint64_t seq[MAX_RECORDS];
	char *text[MAX_RECORDS];

	for (int i = 0; i < n; i++) {
		seq[i] = z->seq[i];
		text[i] = strdup(z->text[i]);
	}
	for (int i = 0; i < n; i++) {
		int rc = ocpp_cp_restore_record(z->cp, seq[i], text[i]);

		if (rc != 0 && (must_understand || rc != -EINVAL))
			abort();
		free(text[i]);
	}
	ocpp_cp_start(z->cp, n ? seq[n - 1] : 0, z->now);
}

/* A session that makes the core use, and rewrite, every kind of state. */
static void fz_session(struct fz *z)
{
	int c;

	ocpp_cp_connected(z->cp, z->now);
	fz_answer(z);
	c = ocpp_cp_connector_for_twc(z->cp, 0x1001);
	if (c < 1) /* the connectors file used every number up: reuse its first TWC's connector */
		c = 1;
	if (ocpp_cp_connector_count(z->cp) > OCPP_MAX_CONNECTORS)
		abort();
	fz_evse(z, c, false, 0, 1000);
	fz_call(z, "[2,\"cs1\",\"ChangeConfiguration\",{\"key\":\"HeartbeatInterval\",\"value\":\"600\"}]");
	fz_call(z, "[2,\"cs2\",\"SendLocalList\",{\"listVersion\":2147483647,\"updateType\":\"Differential\","
		   "\"localAuthorizationList\":[{\"idTag\":\"" VIN "\",\"idTagInfo\":{\"status\":\"Accepted\"}}]}]");
	fz_call(z, "[2,\"cs3\",\"SetChargingProfile\",{\"connectorId\":0,\"csChargingProfiles\":{"
		   "\"chargingProfileId\":9001,\"stackLevel\":7,\"chargingProfilePurpose\":\"TxDefaultProfile\","
		   "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
		   "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":24}]}}}]");
	/* Offline plug-in first: the local list and the cache decide. */
	ocpp_cp_disconnected(z->cp, z->now);
	fz_evse(z, c, true, 0, 1000);
	fz_advance(z, 2000);
	fz_evse(z, c, true, 16, 1100);
	fz_advance(z, 60000);
	ocpp_cp_connected(z->cp, z->now);
	fz_answer(z);
	fz_call(z, "[2,\"cs4\",\"RemoteStartTransaction\",{\"connectorId\":1,\"idTag\":\"TAG1\"}]");
	for (int i = 0; i < 3; i++) {
		fz_evse(z, c, true, 16, 1100 + (uint64_t)i * 1200);
		fz_advance(z, 1200000);
	}
	fz_evse(z, c, false, 0, 6000);
	fz_advance(z, 30000);
}

static void fz_free_all(struct fz *z)
{
	ocpp_cp_free(z->cp);
	z->cp = NULL;
	for (int i = 0; i < z->n; i++)
		free(z->text[i]);
	z->n = 0;
	for (int i = 0; i < N_FILES; i++) {
		free(z->files[i]);
		free(z->input[i]);
	}
}

static char *dup_text(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z;
	char *restart_files[N_FILES];
	unsigned mode;

	if (size < 1)
		return 0;
	memset(&z, 0, sizeof(z));
	z.now.mono_ms = 1000000;
	z.now.wall_ms = WALL0;
	mode = data[0] & 7;
	z.source = (enum ocpp_id_tag_source)((data[0] >> 3 & 3) % 3);
	data++;
	size--;
	if (mode < N_FILES) {
		z.input[mode] = dup_text(data, size);
	} else if (mode == N_FILES) {
		z.seq[0] = 1;
		z.text[0] = dup_text(data, size);
		z.n = 1;
	} else {
		size_t start = 0;
		int k = 0;

		for (size_t i = 0; i <= size; i++) {
			if (i < size && data[i])
				continue;
			if (k < N_FILES) {
				z.input[k] = i > start ? dup_text(data + start, i - start) : NULL;
			} else if (z.n < MAX_RECORDS) {
				z.seq[z.n] = (uint64_t)z.n + 1;
				z.text[z.n++] = dup_text(data + start, i - start);
			}
			k++;
			start = i + 1;
		}
	}

	z.cp = fz_new(&z, z.input);
	if (!z.cp)
		abort();
	fz_restore_start(&z, false);
	fz_session(&z);
	if (ocpp_cp_connector_count(z.cp) > OCPP_MAX_CONNECTORS)
		abort();

	/* Restart from what the core wrote (and the input's files it never rewrote). */
	ocpp_cp_free(z.cp);
	for (int i = 0; i < N_FILES; i++)
		restart_files[i] = z.files[i] ? z.files[i] : z.input[i];
	z.restarting = true;
	z.n_pend = 0;
	z.cp = fz_new(&z, restart_files);
	if (!z.cp)
		abort();
	fz_restore_start(&z, true);
	z.restarting = false;
	ocpp_cp_connected(z.cp, z.now);
	fz_answer(&z);
	fz_advance(&z, 10000);
	fz_free_all(&z);
	return 0;
}
