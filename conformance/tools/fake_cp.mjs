#!/usr/bin/env node
// A tiny fake OCPP 1.6J charge point, only for checking the conformance harness itself in remote mode
// (node conformance/run.mjs --listen 9000 & node conformance/tools/fake_cp.mjs --url ws://127.0.0.1:9000/ocpp).
// It boots, reports its connectors Available, sends Heartbeats, answers configuration calls from a
// small key table, sends clock-aligned MeterValues, and (having no cable) lets a remote start time out.
// Reset reconnects and boots again. No persistence.
import ocppRpc from 'ocpp-rpc';

const { RPCClient } = ocppRpc;

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const url = args.url || 'ws://127.0.0.1:9000/ocpp';
const identity = args.id || 'FAKE-CP';
const N = Number(args.connectors || 1);
const quiet = 'quiet' in args;
const log = (...a) => { if (!quiet) console.error(new Date().toISOString().slice(11, 23), 'fake-cp', ...a); };

const keys = {
  AllowOfflineTxForUnknownId: { v: 'false', ro: false },
  AuthorizationCacheEnabled: { v: 'false', ro: false },
  AuthorizeRemoteTxRequests: { v: 'false', ro: false },
  ClockAlignedDataInterval: { v: '0', ro: false, int: true },
  ConnectionTimeOut: { v: '60', ro: false, int: true },
  ConnectorPhaseRotation: { v: '0.RST,1.RST', ro: false },
  GetConfigurationMaxKeys: { v: '50', ro: true },
  HeartbeatInterval: { v: '300', ro: false, int: true },
  LocalAuthorizeOffline: { v: 'false', ro: false },
  LocalPreAuthorize: { v: 'false', ro: false },
  MeterValuesAlignedData: { v: 'Energy.Active.Import.Register', ro: false },
  MeterValuesSampledData: { v: 'Energy.Active.Import.Register', ro: false },
  MeterValueSampleInterval: { v: '60', ro: false, int: true },
  NumberOfConnectors: { v: String(N), ro: true },
  ResetRetries: { v: '1', ro: false, int: true },
  StopTransactionOnEVSideDisconnect: { v: 'true', ro: false },
  StopTransactionOnInvalidId: { v: 'true', ro: false },
  StopTxnAlignedData: { v: '', ro: false },
  StopTxnSampledData: { v: '', ro: false },
  SupportedFeatureProfiles: { v: 'Core', ro: true },
  TransactionMessageAttempts: { v: '3', ro: false, int: true },
  TransactionMessageRetryInterval: { v: '10', ro: false, int: true },
  UnlockConnectorOnEVSideDisconnect: { v: 'true', ro: false },
};
const findKey = (k) => Object.keys(keys).find((x) => x.toLowerCase() === String(k).toLowerCase());

const now = () => new Date().toISOString();
let hbTimer = null;
const unavailable = new Set();
let energy = 1000;

const cli = new RPCClient({ endpoint: url, identity, protocols: ['ocpp1.6'], strictMode: true, reconnect: true,
  backoff: { initialDelay: 500, maxDelay: 2000, factor: 2, randomisationFactor: 0 } });

let generation = 0; // one boot loop per connection
async function boot() {
  const gen = ++generation;
  for (;;) {
    const r = await cli.call('BootNotification', { chargePointVendor: 'Fake', chargePointModel: 'FakeCP' });
    if (gen !== generation) return;
    log('boot', r.status);
    if (r.status === 'Accepted') {
      keys.HeartbeatInterval.v = String(r.interval || 300);
      break;
    }
    await new Promise((res) => setTimeout(res, Math.max(1, r.interval) * 1000));
    if (gen !== generation) return;
  }
  for (let c = 0; c <= N; c++) await status(c, unavailable.has(c) || unavailable.has(0) ? 'Unavailable' : 'Available');
  heartbeat();
  misbehave();
}

// --misbehave KIND: break one rule once after boot, to check that the harness notices.
function misbehave() {
  const kind = args.misbehave;
  if (!kind) return;
  if (kind === 'schema') {
    cli.sendRaw(JSON.stringify([2, 'bad-1', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }]));
  } else if (kind === 'concurrent') {
    cli.sendRaw(JSON.stringify([2, 'c-1', 'Heartbeat', {}]));
    cli.sendRaw(JSON.stringify([2, 'c-2', 'Heartbeat', {}]));
  } else if (kind === 'stray') {
    cli.sendRaw(JSON.stringify([3, 'never-asked', {}]));
  } else if (kind === 'junk') {
    cli.sendRaw('not json at all');
  }
}

function status(connectorId, st, errorCode = 'NoError') {
  return cli.call('StatusNotification', { connectorId, status: st, errorCode, timestamp: now() });
}

function heartbeat() {
  clearInterval(hbTimer);
  hbTimer = setInterval(() => cli.call('Heartbeat', {}).catch(() => {}), Number(keys.HeartbeatInterval.v) * 1000);
}

cli.on('open', () => { log('connected'); boot().catch((e) => log('boot failed', e.message)); });
cli.on('close', () => { generation++; log('closed'); });

cli.handle('GetConfiguration', ({ params }) => {
  const want = params.key?.length ? params.key : Object.keys(keys);
  const configurationKey = [];
  const unknownKey = [];
  for (const k of want) {
    const n = findKey(k);
    if (n) configurationKey.push({ key: n, readonly: keys[n].ro, value: keys[n].v });
    else unknownKey.push(k);
  }
  return unknownKey.length ? { configurationKey, unknownKey } : { configurationKey };
});

cli.handle('ChangeConfiguration', ({ params }) => {
  const n = findKey(params.key);
  if (!n) return { status: 'NotSupported' };
  if (keys[n].ro) return { status: 'Rejected' };
  if (keys[n].int && !/^\d+$/.test(params.value)) return { status: 'Rejected' };
  if (/^(true|false)$/.test(keys[n].v) && !/^(true|false)$/i.test(params.value)) return { status: 'Rejected' };
  keys[n].v = params.value;
  if (n === 'HeartbeatInterval') heartbeat();
  return { status: 'Accepted' };
});

// No cable is ever plugged in: a remote start waits in Preparing until ConnectionTimeOut.
let remoteTimer = null;
cli.handle('RemoteStartTransaction', ({ params }) => {
  const c = params.connectorId;
  if (c === undefined || c < 1 || c > N || remoteTimer || unavailable.has(c) || unavailable.has(0)) return { status: 'Rejected' };
  setTimeout(() => status(c, 'Preparing').catch(() => {}), 50);
  remoteTimer = setTimeout(() => {
    remoteTimer = null;
    status(c, 'Available').catch(() => {});
  }, Number(keys.ConnectionTimeOut.v) * 1000);
  return { status: 'Accepted' };
});

cli.handle('RemoteStopTransaction', () => ({ status: 'Rejected' }));

// Clock-aligned meter values for connector 1 on every ClockAlignedDataInterval boundary.
function alignedLoop() {
  const a = Number(keys.ClockAlignedDataInterval.v) * 1000;
  if (!a) { setTimeout(alignedLoop, 1000); return; }
  const next = Math.ceil((Date.now() + 1) / a) * a;
  setTimeout(() => {
    if (cli.state === RPCClient.OPEN) {
      cli.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date(next).toISOString(),
        sampledValue: [{ value: String(energy), context: 'Sample.Clock', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] }).catch(() => {});
    }
    alignedLoop();
  }, next - Date.now());
}
alignedLoop();

cli.handle('Reset', () => {
  setTimeout(async () => {
    clearInterval(hbTimer);
    await cli.close({ code: 1000 });
    await new Promise((r) => setTimeout(r, 500));
    cli.connect().catch((e) => log('reconnect failed', e.message));
  }, 200);
  return { status: 'Accepted' };
});

cli.handle('UnlockConnector', () => ({ status: 'NotSupported' }));
cli.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
cli.handle('ClearCache', () => ({ status: 'Accepted' }));
cli.handle('ChangeAvailability', ({ params }) => {
  const c = params.connectorId;
  if (c > N) return { status: 'Rejected' };
  if (params.type === 'Inoperative') unavailable.add(c); else unavailable.delete(c);
  setTimeout(() => {
    const list = c === 0 ? [...Array(N + 1).keys()] : [c];
    for (const x of list) status(x, params.type === 'Inoperative' ? 'Unavailable' : 'Available').catch(() => {});
  }, 50);
  return { status: 'Accepted' };
});

process.on('SIGTERM', () => process.exit(0));
cli.connect().catch((e) => { log('connect failed', e.message); });
