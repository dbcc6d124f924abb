/*
 * libFuzzer target for the OCPP charge-point engine: the input, split into chunks at 0x00 bytes, is
 * fed to a running charge point as central-system frames, interleaved with commands (chunks that
 * start with a byte below 0x20) that let time pass (ticking at each deadline), update a TWC (its
 * lifetime counter any uint64), map a TWC, open or close the link, make sends fail, or rebuild the
 * charge point from its journal and state files as after a SIGKILL. Nothing is ever answered
 * except what the input itself answers (the message ids are predictable: "19b76daa800-<n>").
 * Checked: no crash, leak or undefined behaviour; every frame sent is a JSON array; set_limit()
 * only for connectors 1..8 with -1 (the wiring), 0 or from the minimum to below the wiring,
 * whatever charging profiles arrive, and set_total_limit() -1 or below the total wiring; every
 * journal record the core wrote is understood when restored. The whole input is also given to
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
	char *files[4];
};

static const char *const file_names[4] = { OCPP_FILE_CONFIG, OCPP_FILE_CONNECTORS, OCPP_FILE_AUTH,
					   OCPP_FILE_PROFILES };

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
	for (int i = 0; i < 4; i++)
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
	p.max_security_profile = 1;
	p.keys = keys;
	p.n_keys = (int)(sizeof(keys) / sizeof(keys[0]));
	p.config_json = z->files[0];
	p.connectors_json = z->files[1];
	p.auth_json = z->files[2];
	p.profiles_json = z->files[3];
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

static void fz_command(struct fz *z, const uint8_t *c, size_t n, bool fixed)
{
	uint8_t a = n > 1 ? c[1] : 0, b = n > 2 ? c[2] : 0, d = n > 3 ? c[3] : 0, e = n > 4 ? c[4] : 0;

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
	for (int i = 0; i < 4; i++)
		free(z.files[i]);
	return 0;
}
