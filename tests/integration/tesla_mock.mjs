// A stand-in for the Tesla Fleet API and its OAuth token endpoint, for integration tests of the
// gateway's vehicle API client: the vehicle list, vehicle_data (408 while asleep), wake_up, the
// charge_start / charge_stop / set_charging_amps commands, single-use rotating refresh tokens, bearer
// checks, injected faults (status, body, Retry-After, for N requests) and a record of every call.
// HTTPS by default, with a throw-away CA and server certificate made by the openssl command line so
// the gateway can pin it through tesla.caFile; plain HTTP on request. Node 18+, no npm packages.
//
//   import { startTeslaMock } from './tesla_mock.mjs';
//   const mock = await startTeslaMock({ vehicles: [{ vin: '5YJ3E1EA0KF000001', state: 'asleep' }] });
//   ... tesla.baseUrl = mock.url, tesla.tokenUrl = mock.tokenUrl, tesla.caFile = mock.caFile ...
//   await mock.close();
//
// Standalone: node tests/integration/tesla_mock.mjs [--port 4443] [--http] [--vin VIN]... [--wake-delay MS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const DEFAULT_VIN = '5YJ3E1EA0KF000001';
const TOKEN_PATH = '/oauth2/v3/token';
const ASLEEP_ERROR = 'vehicle unavailable: vehicle is offline or asleep';

// A CA and a server certificate it signed for 127.0.0.1 and localhost, in a fresh temp dir. EC keys:
// generating them takes milliseconds, RSA would take a noticeable part of a second.
function makePki() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tesla-mock-pki-'));
  const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=tesla mock test CA']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n'
    + 'extendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  const file = (f) => path.join(dir, f);
  return { dir, caFile: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

function newVehicle(vin, id, v = {}) {
  return {
    vin,
    id,
    displayName: v.displayName ?? `Car ${id}`,
    state: v.state ?? 'online',            // 'online' | 'asleep' | 'offline'
    chargingState: v.chargingState ?? 'Stopped', // 'Disconnected' | 'Stopped' | 'Charging' | 'Complete' | ...
    lat: v.lat ?? 52.0,
    lon: v.lon ?? 4.0,
    batteryLevel: v.batteryLevel ?? 60,
    chargeLimitSoc: v.chargeLimitSoc ?? 80,
    chargeAmps: v.chargeAmps ?? 16,
    chargeCurrentRequestMax: v.chargeCurrentRequestMax ?? 32,
  };
}

function parseBody(raw, type) {
  if (!raw) return null;
  if (/json/i.test(type || '')) {
    try { return JSON.parse(raw); } catch { return raw; }
  }
  if (/x-www-form-urlencoded/i.test(type || '')) return Object.fromEntries(new URLSearchParams(raw));
  try { return JSON.parse(raw); } catch { return raw; }
}

/**
 * Start the mock. Options (all optional):
 *   port          listening port (0: any free one); host '127.0.0.1'
 *   http          true: plain HTTP instead of HTTPS
 *   cert, key     PEM file paths for HTTPS instead of a generated pair; caFile: the CA to report for them
 *   vehicles      [{ vin, displayName, state, chargingState, lat, lon, batteryLevel, chargeAmps, ... }]
 *                 (default: one online car, DEFAULT_VIN, charging state 'Stopped')
 *   wakeDelayMs   how long wake_up takes to bring a car online (default 0: at once)
 *   tokens        { access, refresh } to start with (default 'access-1' / 'refresh-1')
 *   clientId      when set, token requests with another client_id get 401 invalid_client
 *   expiresIn     seconds reported for new access tokens (default 28800)
 *   requireLocationData  mimic firmware 2023.38+: drive_state carries the position only when the
 *                 request's endpoints list names location_data
 */
export async function startTeslaMock(opts = {}) {
  const host = opts.host ?? '127.0.0.1';
  const useTls = !opts.http;
  let pki = null;
  let tlsFiles = null;
  if (useTls) {
    if (opts.cert && opts.key) tlsFiles = { cert: opts.cert, key: opts.key, caFile: opts.caFile ?? opts.cert };
    else tlsFiles = pki = makePki();
  }

  const calls = [];
  const vehicles = {};
  let nextId = 100001;
  for (const v of opts.vehicles ?? [{ vin: DEFAULT_VIN }]) {
    vehicles[v.vin] = newVehicle(v.vin, nextId++, v);
  }
  const tokens = { access: opts.tokens?.access ?? 'access-1', refresh: opts.tokens?.refresh ?? 'refresh-1' };
  const tokenState = { serial: 1, accessExpired: false, usedRefresh: new Set() };
  const faults = [];
  const timers = new Set();
  const wakeDelayMs = opts.wakeDelayMs ?? 0;
  const expiresIn = opts.expiresIn ?? 28800;

  // What a request is called for fault matching: its path, and a short name.
  function nameOf(method, p) {
    if (p === TOKEN_PATH) return 'token';
    if (p === '/api/1/vehicles') return 'vehicles';
    const m = p.match(/^\/api\/1\/vehicles\/[^/]+\/(vehicle_data|wake_up|command\/([^/]+))$/);
    if (!m) return null;
    return m[2] ?? m[1];
  }

  function takeFault(p, name) {
    const i = faults.findIndex((f) => f.times > 0 && (f.target === p || (name && f.target === name)));
    if (i < 0) return null;
    const f = faults[i];
    f.times -= 1;
    if (f.times <= 0) faults.splice(i, 1);
    return f;
  }

  function vehicleSummary(v) {
    return {
      id: v.id, vehicle_id: v.id + 900000, id_s: String(v.id), vin: v.vin, display_name: v.displayName,
      state: v.state, in_service: false, access_type: 'OWNER', api_version: 71,
    };
  }

  function vehicleData(v, endpoints) {
    const now = Date.now();
    const want = (s) => !endpoints || endpoints.includes(s);
    const r = vehicleSummary(v);
    if (want('charge_state')) {
      r.charge_state = {
        charging_state: v.chargingState,
        battery_level: v.batteryLevel,
        charge_limit_soc: v.chargeLimitSoc,
        charge_amps: v.chargeAmps,
        charge_current_request: v.chargeAmps,
        charge_current_request_max: v.chargeCurrentRequestMax,
        charger_actual_current: v.chargingState === 'Charging' ? v.chargeAmps : 0,
        charger_voltage: v.chargingState === 'Charging' ? 230 : 0,
        charge_port_door_open: v.chargingState !== 'Disconnected',
        conn_charge_cable: v.chargingState === 'Disconnected' ? '<invalid>' : 'IEC',
        timestamp: now,
      };
    }
    if (want('drive_state') || (endpoints && endpoints.includes('location_data'))) {
      const located = !opts.requireLocationData || (endpoints && endpoints.includes('location_data'));
      r.drive_state = { shift_state: null, speed: null, power: 0, heading: 90, timestamp: now };
      if (located) {
        Object.assign(r.drive_state, { latitude: v.lat, longitude: v.lon, gps_as_of: Math.floor(now / 1000) });
      }
    }
    return r;
  }

  function wake(v) {
    if (v.state === 'online') return;
    if (wakeDelayMs <= 0) {
      v.state = 'online';
      return;
    }
    if (v.waking) return;
    v.waking = true;
    const t = setTimeout(() => {
      timers.delete(t);
      v.waking = false;
      v.state = 'online';
    }, wakeDelayMs);
    timers.add(t);
  }

  function command(v, name, body) {
    switch (name) {
      case 'charge_start':
        if (v.chargingState === 'Charging') return { result: false, reason: 'is_charging' };
        if (v.chargingState === 'Complete') return { result: false, reason: 'complete' };
        if (v.chargingState === 'Disconnected') return { result: false, reason: 'disconnected' };
        v.chargingState = 'Charging';
        return { result: true, reason: '' };
      case 'charge_stop':
        if (v.chargingState !== 'Charging' && v.chargingState !== 'Starting') {
          return { result: false, reason: 'not_charging' };
        }
        v.chargingState = 'Stopped';
        return { result: true, reason: '' };
      case 'set_charging_amps': {
        const a = Number(body?.charging_amps);
        if (!Number.isInteger(a) || a < 0) return null;
        v.chargeAmps = Math.min(a, v.chargeCurrentRequestMax);
        return { result: true, reason: '' };
      }
      default:
        return undefined;
    }
  }

  function tokenGrant(body) {
    if (!body || typeof body !== 'object' || body.grant_type !== 'refresh_token') {
      return [400, { error: 'unsupported_grant_type', error_description: 'grant_type must be refresh_token' }];
    }
    if (!body.client_id || (opts.clientId && body.client_id !== opts.clientId)) {
      return [401, { error: 'invalid_client', error_description: 'unknown client_id' }];
    }
    if (!body.refresh_token || body.refresh_token !== tokens.refresh) {
      // Refresh tokens are single-use: a reused one means the login is gone.
      return [401, { error: 'login_required', error_description: 'The refresh_token is invalid' }];
    }
    tokenState.usedRefresh.add(tokens.refresh);
    tokenState.serial += 1;
    tokens.access = `access-${tokenState.serial}`;
    tokens.refresh = `refresh-${tokenState.serial}`;
    tokenState.accessExpired = false;
    return [200, {
      access_token: tokens.access, refresh_token: tokens.refresh, id_token: `id-${tokenState.serial}`,
      expires_in: expiresIn, token_type: 'Bearer',
    }];
  }

  // Answer one request: [status, body object, extra headers].
  function route(method, p, query, body, auth) {
    if (p === TOKEN_PATH) {
      if (method !== 'POST') return [405, { error: 'method_not_allowed' }];
      return tokenGrant(body);
    }
    if (!p.startsWith('/api/1/')) return [404, { response: null, error: 'not_found', error_description: '' }];
    if (auth !== tokens.access || tokenState.accessExpired) {
      return [401, { response: null, error: 'invalid bearer token', error_description: '' }];
    }
    if (p === '/api/1/vehicles' && method === 'GET') {
      const list = Object.values(vehicles).map(vehicleSummary);
      return [200, { response: list, count: list.length }];
    }
    const m = p.match(/^\/api\/1\/vehicles\/([^/]+)\/(.+)$/);
    if (!m) return [404, { response: null, error: 'not_found', error_description: '' }];
    const [, vin, rest] = m;
    // Like tesla-http-proxy: anything but a 17-character VIN is no vehicle at all.
    const v = vin.length === 17 ? vehicles[vin] : undefined;
    if (!v) return [404, { response: null, error: `vehicle "${vin}" not found`, error_description: '' }];
    const asleep = v.state !== 'online';
    if (rest === 'vehicle_data' && method === 'GET') {
      if (asleep) return [408, { response: null, error: ASLEEP_ERROR, error_description: '' }];
      const ep = query.get('endpoints');
      return [200, { response: vehicleData(v, ep ? ep.split(';') : null) }];
    }
    if (rest === 'wake_up' && method === 'POST') {
      wake(v);
      return [200, { response: vehicleSummary(v) }];
    }
    const c = rest.match(/^command\/([^/]+)$/);
    if (c && method === 'POST') {
      if (asleep) return [408, { response: null, error: ASLEEP_ERROR, error_description: '' }];
      const r = command(v, c[1], body);
      if (r === undefined) return [404, { response: null, error: `unknown command ${c[1]}`, error_description: '' }];
      if (r === null) return [400, { response: null, error: 'invalid_command', error_description: 'bad parameters' }];
      return [200, { response: r }];
    }
    return [404, { response: null, error: 'not_found', error_description: '' }];
  }

  function faultBody(status) {
    if (status === 429) return { response: null, error: 'Too Many Requests', error_description: '' };
    if (status >= 500) return { response: null, error: 'internal server error', error_description: '' };
    return { response: null, error: `status ${status}`, error_description: '' };
  }

  function handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url, 'http://mock');
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = parseBody(raw, req.headers['content-type']);
      const authz = req.headers.authorization || '';
      const auth = authz.startsWith('Bearer ') ? authz.slice(7) : null;
      const call = {
        method: req.method, path: u.pathname, query: Object.fromEntries(u.searchParams), body, raw, auth,
        contentType: req.headers['content-type'] ?? null, userAgent: req.headers['user-agent'] ?? null,
        status: 0, time: Date.now(),
      };
      calls.push(call);
      const send = (status, obj, headers = {}) => {
        call.status = status;
        const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
        res.end(text);
      };
      const f = takeFault(u.pathname, nameOf(req.method, u.pathname));
      if (f) {
        if (f.hang) return; // never answers: the client's timeout has to fire
        const headers = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
        const status = f.status ?? 500;
        const go = () => send(status, f.body ?? faultBody(status), headers);
        if (f.delayMs) {
          const t = setTimeout(() => { timers.delete(t); go(); }, f.delayMs);
          timers.add(t);
        } else {
          go();
        }
        return;
      }
      const [status, obj, headers] = route(req.method, u.pathname, u.searchParams, body, auth);
      send(status, obj, headers);
    });
  }

  const server = useTls
    ? https.createServer({ cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key) }, handle)
    : http.createServer(handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
  const port = server.address().port;
  const url = `${useTls ? 'https' : 'http'}://${host}:${port}`;

  return {
    url,
    tokenUrl: url + TOKEN_PATH,
    caFile: useTls ? tlsFiles.caFile : null,
    port,
    calls,
    vehicles,
    tokens,
    /**
     * The next @fault.times (default 1; Infinity for all) requests matching @target get the fault.
     * @target: an exact path ('/api/1/vehicles/VIN/vehicle_data') or a name: 'vehicles', 'vehicle_data',
     *          'wake_up', 'token', or a command ('charge_start', 'charge_stop', 'set_charging_amps').
     * @fault:  { status = 500, body (object or string; default a Tesla-shaped error), retryAfter
     *          (seconds or an HTTP date string), times, delayMs (answer late), hang (never answer) }
     */
    setFault(target, fault = {}) {
      faults.push({ target, ...fault, times: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    // Create or change a car: { state: 'asleep'|'online'|'offline', chargingState, lat, lon, ... }.
    setVehicle(vin, v = {}) {
      if (!vehicles[vin]) vehicles[vin] = newVehicle(vin, nextId++, v);
      else Object.assign(vehicles[vin], v);
      return vehicles[vin];
    },
    removeVehicle(vin) {
      delete vehicles[vin];
    },
    // The current access token now gets 401 until the next successful refresh.
    expireAccessToken() {
      tokenState.accessExpired = true;
    },
    // Calls whose path or name (see setFault) is @target.
    callsTo(target) {
      return calls.filter((c) => c.path === target || nameOf(c.method, c.path) === target);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
      if (pki) rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}

async function main(argv) {
  const opts = { vehicles: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--http') opts.http = true;
    else if (a === '--vin') opts.vehicles.push({ vin: argv[++i] });
    else if (a === '--asleep') opts.vehicles.push({ vin: argv[++i], state: 'asleep' });
    else if (a === '--wake-delay') opts.wakeDelayMs = Number(argv[++i]);
    else if (a === '--client-id') opts.clientId = argv[++i];
    else if (a === '--cert') opts.cert = argv[++i];
    else if (a === '--key') opts.key = argv[++i];
    else {
      console.error('usage: tesla_mock.mjs [--port N] [--http] [--vin VIN]... [--asleep VIN]... [--wake-delay MS]'
        + ' [--client-id ID] [--cert PEM --key PEM]');
      process.exit(2);
    }
  }
  if (!opts.vehicles.length) delete opts.vehicles;
  const mock = await startTeslaMock(opts);
  console.log(`tesla mock listening on ${mock.url}`);
  console.log(`token url: ${mock.tokenUrl}`);
  if (mock.caFile) console.log(`CA file: ${mock.caFile}`);
  console.log(`access token: ${mock.tokens.access}`);
  console.log(`refresh token: ${mock.tokens.refresh}`);
  console.log(`vehicles: ${Object.keys(mock.vehicles).join(' ')}`);
  const bye = async () => {
    await mock.close();
    process.exit(0);
  };
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
