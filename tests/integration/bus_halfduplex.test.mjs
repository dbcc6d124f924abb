// The real twcgw against twc-sim on a half-duplex bus with realistic reply latency (5-40 ms) and with
// every reply 150 ms late (`fault delay all 150`, as a slow unit or an RS-485 bridge): with three cars
// sharing and the wiring limit lowered and raised again (new limits go out in the master's early
// heartbeat slots, 300 ms after its last heartbeat), the master never talks over a reply, every slave hears it at least every 3.5 s,
// and the new limits arrive. Collisions during discovery (the slaves' linkready bursts) are reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tempDir, cleanup, startPair, stop, status, control, waitFor } from './lib.mjs';

const WIRING_ALL = 40;

async function halfDuplex(t, delayMs) {
  const dir = tempDir();
  const pair = await startPair(dir, { transport: 'pty' });
  const { ctl } = pair;
  try {
    if (delayMs) assert.deepEqual(await control(ctl, `fault delay all ${delayMs}`), { ok: true });
    const found = await waitFor('3 slaves heartbeated', async () => {
      const s = await status(ctl);
      return s.slaves.length === 3 && s.slaves.every((x) => x.heardMaster && x.masterId === '7777') ? s : null;
    }, 8000, 100);
    if (delayMs) assert.ok(found.slaves.every((x) => x.delayMs === delayMs));
    // The slaves answer every second linkready2 of the master's start-up sequence (5 x FC E1, 5 x FB E2)
    // with five linkreadies each, 200 ms apart; a master frame they start talking over is lost
    // whatever the master does. Measure from the end of the sequence and of the bursts.
    const settled = await waitFor('linkready sequence and bursts over', async () => {
      const s = await status(ctl);
      return (s.stats.linkready2 >= 4 || Date.now() - pair.started > 4000) &&
        s.slaves.every((x) => x.burstLeft === 0) ? s : null;
    }, 8000, 50);
    t.diagnostic(`discovery: ${settled.stats.collisions} collisions, ${settled.stats.masterLost} master frames lost, ` +
      `${settled.stats.slaveGarbled} slave frames garbled`);
    assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });

    for (const i of [0, 1, 2]) assert.equal((await control(ctl, `plug ${i} 32`)).ok, true);
    const shared = await waitFor('three cars charging', async () => {
      const s = await status(ctl);
      return s.slaves.every((x) => x.charging && x.toldAmps >= 6) &&
        s.slaves.reduce((a, x) => a + x.inForceAmps, 0) === WIRING_ALL ? s : null;
    }, 20000, 100);
    assert.ok(Math.max(...shared.slaves.map((x) => x.inForceAmps)) <= 14);

    // The wiring limit comes down to 24 A (SIGHUP): the slaves are lowered to share it in the master's
    // early heartbeat slots; then back to 40 A, raised again.
    for (const [all, want] of [[24, (x) => x.reduce((a, y) => a + y.inForceAmps, 0) <= 24 && x.every((y) => y.toldAmps >= 6)],
      [WIRING_ALL, (x) => x.reduce((a, y) => a + y.inForceAmps, 0) === WIRING_ALL]]) {
      const cfg = JSON.parse(readFileSync(pair.cfgFile, 'utf8'));
      cfg.twc.wiringMaxAmpsAllTWCs = all;
      cfg.twc.wiringMaxAmpsPerTWC = Math.min(all, 32);
      writeFileSync(pair.cfgFile, JSON.stringify(cfg));
      const t0 = Date.now();
      pair.gw.child.kill('SIGHUP');
      await waitFor(`limits for ${all} A in force`, async () => {
        const x = await status(ctl);
        return want(x.slaves) ? x : null;
      }, 15000, 50);
      t.diagnostic(`${all} A: new limits ${(await status(ctl)).slaves.map((x) => x.inForceAmps)} in force after ${Date.now() - t0} ms`);
    }

    // Several more rounds, then the figures the simulator kept since the bursts ended.
    const base = (await status(ctl)).slaves.map((x) => x.heartbeats);
    const s = await waitFor('4 more heartbeats per slave', async () => {
      const x = await status(ctl);
      return x.slaves.every((y, i) => y.heartbeats >= base[i] + 4) ? x : null;
    }, 20000, 250);
    t.diagnostic(`since discovery: ${JSON.stringify(s.stats)}; gaps ${s.slaves.map((x) => x.maxGapMs)}`);
    assert.equal(s.stats.collisions, 0, 'the master talked over a slave');
    assert.equal(s.stats.masterLost, 0);
    assert.equal(s.stats.slaveGarbled, 0);
    for (const x of s.slaves) assert.ok(x.maxGapMs <= 3500, `slave ${x.id} max gap ${x.maxGapMs} ms`);
    assert.ok(s.stats.maxInForceTotal <= WIRING_ALL, `max in force ${s.stats.maxInForceTotal}`);
    assert.equal(s.stats.rxBad, 0);
    assert.equal(s.stats.forbidden, 0);

    const r = await stop(pair.gw, 'SIGTERM');
    assert.equal(r.code, 0, pair.gw.stderr.slice(-2000));
  } catch (e) {
    t.diagnostic(`gateway log: ${pair.gw.stderr.slice(-3000)}`);
    t.diagnostic(`simulator: ${JSON.stringify(await status(ctl).catch(() => null))}`);
    throw e;
  } finally {
    await stop(pair.gw, 'SIGKILL');
    await stop(pair.sim);
    cleanup(dir);
  }
}

test('half duplex, default reply latency', { timeout: 120000 }, (t) => halfDuplex(t, 0));
test('half duplex, every reply 150 ms late', { timeout: 120000 }, (t) => halfDuplex(t, 150));
