// The meters twcgw reads over raw TCP, end to end: the real twcgw drives one simulated TWC (twc-sim
// over TCP) in track-green mode, reading a SolarEdge inverter over Modbus TCP (a loopback SunSpec
// register bank) or an MQTT meter (a real mosquitto broker, figures published from here). As in
// ems_policy.test.mjs the loop is closed: house and sun are scripted, the car's draw is read back from
// the simulator, so what the gateway decides changes what the meter shows. Last, a Powerwall over
// https with self-signed certificates: its key is learnt on first use, and a device with another key
// at the same address gets no credential, until the pin is reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { tempDir, cleanup, start, stop, status, waitFor, TWCGW } from './lib.mjs';
import {
  startModbusServer, solarEdgeBank, readBank, MB_ILLEGAL_ADDRESS, MB_GATEWAY_NO_RESPONSE,
  haveMosquitto, startMosquitto, mqttConnect, startSampler, timeline, transitions, startSim, gatewayConfig, logLines,
  selfSignedCert, startPowerwall,
} from './meter_mocks.mjs';

const VOLTAGE = 230;
const MARGIN_W = 100;
const HOUSE_W = 500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// floor((surplus - margin) / V): the closed loop counts the car once, so the surplus is pv - house
// (a battery that charges from the sun gives way to the car, policy.batterySoc being off).
const expectedAmps = (pv, house = HOUSE_W) => Math.floor((pv - house - MARGIN_W) / VOLTAGE);
const near = (want) => (x) => Math.abs(x.told - want) <= 1;

// The car's draw now, in W, as the simulator reports it.
async function carW(ctl) {
  return (await status(ctl)).slaves.reduce((a, x) => a + x.drawnAmps, 0) * VOLTAGE;
}

const since = (gw, mark) => gw.stderr.slice(mark);

function explain(err, gw, sampler, t0, extra = '') {
  const lines = logLines(gw, /policy|ems\[|port tcp:\/\/127|WARN|ERROR/).filter((l) => !/: \d+ polls, /.test(l)).slice(-70);
  err.message += `\n--- told amps: ${timeline(sampler.samples, t0)}${extra}\n--- twcgw log (policy, meter, port lines, last 70):\n${lines.join('\n')}`;
  return err;
}

// ---------------------------------------------------------------- SolarEdge Modbus TCP

// A SolarEdge inverter at unit id 3 (not the default 1, so the key is seen to reach the wire), with
// its meter 1 at the grid connection point and a StorEdge battery that, as in "maximise
// self-consumption", charges with what would be exported, up to batteryMaxW. Every read builds the
// bank from now's figures: charge = clamp(pv - house - car, 0, batteryMaxW), grid = house + car +
// charge - pv.
// fail: null (answer), a number (answer every read with that exception code), 'close' (close the
// connection on every read without answering).
async function startSolarEdge(ctl, unit) {
  const se = { pv: 0, batteryMaxW: 0, soe: 80.4, fail: null, errors: 0, reads: [] };
  se.server = await startModbusServer(async (u, addr, count) => {
    if (u !== unit) return MB_GATEWAY_NO_RESPONSE;
    if (se.fail === 'close') return null;
    if (typeof se.fail === 'number') return se.fail;
    let car;
    try {
      car = await carW(ctl);
    } catch {
      se.errors++;
      return MB_GATEWAY_NO_RESPONSE;
    }
    const charge = Math.min(Math.max(se.pv - HOUSE_W - car, 0), se.batteryMaxW);
    const grid = HOUSE_W + car + charge - se.pv;
    se.reads.push({ at: Date.now(), addr, count, grid, car, pv: se.pv, charge });
    // battery: + discharging (this project's sign); the bank turns it into SolarEdge's + charging.
    return readBank(solarEdgeBank({ unit, pv: se.pv, grid, battery: -charge, soe: se.soe }), addr, count);
  });
  return se;
}

test('track-green on a SolarEdge inverter over Modbus TCP (SunSpec): waits, starts, follows; exception and hang-up outages', { timeout: 90000 }, async (t) => {
  const dir = tempDir();
  const UNIT = 3;
  let sim, se, gw, sampler, t0;
  try {
    let ctl, port;
    ({ sim, ctl, port } = await startSim(dir));
    se = await startSolarEdge(ctl, UNIT);
    const cfg = gatewayConfig(dir, port, {
      policy: { mode: 'track-green', enableDelay: 2, disableDelay: 30, dwell: 3, marginW: MARGIN_W },
      ems: [{ type: 'solaredge-modbus', host: '127.0.0.1', port: se.server.port, unitId: UNIT, meter: 1, battery: true,
        pollSeconds: 1, maxAgeSeconds: 3 }],
    });
    sampler = startSampler(ctl);
    t0 = Date.now();
    gw = await start(TWCGW, ['-c', cfg]);
    try {
      await waitFor('the slave heartbeated', async () => (await status(ctl)).slaves[0]?.heardMaster, 10000, 100);
      await waitFor('a full Modbus cycle', async () => se.reads.some((r) => r.addr === 0xe174), 5000);
      // The blocks read, exactly: inverter model from its DID through the status register, meter 1's
      // model through its power scale factor, battery 1 from power to state of energy.
      const blocks = [...new Set(se.server.requests.map((r) => `${r.unit}:${r.fn}:${r.addr}+${r.count}`))].sort();
      assert.deepEqual(blocks, [`${UNIT}:3:40069+40`, `${UNIT}:3:40188+23`, `${UNIT}:3:57716+18`]);

      // a) Night, house 500 W: the car waits.
      const aFrom = Date.now();
      await sleep(3000);
      const a = sampler.between(aFrom);
      assert.ok(a.length >= 10, `only ${a.length} samples in 3 s`);
      assert.ok(a.every((x) => x.told <= 0), 'told a current with no surplus');

      // b) Sun: 3500 W pv, house 500 W, the battery taking up to 1250.25 W of it. The grid meter sees
      // only 3500 - 500 - 1250.25 exported, but a charging battery gives way (batterySoc off): after
      // the 2 s enable delay the car gets floor((3000 - 100) / 230) = 12 A. With the battery's sign
      // wrong the car would not start (surplus 1750 - 1250 W); with its float's words swapped it
      // would be offered far more.
      const mark = gw.stderr.length;
      se.pv = 3500;
      se.batteryMaxW = 1250.25;
      const sunAt = Date.now();
      const on = await sampler.waitFor('the car started', (x) => x.told > 0, 2000 + 5000, sunAt);
      const startedAfter = on.at - sunAt;
      assert.ok(startedAfter >= 1800, `started ${startedAfter} ms after the sun, before the 2 s enable delay`);
      const want12 = expectedAmps(3500);
      assert.equal(want12, 12);
      assert.ok(Math.abs(on.told - want12) <= 1, `first told ${on.told} A, expected ${want12} A`);
      await sampler.waitSettled(`told ${want12} +-1 A for 3 s`, near(want12), 3000, 12000, on.at);
      const rise1 = sampler.between(on.at);
      assert.ok(rise1.every((x) => x.told >= 6 && x.told <= want12 + 1),
        `outside 6..${want12 + 1} A after the start: ${timeline(rise1, t0)}`);
      t.diagnostic(`start: ${startedAfter} ms after the sun; ${timeline(rise1, t0)}`);
      // Every value decoded as SolarEdge means it (scale factors, export +, charging +, float32 low
      // word first): the status lines of the enable delay, before the car draws, show them rounded.
      // (Any of them: a poll cycle may straddle the moment the sun came out.)
      const delayLines = since(gw, mark).split('\n').filter((l) => /policy track-green: 0 A \(enable delay\);/.test(l));
      assert.ok(delayLines.some((l) => /; grid -1750 W pv 3500 W battery -1250 W soc 80 %$/.test(l)),
        `status lines of the enable delay:\n${delayLines.join('\n')}`);

      // It follows: 6000 W pv -> floor((5500 - 100) / 230) = 23 A.
      se.pv = 6000;
      const want23 = expectedAmps(6000);
      assert.equal(want23, 23);
      const upAt = Date.now();
      await sampler.waitSettled(`told ${want23} +-1 A for 3 s`, near(want23), 3000, 12000, upAt);
      const rise2 = sampler.between(upAt);
      assert.ok(rise2.every((x) => x.told >= want12 - 1 && x.told <= want23 + 1),
        `outside ${want12 - 1}..${want23 + 1} A after more sun: ${timeline(rise2, t0)}`);
      t.diagnostic(`pv 3500 -> 6000 W: ${timeline(rise2, t0)}`);

      // c) The inverter answers every read with exception 2 (illegal data address). Unknown data never
      // raises the current: once the last reading is older than maxAgeSeconds (3 s) the car drops to
      // 6 A (the 30 s disable delay keeps it there). From a loop at rest, so only the meter changes.
      const outage = async (what, fail) => {
        const restAt = Date.now();
        await sampler.waitSettled(`exactly ${want23} A for 2 s before ${what}`, (x) => x.told === want23, 2000, 15000, restAt);
        // Between two cycles (the battery block is a cycle's last read; the next starts a poll interval
        // later), so the first failed read is a cycle's first, as asserted below.
        const readMark = se.reads.length;
        await waitFor(`the end of a Modbus cycle before ${what}`, async () => se.reads.slice(readMark).some((r) => r.addr === 0xe174), 5000, 20);
        const logMark = gw.stderr.length;
        const reqMark = se.server.requests.length;
        se.fail = fail;
        const failAt = Date.now();
        const six = await sampler.waitFor(`6 A with ${what}`, (x) => x.told === 6, 3000 + 4000, failAt);
        // Keep it failing a little longer, then heal it.
        await sleep(1000);
        se.fail = null;
        const healAt = Date.now();
        await waitFor(`the meter recovered from ${what}`, async () => /ems\[0\] solaredge-modbus: recovered after/.test(since(gw, logMark)), 15000, 100);
        const back = await sampler.waitFor(`more than 6 A after ${what}`, (x) => x.told > 6, 5000, healAt);
        // Unknown data never raises the current: nothing above the value before the outage (the last
        // good reading may still move it by the policy's usual amp, as the bus follows each change
        // at the next heartbeat slot), and once it is down at 6 A it stays there until the meter heals.
        const down = sampler.between(failAt, healAt);
        for (const x of down)
          assert.ok(x.told <= want23, `told ${x.told} A, above the ${want23} A before ${what}: ${timeline(down, t0)}`);
        const floor = sampler.between(six.at, healAt);
        assert.ok(floor.every((x) => x.told <= 6), `told rose from 6 A during ${what}: ${timeline(floor, t0)}`);
        const failed = se.server.requests.slice(reqMark).filter((r) => r.at < healAt && r.answer !== 'regs');
        t.diagnostic(`${what}: 6 A after ${six.at - failAt} ms, ${failed.length} failed reads, ` +
          `above 6 A ${back.at - healAt} ms after healing: ${timeline(sampler.between(failAt), t0)}`);
        return { log: since(gw, logMark), failed };
      };

      const exc = await outage('exception 2', MB_ILLEGAL_ADDRESS);
      assert.ok(exc.failed.length >= 2, `only ${exc.failed.length} failed reads`);
      assert.ok(exc.failed.every((r) => r.answer === 'exception 2' && r.addr === 40069),
        'a failed cycle stops at its first block');
      const excLines = exc.log.split('\n');
      const excWarn = excLines.filter((l) => /WARN|ERROR/.test(l));
      assert.equal(excWarn.length, 1, `WARN lines:\n${excWarn.join('\n')}`);
      assert.match(excWarn[0], /ems\[0\] solaredge-modbus: Modbus read of the inverter block \(40069, 40 registers\): Modbus exception 2; backing off/);
      const excOk = excLines.filter((l) => /recovered/.test(l));
      assert.equal(excOk.length, 1, excOk.join('\n'));
      assert.match(excOk[0], new RegExp(`INFO.*ems\\[0\\] solaredge-modbus: recovered after ${exc.failed.length} failed polls`));

      // d) The inverter hangs up on every read (as it does when a second Modbus client takes over).
      // The meter warns once. The TCP port under it warns at every hang-up that follows a good
      // reconnect (gw_port clears its "already warned" flag on connect, not on bytes received): at
      // most one line per failed read, with the meter's backoff (2, 4, 8 ... s) spacing them out.
      const hup = await outage('hang-ups', 'close');
      assert.ok(hup.failed.length >= 2, `only ${hup.failed.length} failed reads`);
      assert.ok(hup.failed.every((r) => r.answer === 'closed' && r.addr === 40069));
      const hupWarn = hup.log.split('\n').filter((l) => /WARN|ERROR/.test(l));
      const hupMeterWarn = hupWarn.filter((l) => /ems\[0\]/.test(l));
      assert.equal(hupMeterWarn.length, 1, `meter WARN lines:\n${hupMeterWarn.join('\n')}`);
      assert.match(hupMeterWarn[0], /ems\[0\] solaredge-modbus: Modbus read of the inverter block \(40069, 40 registers\): connection lost; backing off/);
      const portWarn = hupWarn.filter((l) => !/ems\[0\]/.test(l));
      const portRe = new RegExp(`WARN  port tcp://127\\.0\\.0\\.1:${se.server.port}: lost \\(end of file\\)`);
      assert.ok(portWarn.every((l) => portRe.test(l)), `other WARN lines:\n${portWarn.join('\n')}`);
      // Logged once when the failure starts, not once per hang-up (the port stays quiet until bytes arrive).
      assert.equal(portWarn.length, 1, `${portWarn.length} port WARN lines for ${hup.failed.length} hang-ups`);
      t.diagnostic(`hang-ups: ${hup.failed.length} failed reads, ${portWarn.length} port WARN lines`);
      const hupOk = hup.log.split('\n').filter((l) => /recovered/.test(l));
      assert.equal(hupOk.length, 1, hupOk.join('\n'));
      // A poll that finds the port still reconnecting is a failed poll too, without a request.
      const hupN = Number(hupOk[0].match(/INFO.*ems\[0\] solaredge-modbus: recovered after (\d+) failed polls/)?.[1]);
      assert.ok(hupN >= hup.failed.length, `${hupOk[0]}: ${hup.failed.length} hang-ups`);
      await sampler.waitSettled(`${want23} +-1 A after the outages`, near(want23), 2000, 15000);

      assert.deepEqual(transitions(sampler.samples), { starts: 1, stops: 0 }, 'one start, no stop');
      assert.equal(se.errors, 0, 'the mock could always read the simulator');
      assert.equal(se.server.protocolErrors, 0, 'every request was a well-formed Modbus TCP frame');
      assert.equal(gw.exited, null, 'twcgw must still run');
      const r = await stop(gw, 'SIGTERM');
      assert.equal(r.code, 0);
    } catch (err) {
      throw explain(err, gw, sampler, t0);
    }
  } finally {
    await stop(gw, 'SIGKILL');
    await sampler?.stop();
    await stop(sim);
    await se?.server.close();
    cleanup(dir);
  }
});

// ---------------------------------------------------------------- MQTT

// Publishes the house's figures every 400 ms, closed loop like the meters above: a Tasmota-style SML
// reader's JSON with the grid power (+ import) and an inverter's bare "3.5 kW". stop() ends it and
// says when the last message went out.
function startPublisher(client, ctl) {
  const p = { pv: 0, running: true, sent: 0, lastAt: 0, errors: 0 };
  p.done = (async () => {
    while (p.running) {
      let car;
      try {
        car = await carW(ctl);
      } catch {
        p.errors++;
        await sleep(100);
        continue;
      }
      if (!p.running) break;
      const grid = Math.round(HOUSE_W + car - p.pv);
      client.publish('tele/meter/SENSOR', JSON.stringify({
        Time: new Date().toISOString().slice(0, 19), SML: { Total_in: 1234.567, Total_out: 890.123, Power_curr: grid },
      }));
      client.publish('solar/inverter/ac_power', `${(p.pv / 1000).toFixed(3)} kW`);
      p.sent++;
      p.lastAt = Date.now();
      await sleep(400);
    }
  })();
  p.stop = async () => { p.running = false; await p.done; return p.lastAt; };
  return p;
}

test('track-green on an MQTT meter (real mosquitto): starts and follows, then unknown after maxAgeSeconds without messages', { skip: !haveMosquitto() && 'mosquitto is not installed (Debian package mosquitto)', timeout: 90000 }, async (t) => {
  const dir = tempDir();
  let sim, broker, client, pub, gw, sampler, t0;
  try {
    let ctl, port;
    ({ sim, ctl, port } = await startSim(dir));
    broker = await startMosquitto(dir);
    client = await mqttConnect(broker.port, 'twcgw-it-publisher');
    pub = startPublisher(client, ctl);
    const cfg = gatewayConfig(dir, port, {
      policy: { mode: 'track-green', enableDelay: 2, disableDelay: 6, dwell: 3, marginW: MARGIN_W },
      ems: [{ type: 'mqtt', host: '127.0.0.1', port: broker.port, maxAgeSeconds: 3, values: {
        grid: { topic: 'tele/meter/SENSOR', pointer: '/SML/Power_curr' },
        pv: 'solar/inverter/ac_power',
      } }],
    });
    sampler = startSampler(ctl);
    t0 = Date.now();
    gw = await start(TWCGW, ['-c', cfg]);
    try {
      await waitFor('the slave heartbeated', async () => (await status(ctl)).slaves[0]?.heardMaster, 10000, 100);
      await waitFor('twcgw subscribed and read both topics', async () =>
        logLines(gw, /policy track-green: 0 A \(no surplus\); grid 500 W pv 0 W$/).length > 0, 8000);
      assert.match(gw.stderr, new RegExp(`ems\\[0\\] mqtt: connected to 127\\.0\\.0\\.1:${broker.port}`));

      // a) Night: the car waits.
      const aFrom = Date.now();
      await sleep(3000);
      const a = sampler.between(aFrom);
      assert.ok(a.length >= 10, `only ${a.length} samples in 3 s`);
      assert.ok(a.every((x) => x.told <= 0), 'told a current with no surplus');

      // b) Sun: 3500 W: after the 2 s enable delay, 12 A.
      pub.pv = 3500;
      const sunAt = Date.now();
      const on = await sampler.waitFor('the car started', (x) => x.told > 0, 2000 + 5000, sunAt);
      const startedAfter = on.at - sunAt;
      assert.ok(startedAfter >= 1800, `started ${startedAfter} ms after the sun, before the 2 s enable delay`);
      const want12 = expectedAmps(3500);
      assert.ok(Math.abs(on.told - want12) <= 1, `first told ${on.told} A, expected ${want12} A`);
      await sampler.waitSettled(`told ${want12} +-1 A for 3 s`, near(want12), 3000, 12000, on.at);
      const rise1 = sampler.between(on.at);
      assert.ok(rise1.every((x) => x.told >= 6 && x.told <= want12 + 1),
        `outside 6..${want12 + 1} A after the start: ${timeline(rise1, t0)}`);
      assert.ok(logLines(gw, / pv 3500 W$/).length > 0, 'the "3.500 kW" payload never read as 3500 W');
      t.diagnostic(`start: ${startedAfter} ms after the sun; ${timeline(rise1, t0)}`);

      // It follows: 6000 W -> 23 A.
      pub.pv = 6000;
      const want23 = expectedAmps(6000);
      const upAt = Date.now();
      await sampler.waitSettled(`told ${want23} +-1 A for 3 s`, near(want23), 3000, 12000, upAt);
      const rise2 = sampler.between(upAt);
      assert.ok(rise2.every((x) => x.told >= want12 - 1 && x.told <= want23 + 1),
        `outside ${want12 - 1}..${want23 + 1} A after more sun: ${timeline(rise2, t0)}`);
      t.diagnostic(`pv 3500 -> 6000 W: ${timeline(rise2, t0)}`);

      // c) The publisher goes quiet (the broker stays up). Once the last values are older than
      // maxAgeSeconds (3 s) they are unknown: the current never rises, drops to 6 A, and after the 6 s
      // disable delay to 0.
      await sampler.waitSettled(`exactly ${want23} A for 2 s`, (x) => x.told === want23, 2000, 15000);
      const mark = gw.stderr.length;
      const lastAt = await pub.stop();
      const six = await sampler.waitFor('6 A without messages', (x) => x.told === 6, 3000 + 4000, lastAt);
      assert.ok(six.at - lastAt >= 2900, `down to 6 A ${six.at - lastAt} ms after the last message (maxAgeSeconds 3)`);
      const zero = await sampler.waitFor('stopped without messages', (x) => x.told <= 0, 15000, six.at);
      assert.ok(zero.at - six.at >= 5000, `stopped ${zero.at - six.at} ms after dropping to 6 A (disable delay 6 s)`);
      const quiet = sampler.between(lastAt, zero.at);
      let prev = want23;
      for (const x of quiet) {
        assert.ok(x.told <= prev, `told went up from ${prev} A to ${x.told} A without messages: ${timeline(quiet, t0)}`);
        prev = x.told;
      }
      assert.match(since(gw, mark), /policy track-green: \d+ A \([^)]*\); no meter data/);
      t.diagnostic(`quiet: 6 A ${six.at - lastAt} ms after the last message, 0 A ${zero.at - lastAt} ms after it: ` +
        `${timeline(sampler.between(lastAt), t0)}`);

      // d) Messages again, at night: the values are known again and the car stays stopped.
      pub = startPublisher(client, ctl);
      const backMark = gw.stderr.length;
      const backAt = Date.now();
      await waitFor('values known again', async () => /; grid \d+ W pv 0 W$/m.test(since(gw, backMark)), 5000);
      await sleep(2000);
      assert.ok(sampler.between(backAt).every((x) => x.told <= 0), 'started again at night');
      assert.deepEqual(transitions(sampler.samples), { starts: 1, stops: 1 }, 'one start and one stop in all');

      assert.equal(logLines(gw, /(WARN|ERROR).*ems\[0\]/).length, 0, 'no meter warning: the link never went down');
      assert.equal(pub.errors, 0, 'the publisher could always read the simulator');
      assert.equal(gw.exited, null, 'twcgw must still run');
      const r = await stop(gw, 'SIGTERM');
      assert.equal(r.code, 0);
    } catch (err) {
      throw explain(err, gw, sampler, t0, `\n--- broker log (last 20):\n${broker.log().split('\n').slice(-20).join('\n')}`);
    }
  } finally {
    await stop(gw, 'SIGKILL');
    await pub?.stop();
    await client?.close();
    await sampler?.stop();
    await stop(broker, 'SIGTERM');
    await stop(sim);
    cleanup(dir);
  }
});

// ---------------------------------------------------------------- https: trust on first use

test('https Powerwall: its key is learnt on first use before the password goes out; another key at the address gets no credential; "pin": "reset" learns anew', { timeout: 120000 }, async (t) => {
  const dir = tempDir();
  const PASSWORD = 'PW-pass-7f3a9c';
  const first = selfSignedCert(dir, 'powerwall-1');
  const second = selfSignedCert(dir, 'powerwall-2');
  assert.notEqual(first.pin, second.pin);
  const pinsFile = path.join(dir, 'data', 'meter-pins.json');
  let sim, pw1, pw2, gw;
  const runGw = async (meterExtra = {}) => {
    const cfg = gatewayConfig(dir, port, {
      ems: [{ type: 'powerwall', url: `https://127.0.0.1:${pw1.port}`, email: 'me@example.com', password: PASSWORD,
        pollSeconds: 1, maxAgeSeconds: 5, ...meterExtra }],
    });
    return start(TWCGW, ['-c', cfg]);
  };
  let port;
  try {
    ({ sim, port } = await startSim(dir));
    pw1 = await startPowerwall({ ...first, password: PASSWORD });
    const origin = `127.0.0.1:${pw1.port}`;

    // a) First start: the key is learnt by a handshake that sends nothing, then the login goes out,
    // pinned to it, and the readings arrive.
    gw = await runGw();
    await waitFor('readings from the first Powerwall', async () => logLines(gw, /; grid 500 W pv 3000 W load 3500 W/).length > 0, 10000);
    assert.match(gw.stderr, new RegExp(`ems\\[0\\] powerwall: learnt the TLS key of ${origin.replace(/\./g, '\\.')}: ${first.pin.replace(/[+/]/g, '\\$&')} `));
    const firstConn = pw1.connections[0];
    assert.equal(firstConn.requests, 0, 'the first connection (the probe) carried no request');
    const login = pw1.requests.find((r) => r.url === '/api/login/Basic');
    assert.ok(login, 'the login reached the first Powerwall');
    assert.ok(login.conn > firstConn.n, 'the login came on a later connection than the probe');
    assert.ok(pw1.sawSecret(PASSWORD));
    assert.ok(pw1.requests.some((r) => r.url === '/api/meters/aggregates' && r.authorization === `Bearer ${pw1.token}`));
    const pins = JSON.parse(readFileSync(pinsFile, 'utf8'));
    assert.equal(pins[origin]?.pin, first.pin, `meter-pins.json: ${JSON.stringify(pins)}`);
    assert.equal(pins[origin]?.meter, 'ems[0] powerwall');
    assert.equal(statSync(pinsFile).mode & 0o777, 0o600);
    assert.equal(logLines(gw, /WARN|ERROR/).length, 0, logLines(gw, /WARN|ERROR/).join('\n'));

    // b) The device is swapped, live, for one with another key at the same address: the next
    // connection fails in the handshake with the expected and the seen pin named, and that device
    // never receives a request, so neither the password nor the session token.
    const mark = gw.stderr.length;
    await pw1.close();
    pw2 = await startPowerwall({ ...second, password: PASSWORD, port: pw1.port, figures: { pv: 4200 } });
    await waitFor('the key mismatch', async () => /ERROR/.test(gw.stderr.slice(mark)), 10000);
    const errLines = gw.stderr.slice(mark).split('\n').filter((l) => /ERROR/.test(l));
    assert.equal(errLines.length, 1, errLines.join('\n'));
    assert.ok(errLines[0].includes(`ems[0] powerwall: ${origin} showed another TLS key than the one pinned: ` +
      `expected ${first.pin}, seen ${second.pin}; nothing was sent.`), errLines[0]);
    assert.ok(errLines[0].includes(`set "pin": "reset" on ems[0] (or delete "${origin}" from ${path.join(dir, 'data')}/meter-pins.json)`), errLines[0]);
    await sleep(3000); // a few more polls, backing off
    assert.ok(pw2.connections.length >= 1, 'twcgw did try the new device');
    assert.equal(pw2.requests.length, 0, `requests reached the unpinned device: ${pw2.requests.map((r) => r.url).join(', ')}`);
    assert.equal(gw.exited, null, 'twcgw must still run');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0);

    // c) A restart keeps the pin (from meter-pins.json): still nothing for the new device.
    gw = await runGw();
    await waitFor('the key mismatch after a restart', async () => /showed another TLS key/.test(gw.stderr), 10000);
    assert.match(gw.stderr, /ems\[0\] powerwall: TLS key of 127\.0\.0\.1:\d+ pinned: sha256\/\/\S+ \(learnt earlier/);
    await sleep(1500);
    assert.equal(pw2.requests.length, 0, 'a request reached the unpinned device after a restart');
    assert.ok(!pw2.sawSecret(PASSWORD));
    assert.ok(!pw2.requests.some((r) => r.authorization), 'an Authorization header reached the unpinned device');
    assert.equal((await stop(gw, 'SIGTERM')).code, 0);
    assert.equal(JSON.parse(readFileSync(pinsFile, 'utf8'))[origin].pin, first.pin, 'a mismatch never rewrites the pin');

    // d) "pin": "reset": the new key is learnt (probe first again), then the login goes to it.
    const connsBefore = pw2.connections.length;
    gw = await runGw({ pin: 'reset' });
    await waitFor('readings from the second Powerwall', async () => logLines(gw, /; grid 500 W pv 4200 W/).length > 0, 10000);
    assert.match(gw.stderr, /WARN .*ems\[0\] powerwall: "pin": "reset": the stored TLS key sha256\/\/\S+ is forgotten/);
    assert.ok(gw.stderr.includes(`ems[0] powerwall: learnt the TLS key of ${origin}: ${second.pin} `));
    assert.equal(pw2.connections[connsBefore].requests, 0, 'the first connection after the reset carried no request');
    assert.ok(pw2.sawSecret(PASSWORD), 'the login reached the second Powerwall once its key was learnt');
    assert.equal(JSON.parse(readFileSync(pinsFile, 'utf8'))[origin].pin, second.pin);
    assert.equal(logLines(gw, /ERROR/).length, 0, logLines(gw, /ERROR/).join('\n'));
    assert.equal((await stop(gw, 'SIGTERM')).code, 0);

    // e) insecure: true keeps the old way (nothing checked) and says so at start.
    gw = await runGw({ insecure: true });
    await waitFor('readings with insecure: true', async () => logLines(gw, /; grid 500 W pv 4200 W/).length > 0, 10000);
    // Said by the meter at start, with what is at stake, and by the transport at the first request.
    const warn = logLines(gw, /WARN/);
    assert.equal(warn.length, 2, warn.join('\n'));
    assert.match(warn[0], /ems\[0\] powerwall: insecure: true: the TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not checked, so the password goes to whoever answers at that address/);
    assert.match(warn[1], /http: certificate checks are off for https:\/\/127\.0\.0\.1:\d+\/api\/login\/Basic/);
    assert.equal((await stop(gw, 'SIGTERM')).code, 0);
    t.diagnostic(`first device: ${pw1.connections.length} connections, ${pw1.requests.length} requests; second: ` +
      `${pw2.connections.length} connections, ${pw2.requests.length} requests`);
  } catch (err) {
    if (gw) err.message += `\n--- twcgw log:\n${gw.stderr.split('\n').filter((l) => !/: \d+ polls, /.test(l)).slice(-40).join('\n')}`;
    throw err;
  } finally {
    await stop(gw, 'SIGKILL');
    await pw1?.close();
    await pw2?.close();
    await stop(sim);
    cleanup(dir);
  }
});
