/*
 * ocpp_fake: the fake environment the OCPP core's unit tests run the real ocpp_cp in. Every frame
 * the core sends is recorded and parsed, the journal and the state files are kept in memory (so a
 * charge point can be rebuilt from them, as after a SIGKILL), limits, resets and key changes are
 * logged, and time is driven by hand: ticks happen exactly when ocpp_cp_next_deadline() says, never
 * after a sleep. Shared by the test_ocpp_*.c files; everything is static inline so each test uses
 * what it needs. The gateway's CSR step (env.sign_certificate) is counted, with the frames sent by
 * then, so a test can tell it ran after the CALLRESULT. The certificate callbacks (CertificateSigned,
 * InstallCertificate, DeleteCertificate, GetInstalledCertificateIds) answer what the test set and
 * keep what they were given; so do GetLog, SignedUpdateFirmware and the SecurityProfile readiness
 * check, which may also report a first status back into the core as a gateway would.
 */
#ifndef OCPP_FAKE_H
#define OCPP_FAKE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ocpp_cp.h"
#include "ocpp_json.h"

#define T0_MONO 1000000u
#define T0_WALL 1767225607250LL /* 2026-01-01T00:00:07.250Z: not on a clock-aligned boundary */

/* ------------------------------------------------------------------ the fake environment */

struct frm {
	json_t *j;   /* the whole frame */
	int type;    /* 2, 3 or 4 */
	bool seen;   /* a CALL the test has looked at */
	uint64_t mono;
};

struct jrec {
	uint64_t seq;
	char *text;
};

struct sfile {
	const char *name;
	char *text;
	bool secret;
	int writes;
};

struct fake {
	struct ocpp_cp *cp;
	struct ocpp_now now;
	struct ocpp_cp_params p;
	struct ocpp_key_override keys[16];
	int n_keys;

	struct frm *fr;
	size_t n_fr, cap_fr;
	char cur_id[64];      /* id of the CALL last taken by fk_expect() */
	int cs_id;
	const char *st[OCPP_MAX_CONNECTORS + 1]; /* last StatusNotification status per connector */
	const char *st_err[OCPP_MAX_CONNECTORS + 1];

	struct jrec *jr;
	size_t n_jr, cap_jr;
	int jr_puts, jr_dels, jr_del_unknown;
	uint64_t last_del;
	bool snap_on_map;     /* copy the journal the moment a "map" record is written */
	struct jrec *snap;
	size_t n_snap;

	struct sfile files[5];
	bool store_fail;      /* store() answers -EIO */
	/* A full disk: from journal write number @full_at (puts and deletes counted from 1) every write,
	 * journal or state file, answers -ENOSPC for @full_ms; 0: never. */
	int writes, full_at;
	uint64_t full_ms, full_since;
	int refused;

	int lim_c[512], lim_a[512];
	int n_lim;
	int total[128];       /* set_total_limit calls */
	int n_total;
	int resets;
	bool reset_hard;
	uint64_t reset_at;
	int changed[16];
	int n_changed;

	bool send_fail;
	bool connected;
	int stuck;            /* ticks after which the next deadline was still due: a busy loop */
	bool autoack;         /* answer every CALL with a default result */
	int next_txid;
	int boot_interval;
	const char *auth_status; /* Authorize answer when autoack */

	bool no_sign;         /* build the charge point without env.sign_certificate */
	int signs;            /* sign_certificate calls */
	int sign_rc;          /* what it returns */
	size_t sign_frames;   /* frames sent when it was last called */
	const char *sign_event; /* a security event it reports back into the core, NULL none */
	const char *sign_csr; /* a CSR it hands back with ocpp_cp_sign_certificate(), NULL none */
	int sign_csr_rc;      /* what that returned */

	bool no_certs;        /* build the charge point without the four certificate callbacks */
	int signed_calls;     /* certificate_signed calls */
	int signed_rc;        /* what it returns */
	const char *signed_reason; /* the reason it writes when it rejects, NULL none */
	size_t signed_len;    /* length of the chain it was last given */
	size_t signed_reasonlen;
	int install_calls, install_rc;
	char install_type[64];
	size_t install_len;
	int delete_calls, delete_rc;
	struct ocpp_cert_hash deleted;
	int ids_calls, ids_rc; /* ids_rc < 0: returned as is; else the count of @ids to list */
	int ids_max;          /* @max it was last given */
	char ids_type[64];
	struct ocpp_cert_hash ids[4];

	bool no_logfw;        /* build the charge point without env.get_log and env.signed_update_firmware */
	int log_calls, log_rc;
	struct ocpp_get_log log_req; /* the last request; location copied into log_loc */
	char log_loc[600];
	const char *log_file; /* the file name it writes, NULL none */
	size_t log_file_len;  /* the room it was given */
	const char *log_status_cb; /* a status it reports with ocpp_cp_log_status() before returning */
	int log_status_cb_rc;
	int fw_calls, fw_rc;
	struct ocpp_signed_firmware fw_req; /* strings copied below */
	char fw_loc[600];
	size_t fw_cert_len, fw_sig_len;
	const char *fw_status_cb; /* a status it reports with ocpp_cp_firmware_status() before returning */
	int fw_status_cb_rc;
	bool no_ready;        /* build the charge point without env.security_ready */
	int ready_calls, ready_rc, ready_profile;
	const char *ready_why; /* what it writes into @why when it says no */

	int logged;           /* security_logged calls */
	char logged_last[400]; /* "<type> <when_ms> <techinfo|->" of the last one */

	char warn_last[512];  /* the last log line at WARN or ERROR */
	int warns;
};

static inline bool quick(void)
{
	return getenv("TWCGW_TEST_QUICK") != NULL;
}

static inline int env_send(void *user, const char *text, size_t len)
{
	struct fake *f = user;
	json_t *j;

	if (f->send_fail)
		return -EPIPE;
	j = json_loadb(text, len, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_array(j));
	if (f->n_fr == f->cap_fr) {
		f->cap_fr = f->cap_fr ? f->cap_fr * 2 : 64;
		f->fr = realloc(f->fr, f->cap_fr * sizeof(*f->fr));
		assert_non_null(f->fr);
	}
	f->fr[f->n_fr] = (struct frm){ j, (int)json_integer_value(json_array_get(j, 0)), false, f->now.mono_ms };
	if (f->fr[f->n_fr].type == 2 &&
	    !strcmp(json_string_value(json_array_get(j, 2)), "StatusNotification")) {
		json_t *p = json_array_get(j, 3);
		json_int_t c = json_integer_value(json_object_get(p, "connectorId"));

		if (c >= 0 && c <= OCPP_MAX_CONNECTORS) {
			f->st[c] = json_string_value(json_object_get(p, "status"));
			f->st_err[c] = json_string_value(json_object_get(p, "errorCode"));
		}
	}
	f->n_fr++;
	return 0;
}

static inline size_t jr_find(const struct fake *f, uint64_t seq, bool *found)
{
	size_t i = 0;

	while (i < f->n_jr && f->jr[i].seq < seq)
		i++;
	*found = i < f->n_jr && f->jr[i].seq == seq;
	return i;
}

static inline void jr_copy(struct jrec **dst, size_t *n, const struct jrec *src, size_t cnt)
{
	*dst = cnt ? calloc(cnt, sizeof(**dst)) : NULL;
	for (size_t i = 0; i < cnt; i++) {
		(*dst)[i].seq = src[i].seq;
		(*dst)[i].text = strdup(src[i].text);
	}
	*n = cnt;
}

static inline void jr_free(struct jrec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].text);
	free(r);
}

/* Whether the disk is full now; write @journal counts as one more journal write. */
static inline bool disk_full(struct fake *f, bool journal)
{
	if (journal && f->full_at && ++f->writes == f->full_at)
		f->full_since = f->now.mono_ms ? f->now.mono_ms : 1;
	if (!f->full_since || f->now.mono_ms >= f->full_since + f->full_ms)
		return false;
	f->refused++;
	return true;
}

static inline int env_jput(void *user, uint64_t seq, const char *text)
{
	struct fake *f = user;
	bool found;
	size_t i = jr_find(f, seq, &found);

	if (disk_full(f, true))
		return -ENOSPC;
	f->jr_puts++;
	assert_true(seq > 0);
	if (found) {
		free(f->jr[i].text);
	} else {
		if (f->n_jr == f->cap_jr) {
			f->cap_jr = f->cap_jr ? f->cap_jr * 2 : 32;
			f->jr = realloc(f->jr, f->cap_jr * sizeof(*f->jr));
			assert_non_null(f->jr);
		}
		memmove(&f->jr[i + 1], &f->jr[i], (f->n_jr - i) * sizeof(*f->jr));
		f->n_jr++;
	}
	f->jr[i].seq = seq;
	f->jr[i].text = strdup(text);
	if (f->snap_on_map && !f->snap && strstr(text, "\"k\":\"map\""))
		jr_copy(&f->snap, &f->n_snap, f->jr, f->n_jr);
	return 0;
}

static inline int env_jdel(void *user, uint64_t seq)
{
	struct fake *f = user;
	bool found;
	size_t i = jr_find(f, seq, &found);

	if (disk_full(f, true))
		return -ENOSPC;
	f->jr_dels++;
	f->last_del = seq;
	if (!found) {
		f->jr_del_unknown++;
		return 0;
	}
	free(f->jr[i].text);
	memmove(&f->jr[i], &f->jr[i + 1], (f->n_jr - i - 1) * sizeof(*f->jr));
	f->n_jr--;
	return 0;
}

static inline struct sfile *file_slot(struct fake *f, const char *name)
{
	for (int i = 0; i < 5; i++)
		if (!strcmp(f->files[i].name, name))
			return &f->files[i];
	fail_msg("store() of an unknown file %s", name);
	return NULL;
}

static inline int env_store(void *user, const char *name, const char *text, bool secret)
{
	struct fake *f = user;
	struct sfile *s = file_slot(f, name);

	if (f->store_fail)
		return -EIO;
	if (disk_full(f, false))
		return -ENOSPC;
	free(s->text);
	s->text = strdup(text);
	s->secret = secret;
	s->writes++;
	return 0;
}

static inline void env_set_limit(void *user, int connector, int amps)
{
	struct fake *f = user;

	assert_true(connector >= 1 && connector <= OCPP_MAX_CONNECTORS);
	assert_true(f->n_lim < 512);
	f->lim_c[f->n_lim] = connector;
	f->lim_a[f->n_lim] = amps;
	f->n_lim++;
}

static inline void env_set_total_limit(void *user, int amps)
{
	struct fake *f = user;

	assert_true(amps >= -1 && amps < 40);
	assert_true(f->n_total < 128);
	f->total[f->n_total++] = amps;
}

static inline void env_reset(void *user, bool hard)
{
	struct fake *f = user;

	f->resets++;
	f->reset_hard = hard;
	f->reset_at = f->now.mono_ms;
}

static inline void env_config_changed(void *user, enum ocpp_key k)
{
	struct fake *f = user;

	if (f->n_changed < 16)
		f->changed[f->n_changed++] = (int)k;
}

static inline int env_sign_certificate(void *user)
{
	struct fake *f = user;

	f->signs++;
	f->sign_frames = f->n_fr;
	if (f->sign_event)
		assert_int_equal(ocpp_cp_security_event(f->cp, f->sign_event, "from the CSR step", f->now), 0);
	if (f->sign_csr)
		f->sign_csr_rc = ocpp_cp_sign_certificate(f->cp, f->sign_csr, f->now);
	return f->sign_rc;
}

static inline int env_certificate_signed(void *user, const char *chain, char *reason, size_t reasonlen)
{
	struct fake *f = user;

	f->signed_calls++;
	f->signed_len = strlen(chain);
	f->signed_reasonlen = reasonlen;
	assert_true(reasonlen > 0);
	assert_string_equal(reason, "");
	if (f->signed_rc < 0 && f->signed_reason)
		snprintf(reason, reasonlen, "%s", f->signed_reason);
	return f->signed_rc;
}

static inline int env_install_certificate(void *user, const char *type, const char *pem)
{
	struct fake *f = user;

	f->install_calls++;
	snprintf(f->install_type, sizeof(f->install_type), "%s", type);
	f->install_len = strlen(pem);
	return f->install_rc;
}

static inline int env_delete_certificate(void *user, const struct ocpp_cert_hash *h)
{
	struct fake *f = user;

	f->delete_calls++;
	f->deleted = *h;
	return f->delete_rc;
}

static inline int env_installed_certificates(void *user, const char *type, struct ocpp_cert_hash *out, int max)
{
	struct fake *f = user;

	f->ids_calls++;
	f->ids_max = max;
	snprintf(f->ids_type, sizeof(f->ids_type), "%s", type);
	if (f->ids_rc < 0)
		return f->ids_rc;
	for (int i = 0; i < f->ids_rc && i < max && i < 4; i++)
		out[i] = f->ids[i];
	return f->ids_rc;
}

static inline int env_get_log(void *user, const struct ocpp_get_log *req, char *file_name, size_t file_name_len)
{
	struct fake *f = user;

	f->log_calls++;
	f->log_req = *req;
	snprintf(f->log_loc, sizeof(f->log_loc), "%s", req->location);
	f->log_req.location = f->log_loc;
	f->log_file_len = file_name_len;
	assert_string_equal(file_name, "");
	if (f->log_file)
		snprintf(file_name, file_name_len, "%s", f->log_file);
	if (f->log_status_cb)
		f->log_status_cb_rc = ocpp_cp_log_status(f->cp, f->log_status_cb, req->request_id, f->now);
	return f->log_rc;
}

static inline int env_signed_update_firmware(void *user, const struct ocpp_signed_firmware *req)
{
	struct fake *f = user;

	f->fw_calls++;
	f->fw_req = *req;
	snprintf(f->fw_loc, sizeof(f->fw_loc), "%s", req->location);
	f->fw_req.location = f->fw_loc;
	f->fw_cert_len = strlen(req->signing_certificate);
	f->fw_sig_len = strlen(req->signature);
	f->fw_req.signing_certificate = f->fw_req.signature = NULL; /* borrowed: gone after the call */
	if (f->fw_status_cb)
		f->fw_status_cb_rc = ocpp_cp_firmware_status(f->cp, f->fw_status_cb, req->request_id, f->now);
	return f->fw_rc;
}

static inline int env_security_ready(void *user, int profile, char *why, size_t whylen)
{
	struct fake *f = user;

	f->ready_calls++;
	f->ready_profile = profile;
	assert_true(whylen > 0);
	assert_string_equal(why, "");
	if (f->ready_rc < 0 && f->ready_why)
		snprintf(why, whylen, "%s", f->ready_why);
	return f->ready_rc;
}

static inline void env_security_logged(void *user, const char *type, int64_t when_ms, const char *techinfo)
{
	struct fake *f = user;

	f->logged++;
	snprintf(f->logged_last, sizeof(f->logged_last), "%s %lld %s", type, (long long)when_ms,
		 techinfo ? techinfo : "-");
}

static inline void env_log(void *user, enum core_log_level level, const char *msg)
{
	struct fake *f = user;

	if (level > CORE_LOG_WARN)
		return;
	f->warns++;
	snprintf(f->warn_last, sizeof(f->warn_last), "%s", msg);
}

static const struct ocpp_cp_env fake_env = {
	.send = env_send,
	.journal_put = env_jput,
	.journal_del = env_jdel,
	.store = env_store,
	.set_limit = env_set_limit,
	.set_total_limit = env_set_total_limit,
	.reset = env_reset,
	.config_changed = env_config_changed,
	.sign_certificate = env_sign_certificate,
	.certificate_signed = env_certificate_signed,
	.install_certificate = env_install_certificate,
	.delete_certificate = env_delete_certificate,
	.installed_certificates = env_installed_certificates,
	.get_log = env_get_log,
	.signed_update_firmware = env_signed_update_firmware,
	.security_ready = env_security_ready,
	.security_logged = env_security_logged,
	.log = env_log,
};

static inline int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->now.mono_ms = T0_MONO;
	f->now.wall_ms = T0_WALL;
	f->p.vendor = "Tesla";
	f->p.model = "TWC2 gateway";
	f->p.serial = "GW-0001";
	f->p.firmware = "0.1.0";
	f->p.id_tag_source = OCPP_IDTAG_REMOTE;
	f->p.voltage = 230;
	f->p.phases = 1;
	f->p.max_amps_per_connector = 32;
	f->p.max_amps_total = 40;
	f->p.min_amps = 6;
	f->p.max_security_profile = 1;
	f->files[0].name = OCPP_FILE_CONFIG;
	f->files[1].name = OCPP_FILE_CONNECTORS;
	f->files[2].name = OCPP_FILE_AUTH;
	f->files[3].name = OCPP_FILE_PROFILES;
	f->files[4].name = OCPP_FILE_LOCAL_LIST;
	f->next_txid = 100;
	f->boot_interval = 3600;
	f->auth_status = "Accepted";
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fake *f = *state;

	ocpp_cp_free(f->cp);
	for (size_t i = 0; i < f->n_fr; i++)
		json_decref(f->fr[i].j);
	free(f->fr);
	jr_free(f->jr, f->n_jr);
	jr_free(f->snap, f->n_snap);
	for (int i = 0; i < 5; i++)
		free(f->files[i].text);
	free(f);
	return 0;
}

static inline void fk_key(struct fake *f, const char *name, const char *value)
{
	assert_true(f->n_keys < 16);
	f->keys[f->n_keys].name = name;
	f->keys[f->n_keys].value = value;
	f->n_keys++;
}

/* A charge point from the params and whatever state files exist. */
static inline void fk_new(struct fake *f)
{
	struct ocpp_cp_env env = fake_env;

	env.user = f;
	if (f->no_sign)
		env.sign_certificate = NULL;
	if (f->no_certs) {
		env.certificate_signed = NULL;
		env.install_certificate = NULL;
		env.delete_certificate = NULL;
		env.installed_certificates = NULL;
	}
	if (f->no_logfw) {
		env.get_log = NULL;
		env.signed_update_firmware = NULL;
	}
	if (f->no_ready)
		env.security_ready = NULL;
	f->p.keys = f->keys;
	f->p.n_keys = f->n_keys;
	f->p.config_json = f->files[0].text;
	f->p.connectors_json = f->files[1].text;
	f->p.auth_json = f->files[2].text;
	f->p.profiles_json = f->files[3].text;
	f->p.local_list_json = f->files[4].text;
	f->cp = ocpp_cp_new(&f->p, &env);
	assert_non_null(f->cp);
}

static inline uint64_t jr_max_seq(const struct jrec *r, size_t n)
{
	return n ? r[n - 1].seq : 0;
}

static inline void fk_start(struct fake *f)
{
	fk_new(f);
	ocpp_cp_start(f->cp, jr_max_seq(f->jr, f->n_jr), f->now);
}

/* SIGKILL: drop the charge point without any goodbye and build a new one from the state files and
 * the live journal records (@recs, or the current journal when NULL). Return how many records the
 * core refused. */
static inline int fk_restart(struct fake *f, const struct jrec *recs, size_t n)
{
	struct jrec *copy;
	size_t cnt;
	int refused = 0;

	ocpp_cp_free(f->cp);
	f->cp = NULL;
	f->connected = false;
	for (size_t i = 0; i < f->n_fr; i++)
		f->fr[i].seen = true;
	for (int c = 0; c <= OCPP_MAX_CONNECTORS; c++)
		f->st[c] = f->st_err[c] = NULL;
	if (!recs) {
		recs = f->jr;
		n = f->n_jr;
	}
	jr_copy(&copy, &cnt, recs, n);
	if (recs != f->jr) {
		/* the journal on disk is what was snapshotted */
		jr_free(f->jr, f->n_jr);
		jr_copy(&f->jr, &f->n_jr, copy, cnt);
		f->cap_jr = f->n_jr;
	}
	fk_new(f);
	for (size_t i = 0; i < cnt; i++)
		if (ocpp_cp_restore_record(f->cp, copy[i].seq, copy[i].text) < 0)
			refused++;
	ocpp_cp_start(f->cp, jr_max_seq(copy, cnt), f->now);
	jr_free(copy, cnt);
	return refused;
}

/* ---- frames ---- */

static inline const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (!s)
		fail_msg("field %s missing or not a string", k);
	return s;
}

static inline json_int_t jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("field %s missing or not an integer", k);
	return json_integer_value(v);
}

static inline const char *frame_action(const struct frm *fr)
{
	return json_string_value(json_array_get(fr->j, 2));
}

static inline int fk_pending(const struct fake *f)
{
	int n = 0;

	for (size_t i = 0; i < f->n_fr; i++)
		n += f->fr[i].type == 2 && !f->fr[i].seen;
	return n;
}

static inline struct frm *fk_next(struct fake *f)
{
	for (size_t i = 0; i < f->n_fr; i++)
		if (f->fr[i].type == 2 && !f->fr[i].seen)
			return &f->fr[i];
	return NULL;
}

/* With TWCGW_TEST_DEBUG set, print every frame and journal record (to see why a test failed). */
static inline void fk_dump(const struct fake *f)
{
	if (!getenv("TWCGW_TEST_DEBUG"))
		return;
	for (size_t i = 0; i < f->n_fr; i++) {
		char *t = json_dumps(f->fr[i].j, JSON_COMPACT);

		fprintf(stderr, "frame %zu @%llu%s %s\n", i, (unsigned long long)f->fr[i].mono,
			f->fr[i].seen ? "" : " (pending)", t);
		free(t);
	}
	for (size_t i = 0; i < f->n_jr; i++)
		fprintf(stderr, "journal %llu %s\n", (unsigned long long)f->jr[i].seq, f->jr[i].text);
}

/* The next CALL the charge point sent must be @action; it becomes the one fk_ack() answers. */
static inline json_t *fk_expect(struct fake *f, const char *action)
{
	struct frm *fr = fk_next(f);

	if (!fr || strcmp(frame_action(fr), action) != 0)
		fk_dump(f);

	if (!fr)
		fail_msg("expected %s, nothing sent", action);
	if (strcmp(frame_action(fr), action) != 0)
		fail_msg("expected %s, got %s", action, frame_action(fr));
	fr->seen = true;
	snprintf(f->cur_id, sizeof(f->cur_id), "%s", json_string_value(json_array_get(fr->j, 1)));
	return json_array_get(fr->j, 3);
}

static inline void fk_no_call(struct fake *f)
{
	struct frm *fr = fk_next(f);

	if (fr)
		fail_msg("unexpected %s", frame_action(fr));
}

static inline void fk_input(struct fake *f, const char *text)
{
	ocpp_cp_input(f->cp, text, strlen(text), f->now);
}

static inline void fk_ack(struct fake *f, const char *payload)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "[3,\"%s\",%s]", f->cur_id, payload);
	fk_input(f, buf);
}

static inline void fk_callerror(struct fake *f)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "[4,\"%s\",\"InternalError\",\"test says no\",{}]", f->cur_id);
	fk_input(f, buf);
}

static inline void fmt_time(int64_t ms, char *buf)
{
	ocpp_time_format(ms, buf, OCPP_TIME_LEN + 1);
}

static inline void fk_ack_time(struct fake *f)
{
	char ts[OCPP_TIME_LEN + 1], buf[128];

	fmt_time(f->now.wall_ms, ts);
	snprintf(buf, sizeof(buf), "{\"currentTime\":\"%s\"}", ts);
	fk_ack(f, buf);
}

static inline void fk_ack_boot(struct fake *f, const char *status, int interval)
{
	char ts[OCPP_TIME_LEN + 1], buf[256];

	fmt_time(f->now.wall_ms, ts);
	snprintf(buf, sizeof(buf), "{\"status\":\"%s\",\"currentTime\":\"%s\",\"interval\":%d}", status, ts, interval);
	fk_ack(f, buf);
}

static inline void fk_ack_start(struct fake *f, int id, const char *status)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"transactionId\":%d,\"idTagInfo\":{\"status\":\"%s\"}}", id, status);
	fk_ack(f, buf);
}

static inline void fk_ack_auth(struct fake *f, const char *status)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "{\"idTagInfo\":{\"status\":\"%s\"}}", status);
	fk_ack(f, buf);
}

/* Answer every pending CALL with a plausible result. Return how many. */
static inline int fk_auto(struct fake *f)
{
	int n = 0;
	struct frm *fr;

	if (!f->autoack)
		return 0;
	while ((fr = fk_next(f)) != NULL && n < 1000) {
		const char *a = frame_action(fr);

		fk_expect(f, a);
		if (!strcmp(a, "BootNotification"))
			fk_ack_boot(f, "Accepted", f->boot_interval);
		else if (!strcmp(a, "Heartbeat"))
			fk_ack_time(f);
		else if (!strcmp(a, "StartTransaction"))
			fk_ack_start(f, f->next_txid++, "Accepted");
		else if (!strcmp(a, "Authorize"))
			fk_ack_auth(f, f->auth_status);
		else if (!strcmp(a, "StopTransaction"))
			fk_ack(f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
		else
			fk_ack(f, "{}");
		n++;
	}
	return n;
}

/* Answer StatusNotification and Heartbeat CALLs until another action (left pending) or none. */
static inline void fk_settle(struct fake *f)
{
	struct frm *fr;

	while ((fr = fk_next(f)) != NULL) {
		const char *a = frame_action(fr);

		if (!strcmp(a, "StatusNotification")) {
			fk_expect(f, a);
			fk_ack(f, "{}");
		} else if (!strcmp(a, "Heartbeat")) {
			fk_expect(f, a);
			fk_ack_time(f);
		} else {
			break;
		}
	}
}

/* Settle, then the next CALL must be @action. */
static inline json_t *fk_expect_after_status(struct fake *f, const char *action)
{
	fk_settle(f);
	return fk_expect(f, action);
}

/* A central-system CALL; return the charge point's answer frame (borrowed). */
static inline json_t *fk_cs(struct fake *f, const char *action, const char *payload)
{
	char buf[4096], id[32];
	size_t before = f->n_fr;

	snprintf(id, sizeof(id), "cs-%d", ++f->cs_id);
	snprintf(buf, sizeof(buf), "[2,\"%s\",\"%s\",%s]", id, action, payload);
	fk_input(f, buf);
	for (size_t i = before; i < f->n_fr; i++)
		if (f->fr[i].type != 2 && !strcmp(json_string_value(json_array_get(f->fr[i].j, 1)), id))
			return f->fr[i].j;
	fail_msg("no answer to %s", action);
	return NULL;
}

static inline const char *fk_cs_status(struct fake *f, const char *action, const char *payload)
{
	json_t *r = fk_cs(f, action, payload);

	if (json_integer_value(json_array_get(r, 0)) != 3)
		fail_msg("%s answered with %s", action, json_string_value(json_array_get(r, 2)));
	return jstr(json_array_get(r, 2), "status");
}

/* ---- time ---- */

static inline void fk_set_time(struct fake *f, uint64_t mono)
{
	f->now.wall_ms += (int64_t)(mono - f->now.mono_ms);
	f->now.mono_ms = mono;
}

/* Tick while something is due now. Return false when a tick left its own deadline due (busy loop). */
static inline bool fk_tick_due(struct fake *f)
{
	fk_auto(f);
	for (int guard = 0; guard < 100; guard++) {
		if (ocpp_cp_next_deadline(f->cp) > f->now.mono_ms)
			return true;
		int answered;

		ocpp_cp_tick(f->cp, f->now);
		answered = fk_auto(f);
		if (ocpp_cp_next_deadline(f->cp) <= f->now.mono_ms && !answered) {
			f->stuck++;
			return false;
		}
	}
	f->stuck++;
	return false;
}

/* Let @ms pass, ticking exactly at every deadline on the way. */
static inline void fk_advance(struct fake *f, uint64_t ms)
{
	uint64_t target = f->now.mono_ms + ms;

	for (;;) {
		uint64_t d;

		if (!fk_tick_due(f)) {
			/* The core would spin here; move on in small steps so the test can go on. */
			if (f->now.mono_ms >= target)
				break;
			fk_set_time(f, f->now.mono_ms + 100 < target ? f->now.mono_ms + 100 : target);
			continue;
		}
		d = ocpp_cp_next_deadline(f->cp);
		if (d > target)
			break;
		fk_set_time(f, d);
	}
	fk_set_time(f, target);
	fk_tick_due(f);
}

/* ---- TWCs ---- */

static inline struct ocpp_evse ev_make(bool plugged, double amps)
{
	struct ocpp_evse e;

	memset(&e, 0, sizeof(e));
	e.present = true;
	e.plugged = plugged;
	e.amps = amps;
	e.drawing = amps >= 1.0;
	e.offered_amps = 32;
	e.volts = 230;
	return e;
}

static inline void fk_evse(struct fake *f, int c, const struct ocpp_evse *e)
{
	ocpp_cp_evse_update(f->cp, c, e, f->now);
	fk_auto(f);
}

static inline void fk_ev(struct fake *f, int c, bool plugged, double amps)
{
	struct ocpp_evse e = ev_make(plugged, amps);

	fk_evse(f, c, &e);
}

/* @seconds of charging at @amps with an update every second. */
static inline void fk_charge(struct fake *f, int c, int seconds, double amps)
{
	for (int s = 0; s < seconds; s++) {
		fk_advance(f, 1000);
		fk_ev(f, c, true, amps);
	}
}

static inline int lim_now(const struct fake *f, int c)
{
	for (int i = f->n_lim - 1; i >= 0; i--)
		if (f->lim_c[i] == c)
			return f->lim_a[i];
	return INT32_MIN;
}

/* Started, @n TWCs present and idle, connected and registered, every status acknowledged. */
static inline void fk_online(struct fake *f, int n)
{
	fk_start(f);
	for (int i = 0; i < n; i++) {
		assert_int_equal(ocpp_cp_connector_for_twc(f->cp, (uint16_t)(0x1001 + i)), i + 1);
		fk_ev(f, i + 1, false, 0);
	}
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", f->boot_interval);
	assert_true(ocpp_cp_registered(f->cp));
	fk_settle(f);
	for (int i = 0; i <= n; i++)
		assert_string_equal(f->st[i], "Available");
}

static inline void fk_connect_boot(struct fake *f)
{
	ocpp_cp_connected(f->cp, f->now);
	f->connected = true;
	fk_expect(f, "BootNotification");
	fk_ack_boot(f, "Accepted", f->boot_interval);
	assert_true(ocpp_cp_registered(f->cp));
}

/* Remote start on connector @c and plug in: the transaction runs, confirmed as @id. */
static inline void fk_remote_tx(struct fake *f, int c, int id)
{
	char req[128];
	json_t *p;

	snprintf(req, sizeof(req), "{\"connectorId\":%d,\"idTag\":\"TAG%d\"}", c, c);
	assert_string_equal(fk_cs_status(f, "RemoteStartTransaction", req), "Accepted");
	fk_settle(f);
	fk_ev(f, c, true, 0);
	p = fk_expect_after_status(f, "StartTransaction");
	assert_int_equal(jint(p, "connectorId"), c);
	fk_ack_start(f, id, "Accepted");
	fk_settle(f);
	assert_int_equal(ocpp_cp_transaction_id(f->cp, c), id);
}

static inline int journal_count(const struct fake *f, const char *needle)
{
	int n = 0;

	for (size_t i = 0; i < f->n_jr; i++)
		n += strstr(f->jr[i].text, needle) != NULL;
	return n;
}

/* Indexes of the CALL frames of @action sent at or after frame @from. */
static inline int calls_of(const struct fake *f, const char *action, size_t from, size_t *idx, int max)
{
	int n = 0;

	for (size_t i = from; i < f->n_fr; i++)
		if (f->fr[i].type == 2 && !strcmp(frame_action(&f->fr[i]), action)) {
			if (n >= 0 && n < max) /* n >= 0 for gcc's -Warray-bounds, which assumes n++ may wrap */
				idx[n] = i;
			n++;
		}
	return n;
}

static inline json_t *payload_of(const struct fake *f, size_t i)
{
	return json_array_get(f->fr[i].j, 3);
}

static inline const json_t *sampled(const json_t *mv_payload, size_t k)
{
	return json_array_get(json_object_get(json_array_get(json_object_get(mv_payload, "meterValue"), 0),
					      "sampledValue"),
			      k);
}

static inline const char *mv_time(const json_t *mv_payload)
{
	return jstr(json_array_get(json_object_get(mv_payload, "meterValue"), 0), "timestamp");
}

static inline int64_t parse_ts(const char *s)
{
	int64_t ms = 0;

	assert_int_equal(ocpp_time_parse(s, &ms), 0);
	return ms;
}

#endif
