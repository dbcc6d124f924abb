/*
 * ocpp_cp_transaction: authorisation and transactions. Where a connector's idTag comes from (fixed,
 * the car's VIN, or RemoteStartTransaction), whether it is good (Local Authorization List, cache,
 * offline rules, or an Authorize), how long an authorisation waits for a car, and the start and
 * stop of transactions with their journal records.
 */
#include "ocpp_cp_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- idTags and authorisation */

/* IdTagInfo, shared by Authorize, StartTransaction and StopTransaction. */
json_t *ocpp_idtaginfo_json(const struct ocpp_id_tag_info *info)
{
	json_t *j = json_pack("{s:s}", "status", ocpp_auth_status_names[info->status]);
	char ts[OCPP_TIME_LEN + 1];

	if (j && info->expiry_ms) {
		ocpp_time_format(info->expiry_ms, ts, sizeof(ts));
		json_object_set_new(j, "expiryDate", json_string(ts));
	}
	if (j && info->parent[0])
		json_object_set_new(j, "parentIdTag", json_string(info->parent));
	return j;
}

int ocpp_idtaginfo_parse(const json_t *obj, struct ocpp_id_tag_info *out, struct ocpp_perr *e)
{
	static const char *const keys[] = { "status", "expiryDate", "parentIdTag", NULL };
	int st = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "idTagInfo: not an object");
	if (ocpp_json_only(obj, keys, e) < 0 ||
	    ocpp_json_enum(obj, "status", ocpp_auth_status_names, OCPP_AUTH_COUNT, true, &st, e) < 0 ||
	    ocpp_json_time(obj, "expiryDate", false, &out->expiry_ms, e) < 0 ||
	    ocpp_json_string(obj, "parentIdTag", OCPP_IDTAG_MAX, false, out->parent, sizeof(out->parent), e) < 0)
		return -EINVAL;
	out->status = (enum ocpp_auth_status)st;
	return 0;
}

bool ocpp_cp_local_auth(struct ocpp_cp *cp, const char *tag, struct ocpp_id_tag_info *info)
{
	if (ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_AUTH_LIST_ENABLED) &&
	    ocpp_local_list_lookup(cp->local_list, tag, cp->now_wall, info))
		return true;
	return ocpp_config_bool(cp->cfg, OCPP_KEY_AUTHORIZATION_CACHE_ENABLED) &&
	       ocpp_auth_cache_lookup(cp->auth, tag, cp->now_wall, info);
}

void ocpp_cp_authorized(struct ocpp_cp *cp, int c, const char *tag, const char *parent, bool remote)
{
	struct ocpp_conn *k = &cp->conn[c];

	k->auth = OCPP_AS_OK;
	k->auth_remote = remote;
	ocpp_cp_str_copy(k->auth_tag, sizeof(k->auth_tag), tag);
	ocpp_cp_str_copy(k->auth_parent, sizeof(k->auth_parent), parent);
	k->auth_ms = cp->now_ms;
}

/* A local idTag (fixed or VIN) for connector @c: the cache, the offline rules or an Authorize. */
void ocpp_cp_auth_begin(struct ocpp_cp *cp, int c, const char *tag)
{
	struct ocpp_conn *k = &cp->conn[c];
	struct ocpp_id_tag_info info;
	bool online = cp->connected && cp->registered;
	bool cached = ocpp_cp_local_auth(cp, tag, &info);
	bool cached_ok = cached && info.status == OCPP_AUTH_ACCEPTED;

	ocpp_cp_str_copy(k->auth_tag, sizeof(k->auth_tag), tag);
	k->auth_remote = false;
	if (online && cached_ok && ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_PRE_AUTHORIZE)) {
		ocpp_cp_authorized(cp, c, tag, info.parent, false);
		return;
	}
	if (online) {
		k->auth = OCPP_AS_PENDING;
		ocpp_cp_queue(cp, OCPP_OUT_AUTHORIZE, ocpp_authorize_req(tag), c, 0, false);
		return;
	}
	if ((cached_ok && ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE)) ||
	    (!cached && ocpp_config_bool(cp->cfg, OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID))) {
		ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: authorised offline (%s)", c, cached ? "cache" : "unknown id allowed");
		ocpp_cp_authorized(cp, c, tag, cached ? info.parent : "", false);
		return;
	}
	/* Not now; tried again when the central system is back. */
	k->auth = OCPP_AS_NONE;
	k->auth_retry_ms = cp->now_ms + OCPP_CP_AUTH_RETRY_MS;
}

/* Local idTags that could not be authorised while offline get another try once registered. */
void ocpp_cp_auth_retry(struct ocpp_cp *cp)
{
	if (!cp->connected || !cp->registered || cp->id_src == OCPP_IDTAG_REMOTE)
		return;
	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (k->mapped && k->ev.present && k->ev.plugged && !k->tx.active && !k->finishing &&
		    k->auth == OCPP_AS_NONE && cp->now_ms >= k->auth_retry_ms) {
			if (cp->id_src == OCPP_IDTAG_FIXED)
				ocpp_cp_auth_begin(cp, c, cp->fixed_tag);
			else if (k->ev.vin[0])
				ocpp_cp_auth_begin(cp, c, k->ev.vin);
		}
	}
}

/* An authorisation that no car followed within ConnectionTimeOut lapses. */
void ocpp_cp_auth_expire(struct ocpp_cp *cp)
{
	long conn_to = ocpp_cp_key_int(cp, OCPP_KEY_CONNECTION_TIME_OUT);

	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (k->auth == OCPP_AS_OK && !k->ev.plugged && cp->now_ms >= k->auth_ms + ocpp_cp_sec_ms(conn_to)) {
			ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: no car within ConnectionTimeOut, authorisation dropped", c);
			k->auth = OCPP_AS_NONE;
			k->auth_remote = false;
			if (ocpp_sc_clear_tx(cp->sc, c) > 0) /* a RemoteStartTransaction's TxProfile */
				ocpp_cp_save_profiles(cp);
		}
	}
}

/* ---------------------------------------------------------------- transactions */

int ocpp_cp_tx_wire_id(const struct ocpp_tx *tx)
{
	return tx->id ? tx->id : -tx->local;
}

static char *tx_record_text(const struct ocpp_cp *cp, int c)
{
	const struct ocpp_tx *tx = &cp->conn[c].tx;
	json_t *r = json_pack("{s:s,s:i,s:i,s:i,s:s,s:s,s:I,s:i,s:b}", "k", "tx", "c", c, "l", tx->local, "id", tx->id,
			      "tag", tx->id_tag, "parent", tx->parent, "start", (json_int_t)tx->start_wall, "ms",
			      tx->meter_start, "invalid", tx->invalid);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;

	json_decref(r);
	return text;
}

void ocpp_cp_tx_start(struct ocpp_cp *cp, int c)
{
	struct ocpp_conn *k = &cp->conn[c];
	struct ocpp_tx *tx = &k->tx;
	char *text;

	memset(tx, 0, sizeof(*tx));
	tx->active = true;
	tx->local = cp->tx_local_next;
	cp->tx_local_next = cp->tx_local_next < INT_MAX ? cp->tx_local_next + 1 : 1;
	ocpp_cp_str_copy(tx->id_tag, sizeof(tx->id_tag), k->auth_tag);
	ocpp_cp_str_copy(tx->parent, sizeof(tx->parent), k->auth_parent);
	tx->start_wall = cp->now_wall;
	tx->start_mono = cp->now_ms;
	tx->meter_start = (int)floor(k->energy_wh);
	tx->next_sample_ms = cp->now_ms + ocpp_cp_sec_ms(ocpp_cp_key_int(cp, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL));
	k->auth = OCPP_AS_NONE;
	k->auth_remote = false;
	ocpp_cp_save_connectors(cp);
	ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: transaction %d started (meter %d Wh)", c, -tx->local, tx->meter_start);
	/* The StartTransaction goes into the journal before the transaction record: after a crash a
	 * record without its StartTransaction means nothing was ever sent (see ocpp_cp_restore_finish()). */
	ocpp_cp_queue(cp, OCPP_OUT_START_TRANSACTION,
		      ocpp_start_transaction_req(c, tx->id_tag, tx->meter_start, tx->start_wall), c, tx->local, true);
	tx->seq = cp->next_seq++;
	text = tx_record_text(cp, c);
	if (!text || ocpp_cp_journal_put(cp, tx->seq, text) < 0)
		tx->seq = 0;
	free(text);
}

int ocpp_cp_tx_stop(struct ocpp_cp *cp, int c, enum ocpp_stop_reason reason)
{
	struct ocpp_conn *k = &cp->conn[c];
	struct ocpp_tx *tx = &k->tx;
	unsigned stop_mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_STOP_TXN_SAMPLED_DATA);
	json_t *data = NULL;
	int meter_stop;

	if (!tx->active)
		return -ENOENT;
	meter_stop = (int)floor(k->energy_wh);
	if (meter_stop < tx->meter_start)
		meter_stop = tx->meter_start;
	if (stop_mask) {
		json_t *end = ocpp_cp_meter_value(cp, c, stop_mask, OCPP_CTX_TRANSACTION_END);

		data = json_array();
		json_array_append_new(data, end);
	}
	ocpp_cp_save_connectors(cp);
	ocpp_cp_queue(cp, OCPP_OUT_STOP_TRANSACTION,
		      ocpp_stop_transaction_req(ocpp_cp_tx_wire_id(tx), tx->id_tag, meter_stop, cp->now_wall, reason,
						data),
		      c, tx->local, true);
	ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: transaction %d stopped (%s, meter %d Wh)", c, ocpp_cp_tx_wire_id(tx),
		    ocpp_stop_reason_names[reason], meter_stop);
	ocpp_cp_journal_del(cp, tx->seq);
	memset(tx, 0, sizeof(*tx));
	if (ocpp_sc_clear_tx(cp->sc, c) > 0)
		ocpp_cp_save_profiles(cp);
	k->finishing = k->ev.present && k->ev.plugged;
	if (k->scheduled >= 0) {
		k->inoperative = k->scheduled == 1;
		k->scheduled = -1;
		ocpp_cp_save_connectors(cp);
	}
	if (cp->cp_scheduled) {
		bool busy = false;

		for (int i = 1; i <= cp->n_conn; i++)
			busy = busy || cp->conn[i].tx.active;
		if (!busy) {
			cp->cp_scheduled = false;
			cp->cp_inoperative = true;
			ocpp_cp_save_connectors(cp);
		}
	}
	ocpp_cp_refresh(cp);
	return 0;
}

int ocpp_cp_find_tx(const struct ocpp_cp *cp, int id)
{
	for (int c = 1; c <= cp->n_conn; c++)
		if (cp->conn[c].tx.active && ocpp_cp_tx_wire_id(&cp->conn[c].tx) == id)
			return c;
	return 0;
}

int ocpp_cp_transaction_id(const struct ocpp_cp *cp, int c)
{
	if (!ocpp_cp_valid_connector(cp, c) || !cp->conn[c].tx.active)
		return 0;
	return ocpp_cp_tx_wire_id(&cp->conn[c].tx);
}
