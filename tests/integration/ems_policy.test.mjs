// The standalone policy engine end to end: the real twcgw drives one simulated TWC (twc-sim over TCP)
// in track-green mode, reading a loopback energy meter whose figures close the loop: the house and the
// sun are scripted here, the car's draw is read back from the simulator, so what the gateway decides
// changes what the meter shows, as in a real house. Fronius' Solar API in its real shape, a generic
// JSON meter, a meter polled at the default 5 s (the surplus must not chase the car's own ramp between
// polls), and the fallback from an unreachable central system to the policy, also when one that was
// there goes away and comes back (the policy hears of each at once, not from a periodic look).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { tempDir, cleanup, start, stop, status, waitFor, TWCGW } from './lib.mjs';
import { startSampler, timeline, transitions, startSim, gatewayConfig, logLines } from './meter_mocks.mjs';

const VOLTAGE = 230;
const MARGIN_W = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// floor((surplus - margin) / V): the closed loop counts the car once, so the surplus is pv - house.
const expectedAmps = (pv, house) => Math.floor((pv - house - MARGIN_W) / VOLTAGE);

// ---- the meter mock ----

// Body of GET /solar_api/v1/GetPowerFlowRealtimeData.fcgi as a Fronius Symo with a smart meter at the
// grid connection point and no battery sends it (Solar API v1): consumption negative, P_PV null while
// the inverter sleeps, P_Akku null without a battery.
function froniusBody({ grid, pv, load }) {
  return {
    Body: {
      Data: {
        Inverters: { 1: { DT: 1, E_Day: 5321, E_Total: 12345678, E_Year: 2345678, P: pv } },
        Site: {
          E_Day: 5321, E_Total: 12345678, E_Year: 2345678, Meter_Location: 'grid', Mode: 'meter',
          P_Akku: null, P_Grid: grid, P_Load: load, P_PV: pv > 0 ? pv : null,
          rel_Autonomy: 100, rel_SelfConsumption: 100,
        },
        Version: '12',
      },
    },
    Head: {
      RequestArguments: {},
      Status: { Code: 0, Reason: '', UserMessage: '' },
      Timestamp: new Date().toISOString(),
    },
  };
}

// A loopback HTTP meter. Its figures: pv and house from the test, the car's real draw from twc-sim's
// status at the moment of the request: grid = house + car - pv (+ import), load = -(house + car).
// flicker [a, b]: pv alternates a, b, a, ... per request (the meter polls once a second, so the gateway
// sees the sun change every second whatever the phase between its clock and ours).
// failStatus: answer every request with that HTTP status instead.
async function startMeterMock(ctl) {
  const m = { pv: 0, house: 500, flicker: null, flickerN: 0, failStatus: 0, requests: [], errors: 0 };
  const server = http.createServer(async (req, res) => {
    const at = Date.now();
    if (m.failStatus) {
      m.requests.push({ at, url: req.url, status: m.failStatus });
      res.writeHead(m.failStatus, { 'content-type': 'text/plain' });
      res.end('meter unavailable\n');
      return;
    }
    let carA;
    try {
      carA = (await status(ctl)).slaves.reduce((a, x) => a + x.drawnAmps, 0);
    } catch {
      // Never invent a figure: without the car's draw the meter has no reading.
      m.errors++;
      res.writeHead(500);
      res.end();
      return;
    }
    const pv = m.flicker ? m.flicker[m.flickerN++ % 2] : m.pv;
    const carW = carA * VOLTAGE;
    const grid = Math.round(m.house + carW - pv);
    const load = -Math.round(m.house + carW);
    let body;
    if (req.url === '/solar_api/v1/GetPowerFlowRealtimeData.fcgi') body = froniusBody({ grid, pv, load });
    else if (req.url === '/custom.json') body = { power: { grid_kw: grid / 1000, note: 'json meter' } };
    if (!body) {
      m.requests.push({ at, url: req.url, status: 404 });
      res.writeHead(404);
      res.end();
      return;
    }
    m.requests.push({ at, url: req.url, status: 200, pv, carW, grid });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  m.url = `http://127.0.0.1:${server.address().port}`;
  m.close = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });
  return m;
}

// ---- twc-sim status, sampled ----


// A message with what the gateway said and what the slave was told, for any failure below.
function explain(err, gw, sampler, t0) {
  const policyLines = logLines(gw, /policy|ems\[/).filter((l) => !/: \d+ polls, /.test(l)).slice(-60);
  err.message += `\n--- told amps: ${timeline(sampler.samples, t0)}\n--- twcgw log (policy and meter lines, last 60):\n${policyLines.join('\n')}`;
  return err;
}

test('track-green follows a closed-loop Fronius meter: enable delay, follow, clouds, stale meter, night', { timeout: 150000 }, async (t) => {
  const dir = tempDir();
  const { sim, ctl, port } = await startSim(dir);
  const meter = await startMeterMock(ctl);
  const cfg = gatewayConfig(dir, port, {
    policy: { mode: 'track-green', enableDelay: 2, disableDelay: 6, dwell: 3, marginW: MARGIN_W },
    ems: [{ type: 'fronius', url: meter.url, pollSeconds: 1, maxAgeSeconds: 3 }],
  });
  const sampler = startSampler(ctl);
  const t0 = Date.now();
  const gw = await start(TWCGW, ['-c', cfg]);
  try {
    try {
      // The master finds the slave; the meter is being polled.
      await waitFor('the slave heartbeated', async () => (await status(ctl)).slaves[0]?.heardMaster, 10000, 100);
      await waitFor('a meter poll', async () => meter.requests.length > 0, 5000);

      // a) No surplus (night, house 500 W): the car waits. Five seconds of samples, all without a limit.
      const aFrom = Date.now();
      await sleep(5000);
      const a = sampler.between(aFrom);
      assert.ok(a.length >= 15, `only ${a.length} samples in 5 s`);
      assert.ok(a.every((x) => x.told <= 0), 'told a current with no surplus');

      // b) Sun: 3500 W pv, 500 W house. After the 2 s enable delay the car is told
      // floor((3000 - 100) / 230) = 12 A.
      meter.pv = 3500;
      const sunAt = Date.now();
      const on = await sampler.waitFor('the car started', (x) => x.told > 0, 2000 + 5000, sunAt);
      const startedAfter = on.at - sunAt;
      assert.ok(startedAfter >= 1800, `started ${startedAfter} ms after the sun, before the 2 s enable delay`);
      const want12 = expectedAmps(3500, 500);
      assert.equal(want12, 12);
      assert.ok(Math.abs(on.told - want12) <= 1, `first told ${on.told} A, expected ${want12} A`);
      // The loop settles there: 3 s in a row within 1 A.
      const near = (want) => (x) => Math.abs(x.told - want) <= 1;
      await sampler.waitSettled(`told ${want12} +-1 A for 3 s`, near(want12), 3000, 12000, on.at);
      // While the car ramps up the meter sees more of its draw than the bus has measured yet: the
      // surplus is underestimated, never overestimated. Never more than the sun pays for.
      const rise1 = sampler.between(on.at);
      assert.ok(rise1.every((x) => x.told >= 6 && x.told <= want12 + 1),
        `outside 6..${want12 + 1} A after the start: ${timeline(rise1, t0)}`);
      t.diagnostic(`start at ${want12} A: ${startedAfter} ms after the sun; settling: ${timeline(rise1, t0)}`);

      // It follows the surplus: 6000 W pv -> floor((5500 - 100) / 230) = 23 A, and settles there.
      meter.pv = 6000;
      const want23 = expectedAmps(6000, 500);
      assert.equal(want23, 23);
      const upAt = Date.now();
      await sampler.waitSettled(`told ${want23} +-1 A for 3 s`, near(want23), 3000, 12000, upAt);
      const rise2 = sampler.between(upAt);
      assert.ok(rise2.every((x) => x.told >= want12 - 1 && x.told <= want23 + 1),
        `outside ${want12 - 1}..${want23 + 1} A after more sun: ${timeline(rise2, t0)}`);
      t.diagnostic(`pv 3500 -> 6000 W: ${timeline(rise2, t0)}`);

      // c) Less sun again (back to 12 A), then clouds: pv 300 and 3500 every other second for 15 s.
      // 300 W does not pay for 6 A, but the 6 s disable delay bridges it: the car may drop to 6 A,
      // never to 0.
      meter.pv = 3500;
      const downAt = Date.now();
      await sampler.waitSettled(`back to ${want12} +-1 A for 3 s`, near(want12), 3000, 12000, downAt);
      const fall = sampler.between(downAt);
      t.diagnostic(`pv 6000 -> 3500 W: ${timeline(fall, t0)}; highest ${Math.max(...fall.map((x) => x.told))} A`);
      meter.flicker = [300, 3500];
      meter.flickerN = 0;
      const cloudFrom = Date.now();
      await sleep(15000);
      meter.flicker = null;
      meter.pv = 3500;
      const clouds = sampler.between(cloudFrom);
      const cloudReqs = meter.requests.filter((r) => r.at >= cloudFrom && r.status === 200);
      assert.ok(cloudReqs.length >= 10, `only ${cloudReqs.length} meter polls in 15 s of clouds`);
      assert.ok(clouds.every((x) => x.told >= 6), `stopped in the clouds: ${timeline(clouds, t0)}`);
      assert.ok(clouds.some((x) => x.told === 6), 'the clouds never brought the car down to 6 A');
      t.diagnostic(`clouds: ${timeline(clouds, t0)}`);
      const sunAgain = Date.now();
      await sampler.waitSettled(`${want12} +-1 A after the clouds`, near(want12), 3000, 12000, sunAgain);
      assert.deepEqual(transitions(sampler.samples), { starts: 1, stops: 0 }, 'one start, no stop so far');

      // d) The meter fails (HTTP 500). Unknown data never raises the current: once its last reading is
      // older than maxAgeSeconds (3 s) the car drops to 6 A, and after the 6 s disable delay to 0.
      // From a loop at rest (the car's draw steady), so nothing but the meter changes.
      await sampler.waitSettled(`exactly ${want12} A for 3 s`, (x) => x.told === want12, 3000, 15000, sunAgain);
      const toldBefore = sampler.last().told;
      meter.failStatus = 500;
      const failAt = Date.now();
      const six = await sampler.waitFor('6 A with the meter down', (x) => x.told === 6, 3000 + 4000, failAt);
      const zero = await sampler.waitFor('stopped with the meter down', (x) => x.told <= 0, 15000, failAt);
      const down = sampler.between(failAt, zero.at);
      let prev = toldBefore;
      for (const x of down) {
        assert.ok(x.told <= prev, `told went up from ${prev} A to ${x.told} A while the meter was down`);
        prev = x.told;
      }
      assert.ok(zero.at - six.at >= 5000, `stopped ${zero.at - six.at} ms after dropping to 6 A (disable delay 6 s)`);

      // e) The meter answers again, at night: the car stays stopped.
      meter.pv = 0;
      meter.failStatus = 0;
      const backAt = Date.now();
      await waitFor('the meter recovered', async () => /ems\[0\] fronius: recovered after/.test(gw.stderr), 35000, 100);
      const recoveredAt = Date.now();
      assert.ok(meter.requests.some((r) => r.at >= backAt && r.status === 200));
      await sleep(10000);
      const night = sampler.between(zero.at);
      assert.ok(night.every((x) => x.told <= 0), `started again at night: ${timeline(night, t0)}`);
      assert.ok(sampler.between(recoveredAt).length >= 40);
      assert.deepEqual(transitions(sampler.samples), { starts: 1, stops: 1 }, 'one start and one stop in all');

      // The meter's failure is logged once when it begins and once when it ends, not every poll.
      const failLines = logLines(gw, /ems\[0\] fronius: .*HTTP 500/);
      const failedPolls = meter.requests.filter((r) => r.status === 500).length;
      assert.ok(failedPolls >= 3, `only ${failedPolls} failed polls`);
      assert.equal(failLines.length, 1, `failure lines:\n${failLines.join('\n')}`);
      assert.match(failLines[0], /WARN/);
      assert.match(failLines[0], /backing off/);
      const okLines = logLines(gw, /ems\[0\] fronius: recovered/);
      assert.equal(okLines.length, 1, `recovery lines:\n${okLines.join('\n')}`);
      assert.match(okLines[0], new RegExp(`recovered after ${failedPolls} failed polls`));
      assert.equal(logLines(gw, /ems\[0\].*(WARN|ERROR)|(WARN|ERROR).*ems\[0\]/).length, 1);
      assert.equal(meter.errors, 0, 'the mock could always read the simulator');

      assert.equal(gw.exited, null, 'twcgw must still run');
      const r = await stop(gw, 'SIGTERM');
      assert.equal(r.code, 0);
    } catch (err) {
      throw explain(err, gw, sampler, t0);
    }
  } finally {
    await stop(gw, 'SIGKILL');
    await sampler.stop();
    await stop(sim);
    await meter.close();
    cleanup(dir);
  }
});

test('a json meter (grid in kW at a JSON pointer) starts the car on surplus', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const { sim, ctl, port } = await startSim(dir);
  const meter = await startMeterMock(ctl);
  const cfg = gatewayConfig(dir, port, {
    policy: { mode: 'track-green', enableDelay: 1, disableDelay: 6, dwell: 3, marginW: MARGIN_W },
    ems: [{ type: 'json', url: `${meter.url}/custom.json`, pollSeconds: 1, maxAgeSeconds: 3,
      values: { grid: { pointer: '/power/grid_kw', scale: 1000 } } }],
  });
  const sampler = startSampler(ctl);
  const t0 = Date.now();
  const gw = await start(TWCGW, ['-c', cfg]);
  try {
    try {
      await waitFor('the slave heartbeated', async () => (await status(ctl)).slaves[0]?.heardMaster, 10000, 100);
      await waitFor('a meter poll', async () => meter.requests.some((r) => r.url === '/custom.json'), 5000);
      const quietFrom = Date.now();
      await sleep(3000);
      assert.ok(sampler.between(quietFrom).every((x) => x.told <= 0), 'told a current with no surplus');

      meter.pv = 3500;
      const sunAt = Date.now();
      await sampler.waitFor('the car started', (x) => x.told > 0, 1000 + 6000, sunAt);
      await sampler.waitFor('told 12 A', (x) => x.told === expectedAmps(3500, 500), 6000);
      assert.ok(meter.requests.every((r) => r.url === '/custom.json'), 'only the configured URL is polled');
      assert.equal(logLines(gw, /ems\[0\] json.*(WARN|ERROR)|(WARN|ERROR).*ems\[0\] json/).length, 0);
      const r = await stop(gw, 'SIGTERM');
      assert.equal(r.code, 0);
    } catch (err) {
      throw explain(err, gw, sampler, t0);
    }
  } finally {
    await stop(gw, 'SIGKILL');
    await sampler.stop();
    await stop(sim);
    await meter.close();
    cleanup(dir);
  }
});

// The grid meter's figure includes the car as it drew when the meter was read; the chargers' draw the
// gateway adds back must be from then too. Between two polls of a slow meter (pollSeconds 5, the
// default) the last grid figure stays in force while the car ramps to its new limit, so adding back
// the draw of *now* makes the car's own ramp look like more (or less) sun. The offer must still settle
// at what the sun pays for and never exceed it by more than a rounding amp.
test('track-green settles with a meter polled every 5 s (the surplus does not chase the car\'s own ramp)', { timeout: 90000 }, async (t) => {
  const dir = tempDir();
  const { sim, ctl, port } = await startSim(dir);
  const meter = await startMeterMock(ctl);
  const cfg = gatewayConfig(dir, port, {
    policy: { mode: 'track-green', enableDelay: 2, disableDelay: 30, dwell: 3, marginW: MARGIN_W },
    ems: [{ type: 'fronius', url: meter.url, pollSeconds: 5, maxAgeSeconds: 15 }],
  });
  const sampler = startSampler(ctl);
  const t0 = Date.now();
  const gw = await start(TWCGW, ['-c', cfg]);
  try {
    try {
      await waitFor('the slave heartbeated', async () => (await status(ctl)).slaves[0]?.heardMaster, 10000, 100);
      await waitFor('a meter poll', async () => meter.requests.length > 0, 6000);
      meter.pv = 3500;
      const sunAt = Date.now();
      const on = await sampler.waitFor('the car started', (x) => x.told > 0, 5000 + 2000 + 5000, sunAt);
      const want = expectedAmps(3500, 500);
      // Four polls' time to settle, then two polls' time (10 s) at 12 +- 1 A.
      let settled = null;
      try {
        settled = await sampler.waitSettled(`told ${want} +-1 A for 10 s`, (x) => Math.abs(x.told - want) <= 1, 10000,
          30000, on.at);
      } catch (e) {
        settled = e;
      }
      const run = sampler.between(on.at);
      const polls = meter.requests.filter((r) => r.at >= on.at && r.status === 200)
        .map((r) => `t+${((r.at - t0) / 1000).toFixed(1)}s car ${(r.carW / VOLTAGE).toFixed(1)}A grid ${r.grid}`);
      t.diagnostic(`told: ${timeline(run, t0)}`);
      t.diagnostic(`meter polls: ${polls.join(', ')}`);
      const highest = Math.max(...run.map((x) => x.told));
      assert.ok(highest <= want + 1, `told up to ${highest} A where the sun pays for ${want} A`);
      if (settled instanceof Error) throw settled;
      const r = await stop(gw, 'SIGTERM');
      assert.equal(r.code, 0);
    } catch (err) {
      throw explain(err, gw, sampler, t0);
    }
  } finally {
    await stop(gw, 'SIGKILL');
    await sampler.stop();
    await stop(sim);
    await meter.close();
    cleanup(dir);
  }
});

// A TCP port nothing listens on (bound, then closed).
function closedPort() {
  const s = net.createServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  }));
}

// "2026-05-01 12:00:03.250 INFO ..." -> ms (local time, as gw_log writes it).
function logTime(line) {
  const m = line.match(/^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) /);
  return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime() : NaN;
}

test('with the central system unreachable, the policy applies after policy.fallbackAfter', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const { sim, ctl, port } = await startSim(dir);
  const cs = await closedPort();
  const cfg = gatewayConfig(dir, port, {
    ocpp: { url: `ws://127.0.0.1:${cs}/ocpp`, chargeBoxId: 'cp1' },
    policy: { mode: 'charge-now', fallbackAfter: 3 },
  });
  const gw = await start(TWCGW, ['-c', cfg]);
  try {
    const first = await waitFor('the policy not applied at first', async () =>
      logLines(gw, /policy charge-now: \d+ A \(charge-now\); not applied: the central system decides/)[0], 5000);
    const applied = await waitFor('the policy applied', async () =>
      logLines(gw, /policy charge-now: \d+ A \(charge-now\)$/)[0], 3000 + 5000);
    const after = logTime(applied) - logTime(first);
    assert.ok(after >= 2900 && after <= 5000, `applied ${after} ms after the first decision (fallbackAfter 3 s)`);
    assert.match(gw.stderr, /policy charge-now, 0 meters; applies when the central system is unreachable/);
    // Decided once, applied once: no flapping while the central system stays away.
    await sleep(2000);
    const decisions = logLines(gw, /policy charge-now: \d+ A \(charge-now\)(; not applied: the central system decides)?$/);
    assert.equal(decisions.length, 2, decisions.join('\n'));
    assert.ok((await status(ctl)).slaves.length === 1);
    const r = await stop(gw, 'SIGTERM');
    assert.equal(r.code, 0);
  } catch (err) {
    err.message += `\n--- twcgw log:\n${gw.stderr.split('\n').slice(-40).join('\n')}`;
    throw err;
  } finally {
    await stop(gw, 'SIGKILL');
    await stop(sim);
    cleanup(dir);
  }
});

// A central system that accepts the BootNotification and answers every other CALL with {} (RFC 6455
// framing by hand, no npm); `booted` is when it answered the last BootNotification. close() drops
// every connection at once, as a central system that goes away does.
function tinyCsms(port) {
  const server = http.createServer();
  const socks = new Set();
  const cs = { booted: 0, boots: 0 };
  const frame = (p) => Buffer.concat([p.length < 126 ? Buffer.from([0x81, p.length])
    : Buffer.from([0x81, 126, p.length >> 8, p.length & 0xff]), p]);
  server.on('upgrade', (req, socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n`);
    socks.add(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 6) {
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f, off = 2;
        if (len === 126) { len = buf.readUInt16BE(2); off = 4; }
        if (buf.length < off + 4 + len) break;
        const p = Buffer.from(buf.subarray(off + 4, off + 4 + len));
        for (let i = 0; i < len; i++) p[i] ^= buf[off + (i & 3)];
        buf = buf.subarray(off + 4 + len);
        if (op !== 1) continue;
        const m = JSON.parse(p.toString());
        if (m[0] !== 2) continue;
        const out = m[2] === 'BootNotification' ? { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } : {};
        socket.write(frame(Buffer.from(JSON.stringify([3, m[1], out]))));
        if (m[2] === 'BootNotification') { cs.booted = Date.now(); cs.boots++; }
      }
    });
    socket.on('close', () => socks.delete(socket));
    socket.on('error', () => {});
  });
  cs.listen = () => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  cs.close = () => new Promise((resolve) => { for (const k of socks) k.destroy(); server.close(() => resolve()); });
  return cs;
}

test('a central system that comes, goes and comes back: the policy yields at once, applies fallbackAfter after it went', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const { sim, port } = await startSim(dir);
  const csPort = await closedPort();
  let cs = tinyCsms(csPort);
  await cs.listen();
  const cfg = gatewayConfig(dir, port, {
    ocpp: { url: `ws://127.0.0.1:${csPort}/ocpp`, chargeBoxId: 'cp1' },
    policy: { mode: 'charge-now', fallbackAfter: 3 },
  });
  const gw = await start(TWCGW, ['-c', cfg]);
  const applied = () => logLines(gw, /policy charge-now: \d+ A \(charge-now\)$/);
  const yielded = () => logLines(gw, /policy charge-now: \d+ A \(charge-now\); not applied: the central system decides/);
  try {
    await waitFor('the first BootNotification', async () => cs.boots === 1, 10000);
    // Online before fallbackAfter ran out: the policy never applied.
    await sleep(4000);
    assert.equal(applied().length, 0, applied().join('\n'));
    assert.equal(yielded().length, 1);
    // Gone: applied fallbackAfter (3 s) after the link went, not at some later periodic look.
    const goneAt = Date.now();
    await cs.close();
    const on = await waitFor('the policy applied', async () => applied()[0], 8000);
    const after = logTime(on) - goneAt;
    assert.ok(after >= 2900 && after <= 4000, `applied ${after} ms after the central system went (fallbackAfter 3 s)`);
    // Back: the policy yields as soon as the link is up again (registered from before, the charge
    // point counts as online from the moment it reconnects).
    cs = tinyCsms(csPort);
    await cs.listen();
    const off = await waitFor('the policy yields again', async () => yielded()[1], 20000);
    const up = logLines(gw, /ocpp: connected to /)[1];
    const lag = logTime(off) - logTime(up);
    assert.ok(lag >= 0 && lag <= 1000, `not applied ${lag} ms after the link came back`);
    assert.equal(applied().length, 1);
    const r = await stop(gw, 'SIGTERM');
    assert.equal(r.code, 0);
  } catch (err) {
    err.message += `\n--- twcgw log:\n${gw.stderr.split('\n').slice(-40).join('\n')}`;
    throw err;
  } finally {
    await stop(gw, 'SIGKILL');
    await stop(sim);
    await cs.close();
    cleanup(dir);
  }
});
