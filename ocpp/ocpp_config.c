/*
 * ocpp_config: THE table of OCPP 1.6 configuration keys (Core profile, section 9.1, the Smart Charging
 * and Local Auth List capacities, and the security whitepaper's keys) and the one validator every write goes through, whether it comes from
 * ChangeConfiguration, the gateway's config file or the persisted changes. Values are kept as
 * normalised text (what GetConfiguration reports) with the number or measurand set beside it.
 * Choices for Tesla Wall Connectors: the cable is fixed and has no lock, so UnlockConnectorOnEVSideDisconnect
 * changes nothing, and only the measurands a TWC can give are offered.
 */
#include "ocpp_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp_types.h"

/* How each item of a CSL is checked. */
enum item_rule {
	ITEM_NONE,
	ITEM_MEASURAND,      /* one of ocpp_measurand_names */
	ITEM_PHASE_ROTATION, /* "N.RST" ... "N.Unknown", N a connector 0..8 */
	ITEM_PROFILE,        /* a feature profile name */
	ITEM_RATE_UNIT,      /* "Current" or "Power" */
	/* STRING keys: ITEM_NONE is a Basic-auth password (printable ASCII without ':'); this one is a
	 * name that goes into a certificate (any UTF-8 text without control characters). */
	ITEM_TEXT_UTF8,
};

struct key_def {
	struct ocpp_key_info info;
	enum item_rule rule;
	int max_len_key; /* CSL: the *MaxLength key capping the item count, else -1 */
};

#define BOOL(n, a, d) { { n, OCPP_KT_BOOL, OCPP_KA_##a, NULL, 0, 1, false, d }, ITEM_NONE, -1 }
#define INT(n, a, u, lo, hi, d) { { n, OCPP_KT_INT, OCPP_KA_##a, u, lo, hi, false, d }, ITEM_NONE, -1 }
#define CSL(n, a, items, d, rule, mk) { { n, OCPP_KT_CSL, OCPP_KA_##a, NULL, 0, items, false, d }, rule, mk }

/* Indexed by enum ocpp_key; the unit tests check that every entry is filled and findable. */
static const struct key_def keys[OCPP_KEY_COUNT] = {
	[OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID] = BOOL("AllowOfflineTxForUnknownId", RW, "false"),
	[OCPP_KEY_AUTHORIZATION_CACHE_ENABLED] = BOOL("AuthorizationCacheEnabled", RW, "true"),
	[OCPP_KEY_AUTHORIZE_REMOTE_TX_REQUESTS] = BOOL("AuthorizeRemoteTxRequests", RW, "false"),
	[OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL] = INT("ClockAlignedDataInterval", RW, "s", 0, 86400, "0"),
	[OCPP_KEY_CONNECTION_TIME_OUT] = INT("ConnectionTimeOut", RW, "s", 1, 3600, "60"),
	[OCPP_KEY_CONNECTOR_PHASE_ROTATION] = CSL("ConnectorPhaseRotation", RW, 9, "0.Unknown", ITEM_PHASE_ROTATION,
						  OCPP_KEY_CONNECTOR_PHASE_ROTATION_MAX_LENGTH),
	[OCPP_KEY_CONNECTOR_PHASE_ROTATION_MAX_LENGTH] = INT("ConnectorPhaseRotationMaxLength", R, NULL, 1, 9, "9"),
	[OCPP_KEY_GET_CONFIGURATION_MAX_KEYS] = INT("GetConfigurationMaxKeys", R, NULL, 1, 100, "50"),
	[OCPP_KEY_HEARTBEAT_INTERVAL] = INT("HeartbeatInterval", RW, "s", 0, 86400, "300"),
	[OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE] = BOOL("LocalAuthorizeOffline", RW, "true"),
	[OCPP_KEY_LOCAL_PRE_AUTHORIZE] = BOOL("LocalPreAuthorize", RW, "false"),
	[OCPP_KEY_METER_VALUES_ALIGNED_DATA] = CSL("MeterValuesAlignedData", RW, OCPP_MS_COUNT,
						   "Energy.Active.Import.Register", ITEM_MEASURAND,
						   OCPP_KEY_METER_VALUES_ALIGNED_DATA_MAX_LENGTH),
	[OCPP_KEY_METER_VALUES_ALIGNED_DATA_MAX_LENGTH] =
		INT("MeterValuesAlignedDataMaxLength", R, NULL, 0, OCPP_MS_COUNT, "5"),
	[OCPP_KEY_METER_VALUES_SAMPLED_DATA] = CSL("MeterValuesSampledData", RW, OCPP_MS_COUNT,
						   "Energy.Active.Import.Register", ITEM_MEASURAND,
						   OCPP_KEY_METER_VALUES_SAMPLED_DATA_MAX_LENGTH),
	[OCPP_KEY_METER_VALUES_SAMPLED_DATA_MAX_LENGTH] =
		INT("MeterValuesSampledDataMaxLength", R, NULL, 0, OCPP_MS_COUNT, "5"),
	[OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL] = INT("MeterValueSampleInterval", RW, "s", 0, 86400, "60"),
	[OCPP_KEY_NUMBER_OF_CONNECTORS] = INT("NumberOfConnectors", R, NULL, 0, 8, "0"),
	[OCPP_KEY_RESET_RETRIES] = INT("ResetRetries", RW, NULL, 0, 10, "1"),
	/* false: an unplugged car's transaction goes on (SuspendedEV) until stopped otherwise. */
	[OCPP_KEY_STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT] = BOOL("StopTransactionOnEVSideDisconnect", RW, "true"),
	[OCPP_KEY_STOP_TRANSACTION_ON_INVALID_ID] = BOOL("StopTransactionOnInvalidId", RW, "true"),
	[OCPP_KEY_STOP_TXN_ALIGNED_DATA] = CSL("StopTxnAlignedData", RW, OCPP_MS_COUNT, "", ITEM_MEASURAND,
					       OCPP_KEY_STOP_TXN_ALIGNED_DATA_MAX_LENGTH),
	[OCPP_KEY_STOP_TXN_ALIGNED_DATA_MAX_LENGTH] = INT("StopTxnAlignedDataMaxLength", R, NULL, 0, OCPP_MS_COUNT, "5"),
	[OCPP_KEY_STOP_TXN_SAMPLED_DATA] = CSL("StopTxnSampledData", RW, OCPP_MS_COUNT, "", ITEM_MEASURAND,
					       OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH),
	[OCPP_KEY_STOP_TXN_SAMPLED_DATA_MAX_LENGTH] = INT("StopTxnSampledDataMaxLength", R, NULL, 0, OCPP_MS_COUNT, "5"),
	[OCPP_KEY_SUPPORTED_FEATURE_PROFILES] = CSL("SupportedFeatureProfiles", R, 6, "Core,LocalAuthListManagement,SmartCharging,RemoteTrigger", ITEM_PROFILE,
						    OCPP_KEY_SUPPORTED_FEATURE_PROFILES_MAX_LENGTH),
	[OCPP_KEY_SUPPORTED_FEATURE_PROFILES_MAX_LENGTH] = INT("SupportedFeatureProfilesMaxLength", R, NULL, 1, 6, "6"),
	[OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS] = INT("TransactionMessageAttempts", RW, NULL, 1, 100, "3"),
	[OCPP_KEY_TRANSACTION_MESSAGE_RETRY_INTERVAL] =
		INT("TransactionMessageRetryInterval", RW, "s", 0, 86400, "60"),
	/* The spec makes it RW; with a fixed cable and no lock either value changes nothing. */
	[OCPP_KEY_UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT] = BOOL("UnlockConnectorOnEVSideDisconnect", RW, "false"),
	[OCPP_KEY_WEB_SOCKET_PING_INTERVAL] = INT("WebSocketPingInterval", RW, "s", 0, 86400, "60"),
	/* The capacities ocpp_sc is built with; a TWC cannot switch phases. */
	[OCPP_KEY_CHARGE_PROFILE_MAX_STACK_LEVEL] = INT("ChargeProfileMaxStackLevel", R, NULL, 0, 100, "8"),
	[OCPP_KEY_CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT] =
		CSL("ChargingScheduleAllowedChargingRateUnit", R, 2, "Current,Power", ITEM_RATE_UNIT, -1),
	[OCPP_KEY_CHARGING_SCHEDULE_MAX_PERIODS] = INT("ChargingScheduleMaxPeriods", R, NULL, 1, 1000, "48"),
	[OCPP_KEY_CONNECTOR_SWITCH_3TO1_PHASE_SUPPORTED] = BOOL("ConnectorSwitch3to1PhaseSupported", R, "false"),
	[OCPP_KEY_MAX_CHARGING_PROFILES_INSTALLED] = INT("MaxChargingProfilesInstalled", R, NULL, 1, 1000, "32"),
	/* The list's capacities (ocpp_local_list.h). */
	[OCPP_KEY_LOCAL_AUTH_LIST_ENABLED] = BOOL("LocalAuthListEnabled", RW, "true"),
	[OCPP_KEY_LOCAL_AUTH_LIST_MAX_LENGTH] = INT("LocalAuthListMaxLength", R, NULL, 0, 1000, "1000"),
	[OCPP_KEY_SEND_LOCAL_LIST_MAX_LENGTH] = INT("SendLocalListMaxLength", R, NULL, 0, 250, "250"),
	/* Basic-auth password (whitepaper: 16 to 40 characters); never reported back. */
	[OCPP_KEY_AUTHORIZATION_KEY] = { { "AuthorizationKey", OCPP_KT_STRING, OCPP_KA_W, NULL, 16, 40, false, "" },
					 ITEM_NONE, -1 },
	/* 3 (TLS with client certificates) only where the gateway says it is ready for it: see the
	 * ChangeConfiguration handler. */
	[OCPP_KEY_SECURITY_PROFILE] = INT("SecurityProfile", RW, NULL, 0, 3, "0"),
	/* The subject's O= in the CSR of SignCertificate; unset ("") until the central system or the
	 * config file names the operator, and ExtendedTriggerMessage(SignChargePointCertificate) is
	 * Rejected until then. 64: X.520's upper bound for an organizationName. */
	[OCPP_KEY_CPO_NAME] = { { "CpoName", OCPP_KT_STRING, OCPP_KA_RW, NULL, 1, 64, false, "" }, ITEM_TEXT_UTF8, -1 },
	/* Capacities of the certificate store (the gateway sets the values its certs code has); the
	 * whitepaper caps a certificateChain at 10 000 characters. */
	[OCPP_KEY_CERTIFICATE_SIGNED_MAX_CHAIN_SIZE] = INT("CertificateSignedMaxChainSize", R, NULL, 1, 10000, "10000"),
	[OCPP_KEY_CERTIFICATE_STORE_MAX_LENGTH] = INT("CertificateStoreMaxLength", R, NULL, 1, 1000, "20"),
	/* false until the store does the whitepaper's one-root-plus-fallback rule for a new CSMS root. */
	[OCPP_KEY_ADDITIONAL_ROOT_CERTIFICATE_CHECK] = BOOL("AdditionalRootCertificateCheck", R, "false"),
	/* OCPP 1.6 5.18 has a transaction finished before an unlock; with no lock to release the spec
	 * leaves open whether UnlockConnector still ends it. false: it does not (use RemoteStopTransaction). */
	[OCPP_KEY_STOP_TRANSACTION_IF_UNLOCK_NOT_SUPPORTED] = BOOL("StopTransactionIfUnlockNotSupported", RW, "false"),
};

static const char *const profile_names[] = {
	"Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger",
};
#define PROFILE_COUNT (int)(sizeof(profile_names) / sizeof(profile_names[0]))

static const char *const rotation_names[] = { "RST", "RTS", "SRT", "STR", "TRS", "TSR", "Unknown", "NotApplicable" };
#define ROTATION_COUNT (int)(sizeof(rotation_names) / sizeof(rotation_names[0]))

const char *const ocpp_config_status_names[OCPP_CFG_COUNT] = {
	"Accepted", "Rejected", "RebootRequired", "NotSupported",
};

struct ocpp_config {
	char text[OCPP_KEY_COUNT][OCPP_CONFIG_VALUE_MAX + 1]; /* normalised */
	long num[OCPP_KEY_COUNT];                             /* INT value, BOOL 0/1, CSL measurand bits */
};

static bool key_valid(enum ocpp_key k)
{
	return (unsigned)k < OCPP_KEY_COUNT;
}

/* Locale-free ASCII case-insensitive compare of @a (@alen bytes) with the whole of @b. */
static bool ci_equal(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && b[i]; i++) {
		char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return i == alen && b[i] == '\0';
}

/* Index of @s (@len bytes) in @names, case-insensitively, or -1. */
static int name_index(const char *s, size_t len, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (ci_equal(s, len, names[i]))
			return i;
	return -1;
}

/* Optional '-', then 1..18 digits (so no overflow), within [min, max]. */
static int parse_int(const char *s, long min, long max, long *out)
{
	bool neg = *s == '-';
	long long v = 0;
	size_t n = 0;

	if (neg)
		s++;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 18)
			return -EINVAL;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0)
		return -EINVAL;
	v = neg ? -v : v;
	if (v < min || v > max)
		return -EINVAL;
	*out = (long)v;
	return 0;
}

/* One CSL item (already trimmed) to its canonical text and a value used to spot duplicates. */
static int csl_item(enum item_rule rule, const char *s, size_t len, char *canon, size_t cap, int *id)
{
	int i;

	switch (rule) {
	case ITEM_MEASURAND:
		if ((i = name_index(s, len, ocpp_measurand_names, OCPP_MS_COUNT)) < 0)
			return -EINVAL;
		*id = i;
		snprintf(canon, cap, "%s", ocpp_measurand_names[i]);
		return 0;
	case ITEM_PROFILE:
		if ((i = name_index(s, len, profile_names, PROFILE_COUNT)) < 0)
			return -EINVAL;
		*id = i;
		snprintf(canon, cap, "%s", profile_names[i]);
		return 0;
	case ITEM_RATE_UNIT: {
		static const char *const units[] = { "Current", "Power" };

		if ((i = name_index(s, len, units, 2)) < 0)
			return -EINVAL;
		*id = i;
		snprintf(canon, cap, "%s", units[i]);
		return 0;
	}
	case ITEM_PHASE_ROTATION:
		/* One entry per connector, so a connector seen twice is the duplicate. */
		if (len < 3 || s[0] < '0' || s[0] > '8' || s[1] != '.' ||
		    (i = name_index(s + 2, len - 2, rotation_names, ROTATION_COUNT)) < 0)
			return -EINVAL;
		*id = s[0] - '0';
		snprintf(canon, cap, "%c.%s", s[0], rotation_names[i]);
		return 0;
	case ITEM_NONE:
	case ITEM_TEXT_UTF8:
		break;
	}
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A comma-separated list: items trimmed, none empty, no duplicates, at most @max_items. The empty
 * value is the empty list, allowed for measurand lists only (a charge point always has a phase
 * rotation, if Unknown, and always the Core profile). *bits collects the item ids. */
static int parse_csl(enum item_rule rule, const char *s, long max_items, char *out, size_t cap, long *bits)
{
	size_t pos = 0;
	long n = 0;
	unsigned long seen = 0;

	out[0] = '\0';
	*bits = 0;
	while (is_space(*s))
		s++;
	if (*s == '\0')
		return rule == ITEM_MEASURAND ? 0 : -EINVAL;
	for (;;) {
		const char *end = strchr(s, ','), *b = s, *e;
		char item[64];
		int id, w;

		e = end ? end : s + strlen(s);
		s = e;
		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		if (e == b || csl_item(rule, b, (size_t)(e - b), item, sizeof(item), &id) < 0)
			return -EINVAL;
		if (seen & (1UL << id) || ++n > max_items)
			return -EINVAL;
		seen |= 1UL << id;
		w = snprintf(out + pos, cap - pos, "%s%s", pos ? "," : "", item);
		if (w < 0 || (size_t)w >= cap - pos)
			return -EINVAL;
		pos += (size_t)w;
		if (!end)
			break;
		s = end + 1;
	}
	*bits = (long)seen;
	return 0;
}

static bool text_password(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == ':')
			return false;
	return true;
}

/* Well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF) without C0, DEL or C1 controls:
 * JSON text is UTF-8 already, but a value may come from elsewhere (the gateway's own config). */
static bool text_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], n, cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (unsigned k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += n + 1;
	}
	return true;
}

/* Check @value against @k's rule and, when it passes, store it normalised. */
static int store(struct ocpp_config *c, enum ocpp_key k, const char *value)
{
	const struct key_def *d = &keys[k];
	char norm[OCPP_CONFIG_VALUE_MAX + 1];
	size_t len = strnlen(value, OCPP_CONFIG_VALUE_MAX + 1);
	long num = 0;

	if (len > OCPP_CONFIG_VALUE_MAX)
		return -EINVAL;
	switch (d->info.type) {
	case OCPP_KT_BOOL:
		if (ci_equal(value, len, "true"))
			num = 1;
		else if (!ci_equal(value, len, "false"))
			return -EINVAL;
		snprintf(norm, sizeof(norm), "%s", num ? "true" : "false");
		break;
	case OCPP_KT_INT:
		if (parse_int(value, d->info.min, d->info.max, &num) < 0)
			return -EINVAL;
		snprintf(norm, sizeof(norm), "%ld", num);
		break;
	case OCPP_KT_CSL: {
		long max_items = d->info.max;

		if (d->max_len_key >= 0 && c->num[d->max_len_key] < max_items)
			max_items = c->num[d->max_len_key];
		if (parse_csl(d->rule, value, max_items, norm, sizeof(norm), &num) < 0)
			return -EINVAL;
		break;
	}
	case OCPP_KT_STRING:
		/* A password: printable ASCII without ':', which some Basic-auth servers take as the end
		 * of the user part wherever it is. A name: UTF-8 without control characters, which a
		 * certificate subject and a log line can both carry. The default (unset) only the gateway
		 * may restore, see ocpp_config_set(). */
		if ((long)len < d->info.min || (long)len > d->info.max)
			return -EINVAL;
		if (d->rule == ITEM_TEXT_UTF8 ? !text_utf8(value, len) : !text_password(value, len))
			return -EINVAL;
		snprintf(norm, sizeof(norm), "%s", value);
		break;
	}
	memcpy(c->text[k], norm, strlen(norm) + 1);
	c->num[k] = num;
	return 0;
}

struct ocpp_config *ocpp_config_new(void)
{
	struct ocpp_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	/* MaxLength keys come after their lists in the table: fill them first so the lists fit. */
	for (int k = 0; k < OCPP_KEY_COUNT; k++)
		if (keys[k].info.type == OCPP_KT_INT)
			store(c, (enum ocpp_key)k, keys[k].info.dflt);
	for (int k = 0; k < OCPP_KEY_COUNT; k++)
		if (keys[k].info.type != OCPP_KT_INT && keys[k].info.dflt[0])
			store(c, (enum ocpp_key)k, keys[k].info.dflt);
	return c;
}

void ocpp_config_free(struct ocpp_config *c)
{
	free(c);
}

const struct ocpp_key_info *ocpp_config_info(enum ocpp_key k)
{
	return key_valid(k) ? &keys[k].info : NULL;
}

int ocpp_config_find(const char *name)
{
	if (!name)
		return -1;
	for (int k = 0; k < OCPP_KEY_COUNT; k++)
		if (ci_equal(name, strlen(name), keys[k].info.name))
			return k;
	return -1;
}

long ocpp_config_int(const struct ocpp_config *c, enum ocpp_key k)
{
	if (!c || !key_valid(k) || keys[k].info.type == OCPP_KT_CSL || keys[k].info.type == OCPP_KT_STRING)
		return 0;
	return c->num[k];
}

bool ocpp_config_bool(const struct ocpp_config *c, enum ocpp_key k)
{
	return ocpp_config_int(c, k) != 0;
}

const char *ocpp_config_str(const struct ocpp_config *c, enum ocpp_key k)
{
	return c && key_valid(k) ? c->text[k] : "";
}

unsigned ocpp_config_measurands(const struct ocpp_config *c, enum ocpp_key k)
{
	if (!c || !key_valid(k) || keys[k].rule != ITEM_MEASURAND)
		return 0;
	return (unsigned)c->num[k];
}

enum ocpp_config_status ocpp_config_change(struct ocpp_config *c, const char *key, const char *value,
					   int *changed)
{
	int k = ocpp_config_find(key);
	long level;

	if (changed)
		*changed = -1;
	if (k < 0)
		return OCPP_CFG_NOT_SUPPORTED;
	if (!c || !value || keys[k].info.access == OCPP_KA_R)
		return OCPP_CFG_REJECTED;
	/* Whitepaper: the security profile may only be raised from the central system (A05: "higher
	 * than the current one"; the same value would reconnect for nothing). */
	if (k == OCPP_KEY_SECURITY_PROFILE &&
	    (parse_int(value, keys[k].info.min, keys[k].info.max, &level) < 0 || level <= c->num[k]))
		return OCPP_CFG_REJECTED;
	if (store(c, (enum ocpp_key)k, value) < 0)
		return OCPP_CFG_REJECTED;
	if (changed)
		*changed = k;
	return keys[k].info.reboot ? OCPP_CFG_REBOOT_REQUIRED : OCPP_CFG_ACCEPTED;
}

int ocpp_config_set(struct ocpp_config *c, enum ocpp_key k, const char *value)
{
	if (!c || !key_valid(k) || !value)
		return -EINVAL;
	/* The gateway may put a key back to its default even where the rule excludes it ("" for no
	 * AuthorizationKey); the central system may not. */
	if (keys[k].info.type == OCPP_KT_STRING && strcmp(value, keys[k].info.dflt) == 0) {
		memcpy(c->text[k], keys[k].info.dflt, strlen(keys[k].info.dflt) + 1);
		return 0;
	}
	return store(c, k, value);
}

bool ocpp_config_readable(enum ocpp_key k)
{
	return key_valid(k) && keys[k].info.access != OCPP_KA_W;
}

json_t *ocpp_config_to_json(const struct ocpp_config *c)
{
	json_t *o = json_object();

	if (!o || !c)
		return o;
	for (int k = 0; k < OCPP_KEY_COUNT; k++) {
		if (strcmp(c->text[k], keys[k].info.dflt) == 0)
			continue;
		if (json_object_set_new(o, keys[k].info.name, json_string(c->text[k])) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* A value as text: persisted values are strings, but a hand-written config file may say 300 or true. */
static bool value_text(const json_t *v, char *buf, size_t cap)
{
	if (json_is_string(v))
		return (size_t)snprintf(buf, cap, "%s", json_string_value(v)) < cap;
	if (json_is_integer(v))
		return (size_t)snprintf(buf, cap, "%lld", (long long)json_integer_value(v)) < cap;
	if (json_is_boolean(v))
		return (size_t)snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false") < cap;
	return false;
}

int ocpp_config_load_json(struct ocpp_config *c, const json_t *obj)
{
	const char *name;
	const json_t *v;
	int skipped = 0;

	if (!obj)
		return 0;
	if (!c || !json_is_object(obj))
		return -EINVAL;
	/* Two passes: the MaxLength keys and other scalars first, so a list is checked against the
	 * limit the same file sets. */
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach((json_t *)obj, name, v) {
			char text[OCPP_CONFIG_VALUE_MAX + 2];
			int k = ocpp_config_find(name);

			if (k < 0) {
				skipped += pass == 0; /* count an unknown key once */
				continue;
			}
			if ((keys[k].info.type == OCPP_KT_CSL) != (pass == 1))
				continue;
			if (!value_text(v, text, sizeof(text)) || ocpp_config_set(c, (enum ocpp_key)k, text) < 0)
				skipped++;
		}
	}
	return skipped;
}
