// TC_019_CS Retrieve configuration: every required key of the supported profiles, with the right access.
import { boot, check, getConfiguration } from '../lib/steps.mjs';

// OCPP 1.6 chapter 9: key -> [required, access ('R', 'RW', or 'R/RW' where the charge point chooses), type].
const CORE = {
  AllowOfflineTxForUnknownId: [false, 'RW', 'bool'],
  AuthorizationCacheEnabled: [false, 'RW', 'bool'],
  AuthorizeRemoteTxRequests: [true, 'R/RW', 'bool'],
  BlinkRepeat: [false, 'RW', 'int'],
  ClockAlignedDataInterval: [true, 'RW', 'int'],
  ConnectionTimeOut: [true, 'RW', 'int'],
  ConnectorPhaseRotation: [true, 'RW', 'csl'],
  ConnectorPhaseRotationMaxLength: [false, 'R', 'int'],
  GetConfigurationMaxKeys: [true, 'R', 'int'],
  HeartbeatInterval: [true, 'RW', 'int'],
  LightIntensity: [false, 'RW', 'int'],
  LocalAuthorizeOffline: [true, 'RW', 'bool'],
  LocalPreAuthorize: [true, 'RW', 'bool'],
  MaxEnergyOnInvalidId: [false, 'RW', 'int'],
  MeterValuesAlignedData: [true, 'RW', 'csl'],
  MeterValuesAlignedDataMaxLength: [false, 'R', 'int'],
  MeterValuesSampledData: [true, 'RW', 'csl'],
  MeterValuesSampledDataMaxLength: [false, 'R', 'int'],
  MeterValueSampleInterval: [true, 'RW', 'int'],
  MinimumStatusDuration: [false, 'RW', 'int'],
  NumberOfConnectors: [true, 'R', 'int'],
  ResetRetries: [true, 'RW', 'int'],
  StopTransactionOnEVSideDisconnect: [true, 'RW', 'bool'],
  StopTransactionOnInvalidId: [true, 'RW', 'bool'],
  StopTxnAlignedData: [true, 'RW', 'csl'],
  StopTxnAlignedDataMaxLength: [false, 'R', 'int'],
  StopTxnSampledData: [true, 'RW', 'csl'],
  StopTxnSampledDataMaxLength: [false, 'R', 'int'],
  SupportedFeatureProfiles: [true, 'R', 'csl'],
  SupportedFeatureProfilesMaxLength: [false, 'R', 'int'],
  TransactionMessageAttempts: [true, 'RW', 'int'],
  TransactionMessageRetryInterval: [true, 'RW', 'int'],
  UnlockConnectorOnEVSideDisconnect: [true, 'RW', 'bool'],
  WebSocketPingInterval: [false, 'RW', 'int'],
};
const PROFILE_KEYS = {
  LocalAuthListManagement: {
    LocalAuthListEnabled: [true, 'RW', 'bool'],
    LocalAuthListMaxLength: [true, 'R', 'int'],
    SendLocalListMaxLength: [true, 'R', 'int'],
  },
  Reservation: { ReserveConnectorZeroSupported: [false, 'R', 'bool'] },
  SmartCharging: {
    ChargeProfileMaxStackLevel: [true, 'R', 'int'],
    ChargingScheduleAllowedChargingRateUnit: [true, 'R', 'csl'],
    ChargingScheduleMaxPeriods: [true, 'R', 'int'],
    ConnectorSwitch3to1PhaseSupported: [false, 'R', 'bool'],
    MaxChargingProfilesInstalled: [true, 'R', 'int'],
  },
};

export default {
  id: 'TC_019_CS',
  name: 'Retrieve configuration',
  requirement: 'GetConfiguration without keys returns every configuration key the charge point supports: all '
    + 'keys marked required in OCPP 1.6 chapter 9 for Core and for each profile listed in SupportedFeatureProfiles, '
    + 'each with the access the specification gives it (readonly true for R keys, false for RW keys; either for '
    + '"R or RW"), with well-formed values; GetConfiguration with a list returns the known keys and names the '
    + 'unknown ones in unknownKey (OCPP 1.6 5.8, 9.1).',
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const all = await getConfiguration(ctx);
    const problems = [];
    const profiles = (all.get('SupportedFeatureProfiles')?.value || '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!profiles.includes('Core')) problems.push(`SupportedFeatureProfiles "${all.get('SupportedFeatureProfiles')?.value}" does not list Core`);
    const table = { ...CORE };
    for (const p of profiles) Object.assign(table, PROFILE_KEYS[p] || {});
    for (const [key, [required, access, type]] of Object.entries(table)) {
      const kv = all.get(key);
      if (!kv) {
        if (required) problems.push(`${key} missing`);
        continue;
      }
      if (kv.key !== key) problems.push(`${key} spelled ${kv.key}`);
      if (access === 'R' && kv.readonly !== true) problems.push(`${key} must be read-only (R) but readonly=${kv.readonly}`);
      if (access === 'RW' && kv.readonly !== false) problems.push(`${key} must be read-write (RW) but readonly=${kv.readonly}`);
      if (kv.value === undefined) { problems.push(`${key} has no value`); continue; }
      if (type === 'bool' && !/^(true|false)$/i.test(kv.value)) problems.push(`${key}="${kv.value}" is not a boolean`);
      if (type === 'int' && !/^-?\d+$/.test(kv.value)) problems.push(`${key}="${kv.value}" is not an integer`);
    }
    const n = Number(all.get('NumberOfConnectors')?.value);
    if (ctx.mode === 'local' && !(n >= ctx.connectors)) problems.push(`NumberOfConnectors is ${all.get('NumberOfConnectors')?.value} with ${ctx.connectors} Wall Connector(s) on the bus`);
    const maxKeys = Number(all.get('GetConfigurationMaxKeys')?.value);
    if (maxKeys > 0 && maxKeys < 2) problems.push(`GetConfigurationMaxKeys ${maxKeys} is too small to test`);

    // Specific keys: known ones answered, the unknown one listed.
    const some = await getConfiguration(ctx, ['HeartbeatInterval', 'NoSuchKeyCT']);
    if (!some.get('HeartbeatInterval')) problems.push('GetConfiguration [HeartbeatInterval, NoSuchKeyCT] did not return HeartbeatInterval');
    if (some.list.length !== 1) problems.push(`GetConfiguration [HeartbeatInterval, NoSuchKeyCT] returned ${some.list.length} keys`);
    if (!some.unknown.includes('NoSuchKeyCT')) problems.push(`GetConfiguration [HeartbeatInterval, NoSuchKeyCT]: unknownKey is ${JSON.stringify(some.unknown)}`);
    check(problems.length === 0, problems.join('; '));
  },
};
