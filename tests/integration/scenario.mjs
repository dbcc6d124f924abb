// The bus scenario both transports must pass: discovery, heartbeat cadence, sharing within the wiring,
// and robustness against echo and noise. Used by bus_pty.test.mjs and bus_tcp.test.mjs.
import assert from 'node:assert/strict';
import { status, control, waitFor } from './lib.mjs';

export const WIRING_ALL = 40;

// Wait until every slave has heard at least n heartbeats since the last reset-stats (a slave that
// stops hearing them makes this time out, which fails the test).
function heartbeatRounds(ctl, n) {
  return waitFor(`${n} heartbeats per slave`, async () => {
    const s = await status(ctl);
    return s.slaves.every((x) => x.heartbeats >= n) ? s : null;
  }, 6000 + n * 3500, 250);
}

export async function discoveryAndSharing(pair) {
  const { ctl, started } = pair;

  // 3 slaves found (heartbeated by the master) within 5 s of starting the gateway.
  const found = await waitFor('3 slaves heartbeated', async () => {
    const s = await status(ctl);
    return s.slaves.length === 3 && s.slaves.every((x) => x.heardMaster && x.masterId === '7777') ? s : null;
  }, 5000);
  assert.ok(Date.now() - started <= 5500, `discovery took ${Date.now() - started} ms`);
  assert.equal(found.stats.forbidden, 0);

  // Measure the cadence from here on, with three cars sharing 40 A (each could take 32), once the
  // slaves' start-up linkready bursts are over: on a half-duplex bus those may collide with a master
  // frame (twc-sim models it), which is start-up's business, not the steady cadence's.
  await waitFor('the linkready bursts over', async () => (await status(ctl)).slaves.every((x) => x.burstLeft === 0), 5000, 100);
  assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });
  for (const i of [0, 1, 2]) assert.equal((await control(ctl, `plug ${i} 32`)).ok, true);

  const shared = await waitFor('three cars charging', async () => {
    const s = await status(ctl);
    return s.slaves.every((x) => x.charging && x.toldAmps >= 6) ? s : null;
  }, 15000, 250);
  const told = shared.slaves.map((x) => x.inForceAmps);
  assert.ok(told.reduce((a, b) => a + b) <= WIRING_ALL, `in force ${told}`);
  assert.ok(Math.max(...told) - Math.min(...told) <= 1, `fair share ${told}`);

  // Let several heartbeat rounds pass, then check the figures the simulator kept.
  const s = await heartbeatRounds(ctl, 4);
  for (const x of s.slaves) {
    assert.ok(x.heartbeats >= 4, `slave ${x.id} heartbeats ${x.heartbeats}`);
    assert.ok(x.maxGapMs <= 3500, `slave ${x.id} max gap ${x.maxGapMs} ms`);
  }
  assert.ok(s.stats.maxInForceTotal <= WIRING_ALL, `max in force ${s.stats.maxInForceTotal}`);
  assert.equal(s.stats.rxBad, 0);
  assert.equal(s.stats.forbidden, 0);
  return s;
}

// Car leaves: the others get its share, without ever exceeding the wiring on the way. Its protocol 2
// slave was told a limit, so it still counts 6 A in force: the other two share 40 - 6 = 34 A.
export async function carLeaves(pair) {
  const { ctl } = pair;
  assert.equal((await control(ctl, 'unplug 0')).ok, true);
  await waitFor('two cars at 17 A', async () => {
    const s = await status(ctl);
    return s.slaves[1].inForceAmps === 17 && s.slaves[2].inForceAmps === 17 ? s : null;
  }, 15000, 250);
  const s = await status(ctl);
  assert.ok(s.stats.maxInForceTotal <= WIRING_ALL, `max in force ${s.stats.maxInForceTotal}`);
}

// Echo and noise on the line: the gateway drops them and keeps every slave.
export async function survivesEchoAndNoise(pair) {
  const { ctl } = pair;
  assert.equal((await control(ctl, 'fault echo on')).ok, true);
  assert.equal((await control(ctl, 'fault noise on')).ok, true);
  assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });
  const s = await heartbeatRounds(ctl, 3);
  for (const x of s.slaves) assert.ok(x.maxGapMs <= 3500, `slave ${x.id} max gap ${x.maxGapMs} ms under noise`);
  assert.equal(s.slaves.length, 3);
  assert.ok(s.stats.maxInForceTotal <= WIRING_ALL);
  assert.equal(s.stats.forbidden, 0);
  await control(ctl, 'fault echo off');
  await control(ctl, 'fault noise off');
}
