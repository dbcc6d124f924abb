// The vehicle API in a depot: one twcgw with chargePoints DEPOT-1 and DEPOT-2 (each its own twc-sim
// bus over TCP, standalone policy) and one "tesla" section, against the Fleet API mock. One client
// serves both buses with one token pair and one budget: each bus's car is found by the VIN its TWC
// reports and named by its charge point in the log; pausing DEPOT-2 (the operator's mode "off" for
// that charge point) stops DEPOT-2's car and only it; the token file lives in the top-level dataDir
// (0600), not an entry's folder; a charge point removed by SIGHUP and added back is served again; and
// token files an earlier version kept in a one-entry file's folder are read from there once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { TWCGW, TWCSIM, start, stop, control, run, tempDir, cleanup, waitFor } from './lib.mjs';
import { startTeslaMock } from './tesla_mock.mjs';

const VIN_A = '5YJ3E1EA0KF000111';
const VIN_B = '5YJ3E1EA0KF000222';
const TOKEN = 'depot-tesla-test-token-0123456789';

async function sim(dir, name, seed, id) {
  const ctl = path.join(dir, `${name}.sock`);
  const p = await start(TWCSIM, ['--tcp', '0', '--control', ctl, '--seed', String(seed), '--slaves', '1', '--ids', id],
    { readyRe: /^ready tcp (\S+)/m });
  return { proc: p, ctl, port: `tcp://${p.ready[1]}` };
}

function request(port, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : '';
    const req = http.request({
      host: '127.0.0.1', port, path: p, method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': data.length },
    }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: b ? JSON.parse(b) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('one vehicle API client serves every charge point of a depot', async () => {
  const dir = tempDir();
  let mock, a, b, gw;
  try {
    try {
      mock = await startTeslaMock({
        vehicles: [{ vin: VIN_A, state: 'online', chargingState: 'Charging' },
          { vin: VIN_B, state: 'online', chargingState: 'Charging' }],
      });
    } catch (err) {
      if (err.code === 'ENOENT') return; // no openssl command for the mock's certificate
      throw err;
    }
    a = await sim(dir, 'a', 41, 'A001');
    b = await sim(dir, 'b', 42, 'B001');
    const data = path.join(dir, 'data');
    const cfgFile = path.join(dir, 'twcgw.json');
    const cfg = {
      dataDir: data,
      log: { statusInterval: 0 },
      http: { listen: '127.0.0.1:0', token: TOKEN },
      policy: { mode: 'charge-now' },
      tesla: {
        baseUrl: mock.url, caFile: mock.caFile, tokenUrl: mock.tokenUrl, clientId: 'twcgw-depot',
        accessToken: mock.tokens.access, refreshToken: mock.tokens.refresh, dwell: 10, startGrace: 5,
      },
      chargePoints: [
        { chargeBoxId: 'DEPOT-1', twc: { port: a.port, wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32 } },
        { chargeBoxId: 'DEPOT-2', twc: { port: b.port, wiringMaxAmpsAllTWCs: 32, wiringMaxAmpsPerTWC: 32 } },
      ],
    };
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const check = run(TWCGW, ['-n', '-c', cfgFile]);
    assert.equal(check.status, 0, check.stderr);
    gw = await start(TWCGW, ['-c', cfgFile]);
    const port = Number((await waitFor('the status page', () => gw.stderr.match(/status page on \S+ \(port (\d+)\)/), 10000))[1]);
    await waitFor('both buses heard', async () => (await control(a.ctl, 'status')).slaves[0].heardMaster
      && (await control(b.ctl, 'status')).slaves[0].heardMaster, 20000);

    // A car on each bus, each TWC reporting its VIN: each connector's car, named by its charge point.
    assert.equal((await control(a.ctl, `plug 0 32 ${VIN_A}`)).ok, true);
    assert.equal((await control(b.ctl, `plug 0 32 ${VIN_B}`)).ok, true);
    await waitFor('both cars found', () => gw.stderr.includes(`DEPOT-1 connector 1: car ${VIN_A} (reported by the TWC)`)
      && gw.stderr.includes(`DEPOT-2 connector 1: car ${VIN_B} (reported by the TWC)`), 30000);
    const st = (await request(port, 'GET', '/api/v1/status')).body;
    assert.deepEqual(st.chargePoints.map((c) => c.connectors[0].vehicle),
      [{ reachable: true, detail: VIN_A }, { reachable: true, detail: VIN_B }]);

    // DEPOT-2 off: its car, still drawing (a paused protocol 2 TWC offers 6 A), is told charge_stop;
    // DEPOT-1's car is left alone. The first try meets a 401: the one token pair is refreshed.
    mock.setFault('charge_stop', { status: 401, body: { error: 'invalid bearer token' }, times: 1 });
    const r = await request(port, 'PUT', '/api/v1/settings/policy', { mode: 'off', chargePoint: 'DEPOT-2' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitFor('charge_stop to car B', () => mock.callsTo('charge_stop').some((c) => c.status === 200), 20000);
    const stops = mock.callsTo('charge_stop').map((c) => `${c.status} ${c.path}`);
    assert.deepEqual(stops, [`401 /api/1/vehicles/${VIN_B}/command/charge_stop`,
      `200 /api/1/vehicles/${VIN_B}/command/charge_stop`]);
    await waitFor('the stop logged', () => gw.stderr.includes(`DEPOT-2 connector 1: charge_stop to ${VIN_B} done`), 5000);

    // One token pair for the whole file, in the top-level dataDir, 0600, and one state file.
    const tokens = path.join(data, 'tesla-tokens.json');
    await waitFor('the token file', () => existsSync(tokens), 5000);
    assert.equal(statSync(tokens).mode & 0o777, 0o600);
    assert.equal(existsSync(path.join(data, 'DEPOT-1', 'tesla-tokens.json')), false);
    assert.equal(existsSync(path.join(data, 'DEPOT-2', 'tesla-tokens.json')), false);
    assert.equal(existsSync(path.join(data, 'DEPOT-2', 'tesla-state.json')), false);
    assert.equal(JSON.parse(readFileSync(path.join(data, 'tesla-state.json'), 'utf8')).paid_today, mock.calls
      .filter((c) => !c.path.startsWith('/oauth2') && c.status < 500).length);

    // DEPOT-2 removed, then added back (with its operator setting still "off" in its folder): its bus
    // is served again and its car found again; DEPOT-1 is untouched all along.
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, chargePoints: [cfg.chargePoints[0]] }));
    gw.child.kill('SIGHUP');
    await waitFor('DEPOT-2 removed', () => /charge point DEPOT-2 removed/.test(gw.stderr), 5000);
    const found = gw.stderr.split(`DEPOT-2 connector 1: car ${VIN_B}`).length;
    writeFileSync(cfgFile, JSON.stringify(cfg));
    gw.child.kill('SIGHUP');
    await waitFor('DEPOT-2 added', () => /charge point DEPOT-2 added/.test(gw.stderr), 5000);
    await waitFor('car B found again', () => gw.stderr.split(`DEPOT-2 connector 1: car ${VIN_B}`).length > found, 20000);
    const again = (await request(port, 'GET', '/api/v1/status')).body;
    assert.deepEqual(again.chargePoints.map((c) => c.connectors[0]?.vehicle?.detail), [VIN_A, VIN_B]);
    assert.equal(mock.callsTo('charge_stop').filter((c) => c.path.includes(VIN_A)).length, 0);
    assert.doesNotMatch(gw.stderr, /tesla: cannot serve this bus/);
    assert.equal(gw.exited, null);
    const ex = await stop(gw);
    assert.equal(ex.code, 0, gw.stderr);

    // An earlier version with one chargePoints entry kept the files in the entry's folder: they are
    // read from there once, so the rotated refresh token (single use) is not lost.
    for (const f of ['tesla-tokens.json', 'tesla-state.json']) renameSync(path.join(data, f), path.join(data, 'DEPOT-1', f));
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, chargePoints: [cfg.chargePoints[0]] }));
    gw = await start(TWCGW, ['-c', cfgFile]);
    const port2 = Number((await waitFor('the status page', () => gw.stderr.match(/status page on \S+ \(port (\d+)\)/), 10000))[1]);
    await waitFor('the tokens read from the entry folder', () => /tesla-tokens\.json read from \S+DEPOT-1; it is kept in/.test(gw.stderr), 5000);
    await waitFor('car A found', () => gw.stderr.includes(`DEPOT-1 connector 1: car ${VIN_A}`), 30000);
    const before = mock.callsTo('charge_stop').length;
    assert.equal((await request(port2, 'PUT', '/api/v1/settings/policy', { mode: 'off', chargePoint: 'DEPOT-1' })).status, 200);
    await waitFor('charge_stop to car A', () => mock.callsTo('charge_stop').length > before, 20000);
    assert.deepEqual(mock.callsTo('charge_stop').slice(before).map((c) => `${c.status} ${c.path}`),
      [`200 /api/1/vehicles/${VIN_A}/command/charge_stop`]);
    await waitFor('the state file written to dataDir', () => existsSync(path.join(data, 'tesla-state.json')), 5000);
    assert.equal((await stop(gw)).code, 0, gw.stderr);
  } finally {
    await stop(gw);
    await stop(a?.proc);
    await stop(b?.proc);
    await mock?.close();
    cleanup(dir);
  }
});
