// What the Wall Connectors really hold, in the simulator's own terms (heldAmps / heldTotal /
// maxHeldTotal: what each slave may let its car draw, from the frames it received), against the real
// twcgw over a pty: a muted slave, a reload below the protocol 2 floors, and a restart. The commands
// twcgw logs are not the evidence; the slaves' held limits are (docs/architecture.md, "What counts as
// in force").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { tempDir, cleanup, startPair, start, stop, status, control, waitFor, run, TWCGW } from './lib.mjs';

const SAMPLE_MS = 500;
const samplers = new Set(); // running ones, stopped by each test's finally (a failed step leaves one)

// Poll the simulator's status every SAMPLE_MS until stop(); every sample goes through `check`, which
// returns a violation text or null. The first violation fails the test (checked by the caller with
// ok() at its waypoints and at stop()).
function sampler(ctl, check) {
  const s = { samples: [], violations: [], running: true };
  samplers.add(s);
  s.done = (async () => {
    while (s.running) {
      const t0 = Date.now();
      try {
        const st = await status(ctl);
        const sample = { t: Date.now(), st };
        s.samples.push(sample);
        const v = check(st);
        if (v) s.violations.push(`${new Date(sample.t).toISOString()} ${v}: ${brief(st)}`);
      } catch (err) {
        if (s.running) s.violations.push(`status failed: ${err.message}`);
      }
      const wait = SAMPLE_MS - (Date.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  s.ok = () => assert.equal(s.violations.length, 0, s.violations.slice(0, 5).join('\n'));
  s.halt = async () => { s.running = false; samplers.delete(s); await s.done; };
  s.stop = async () => { await s.halt(); s.ok(); return s; };
  return s;
}

// One line of what a status sample says (for failure messages and the report).
function brief(st) {
  const sl = st.slaves.map((x) => `${x.id}: held ${x.heldAmps} told ${x.toldAmps} drawn ${Number(x.drawnAmps).toFixed(1)} `
    + `state ${x.state}${x.muted ? ' muted' : ''}${x.deaf ? ' deaf' : ''}`).join('; ');
  return `heldTotal ${st.stats.heldTotal} maxHeldTotal ${st.stats.maxHeldTotal} [${sl}]`;
}

// The longest run of consecutive samples whose held sum is exactly `amps`, in ms (first to last sample
// of the run).
function longestAt(samples, amps) {
  let best = 0;
  let from = null;
  for (const { t, st } of samples) {
    if (st.stats.heldTotal === amps) {
      if (from === null) from = t;
      best = Math.max(best, t - from);
    } else {
      from = null;
    }
  }
  return best;
}

const since = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function report(t, line) {
  t.diagnostic(line);
}

async function discovered(ctl, n) {
  return waitFor(`${n} slaves heartbeated`, async () => {
    const s = await status(ctl);
    return s.slaves.length === n && s.slaves.every((x) => x.heardMaster) ? s : null;
  }, 10000, 250);
}

// Plug a car on every slave and wait until each holds `amps` (or, with amps null, until every car
// charges and the held limits are what they were told).
async function chargeAll(ctl, n, amps, timeoutMs = 30000) {
  for (let i = 0; i < n; i++) assert.equal((await control(ctl, `plug ${i} 32`)).ok, true);
  return waitFor(`${n} cars charging${amps ? ` at ${amps} A` : ''}`, async () => {
    const s = await status(ctl);
    return s.slaves.every((x) => x.charging && x.heldAmps >= 6 && (amps ? x.heldAmps === amps : x.heldAmps === x.toldAmps)
      && x.drawnAmps > x.heldAmps - 1) ? s : null;
  }, timeoutMs, 250);
}

const gwLog = (gw) => gw.stderr;

async function teardown(pair, dir, ...more) {
  for (const s of [...samplers]) await s.halt();
  for (const p of more) await stop(p, 'SIGKILL');
  await stop(pair.gw, 'SIGKILL');
  await stop(pair.sim);
  cleanup(dir);
}

test('a muted slave keeps its amps reserved: two cars on 32 A never hold more than 32', { timeout: 150000 }, async (t) => {
  const WIRING = 32;
  const dir = tempDir();
  const pair = await startPair(dir, { transport: 'pty', simArgs: ['--slaves', '2'], twc: { wiringMaxAmpsAllTWCs: WIRING, wiringMaxAmpsPerTWC: 32 } });
  const { ctl, gw } = pair;
  try {
    const found = await discovered(ctl, 2);
    const [id0, id1] = found.slaves.map((x) => x.id);
    await chargeAll(ctl, 2, 16);
    assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });

    const w = sampler(ctl, (st) => {
      if (st.stats.heldTotal > WIRING) return `held sum ${st.stats.heldTotal} A above the ${WIRING} A wiring`;
      if (st.stats.maxHeldTotal > WIRING) return `max held sum ${st.stats.maxHeldTotal} A above the ${WIRING} A wiring`;
      if (st.slaves[0].heldAmps > 16) return `slave 0 holds ${st.slaves[0].heldAmps} A, more than its 16 A while slave 1 is muted`;
      return null;
    });

    const t0 = Date.now();
    assert.equal((await control(ctl, 'fault mute 1 on')).ok, true);
    const removedRe = new RegExp(`slave ${id1} removed`);
    const reservedRe = new RegExp(`slave ${id1} may still hold (\\d+) A: kept reserved`);
    await waitFor(`twcgw removes slave ${id1}`, async () => removedRe.test(gwLog(gw)) || w.violations.length > 0, 40000, 250);
    w.ok();
    const removedAfter = Date.now() - t0;
    const reserved = gwLog(gw).match(reservedRe);
    assert.ok(reserved, `no "kept reserved" line for ${id1}:\n${gwLog(gw).slice(-3000)}`);
    assert.equal(Number(reserved[1]), 16, `reserved ${reserved[1]} A, expected the 16 A it held`);
    report(t, `muted slave ${id1} removed ${(removedAfter / 1000).toFixed(1)} s after the mute; reserved ${reserved[1]} A`);

    // Pace: the mute lasts 45 s (the assertions are on the samples taken meanwhile).
    await waitFor('45 s of mute', async () => Date.now() - t0 >= 45000 || w.violations.length > 0, 50000, 250);
    w.ok();
    const atUnmute = await status(ctl);
    report(t, `at unmute (${since(t0)}): ${brief(atUnmute)}`);
    const logAt = gwLog(gw).length;
    assert.equal((await control(ctl, 'fault mute 1 off')).ok, true);
    const t1 = Date.now();

    // The slave comes back: twcgw adds it again and both cars charge at 16 A.
    const addedRe = new RegExp(`slave ${id1} added`);
    const back = await waitFor(`slave ${id1} back and both cars at 16 A`, async () => {
      if (w.violations.length) return true;
      const s = await status(ctl);
      return addedRe.test(gwLog(gw).slice(logAt)) && s.slaves.every((x) => x.charging && x.heldAmps === 16) ? s : null;
    }, 30000, 250);
    w.ok();
    assert.equal(gw.exited, null, 'twcgw exited');
    // When twcgw logged it (its log has local wall-clock time to the ms).
    const addedLine = gwLog(gw).slice(logAt).split('\n').find((l) => addedRe.test(l)) || '';
    const addedAt = Date.parse(addedLine.slice(0, 23).replace(' ', 'T'));
    report(t, `slave back and both at 16 A ${since(t1)} after the unmute (twcgw re-added it `
      + `${((addedAt - t1) / 1000).toFixed(2)} s after the unmute): ${brief(back)}`);
    // A few more rounds with both back, then the figures.
    const tBack = Date.now();
    await waitFor('5 s after the return', async () => Date.now() - tBack >= 5000, 10000, 250);
    await w.stop();
    const end = await status(ctl);
    assert.ok(end.stats.maxHeldTotal <= WIRING, `maxHeldTotal ${end.stats.maxHeldTotal}`);
    assert.ok(end.stats.maxDrawnTotal <= WIRING + 0.5, `maxDrawnTotal ${end.stats.maxDrawnTotal}`);
    const s0max = Math.max(...w.samples.map((x) => x.st.slaves[0].heldAmps));
    assert.ok(s0max <= 16, `slave 0 held up to ${s0max} A`);
    report(t, `${w.samples.length} samples, maxHeldTotal ${end.stats.maxHeldTotal} A, maxDrawnTotal ${end.stats.maxDrawnTotal.toFixed(1)} A; `
      + `longest at exactly ${WIRING} A: ${(longestAt(w.samples, WIRING) / 1000).toFixed(1)} s`);
    assert.equal(gw.exited, null);
  } finally {
    await teardown(pair, dir);
  }
});

test('a reload below the protocol 2 floors is refused and changes nothing the slaves hold', { timeout: 120000 }, async (t) => {
  const WIRING = 40;
  const dir = tempDir();
  const pair = await startPair(dir, { transport: 'pty', twc: { wiringMaxAmpsAllTWCs: WIRING, wiringMaxAmpsPerTWC: 32 } });
  const { ctl, gw, cfgFile } = pair;
  try {
    await discovered(ctl, 3);
    await chargeAll(ctl, 3, null);
    // Settled: the same held figures in two samples a heartbeat round apart.
    let prev = null;
    const before = await waitFor('held limits settled', async () => {
      const s = await status(ctl);
      const key = s.slaves.map((x) => x.heldAmps).join(',');
      const same = prev === key && s.stats.heldTotal >= WIRING - 2;
      prev = key;
      return same ? s : null;
    }, 20000, 1500);
    report(t, `before the reloads: ${brief(before)}`);
    assert.ok(before.stats.heldTotal <= WIRING);
    const held = before.slaves.map((x) => x.heldAmps);
    assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });

    // 12 A for three protocol 2 slaves that each keep 6 A: refused, naming the key and the 18 A needed.
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    cfg.twc.wiringMaxAmpsAllTWCs = 12;
    cfg.twc.wiringMaxAmpsPerTWC = 12;
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    const logAt = gw.stderr.length;
    const w = sampler(ctl, (st) => {
      if (st.stats.heldTotal !== before.stats.heldTotal) return `held sum ${st.stats.heldTotal} A changed after a refused reload (was ${before.stats.heldTotal} A)`;
      if (st.stats.maxHeldTotal > WIRING) return `max held sum ${st.stats.maxHeldTotal} A above ${WIRING} A`;
      const moved = st.slaves.findIndex((x, i) => x.heldAmps !== held[i]);
      if (moved >= 0) return `slave ${moved} holds ${st.slaves[moved].heldAmps} A, was ${held[moved]} A`;
      return null;
    });
    const t0 = Date.now();
    gw.child.kill('SIGHUP');
    const errRe = /ERROR +reload: .*twc\.wiringMaxAmpsAllTWCs.*needs at least 18/;
    await waitFor('the reload refused', async () => errRe.test(gw.stderr.slice(logAt)), 5000)
      .catch((err) => assert.fail(`${err.message}; twcgw logged:\n${gw.stderr.slice(logAt).slice(-3000)}`));
    report(t, `refused: ${gw.stderr.slice(logAt).split('\n').find((l) => errRe.test(l))}`);
    assert.doesNotMatch(gw.stderr.slice(logAt), /config .* applied/);
    await waitFor('10 s after the refused reload', async () => Date.now() - t0 >= 10000 || w.violations.length > 0, 15000, 250);
    await w.stop();
    assert.equal(gw.exited, null, 'twcgw exited after the refused reload');

    // The same config checked with -n (same dataDir, whose twc-held.json lists the three slaves).
    const heldFile = path.join(dir, 'data', 'twc-held.json');
    assert.ok(existsSync(heldFile), 'no twc-held.json');
    const chk = run(TWCGW, ['-n', '-c', cfgFile]);
    report(t, `twcgw -n on the 12 A config: exit ${chk.status}: ${chk.stderr.trim()}`);
    assert.notEqual(chk.status, 0, `twcgw -n accepted it: ${chk.stdout} ${chk.stderr}`);
    assert.match(chk.stderr, /twc\.wiringMaxAmpsAllTWCs/);
    assert.match(chk.stderr, /needs at least 18/);

    // 18 A can be met (6 A each): accepted, and the held sum comes down to it without ever rising
    // above the old wiring on the way.
    cfg.twc.wiringMaxAmpsAllTWCs = 18;
    cfg.twc.wiringMaxAmpsPerTWC = 18;
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });
    let last = Infinity;
    let rose = null;
    const w2 = sampler(ctl, (st) => {
      if (st.stats.heldTotal > WIRING || st.stats.maxHeldTotal > WIRING) return `held sum ${st.stats.heldTotal} (max ${st.stats.maxHeldTotal}) A above ${WIRING} A while coming down`;
      if (st.stats.heldTotal > last && st.stats.heldTotal > 18 && !rose) rose = `held sum rose from ${last} to ${st.stats.heldTotal} A while above the new 18 A`;
      last = st.stats.heldTotal;
      return null;
    });
    const logAt2 = gw.stderr.length;
    const t1 = Date.now();
    gw.child.kill('SIGHUP');
    await waitFor('the 18 A reload applied', async () => /reload: config .* applied/.test(gw.stderr.slice(logAt2)), 5000);
    const down = await waitFor('held sum at most 18 A', async () => {
      const s = await status(ctl);
      return s.stats.heldTotal <= 18 ? s : null;
    }, 15000, 250);
    const downMs = Date.now() - t1;
    // One more round at the new limit.
    await waitFor('3 s at the new limit', async () => Date.now() - t1 >= downMs + 3000, 10000, 250);
    await w2.stop();
    const end = await status(ctl);
    report(t, `18 A reload: held sum ${down.stats.heldTotal} A after ${(downMs / 1000).toFixed(1)} s; maxHeldTotal ${end.stats.maxHeldTotal} A; now ${brief(end)}`);
    assert.ok(end.stats.heldTotal <= 18, brief(end));
    assert.ok(end.stats.maxHeldTotal <= WIRING, `maxHeldTotal ${end.stats.maxHeldTotal}`);
    assert.equal(rose, null, rose);
  } finally {
    await teardown(pair, dir);
  }
});

test('a restart on the same dataDir never lets two charging cars hold more than the wiring', { timeout: 120000 }, async (t) => {
  const WIRING = 32;
  const dir = tempDir();
  const pair = await startPair(dir, { transport: 'pty', simArgs: ['--slaves', '2'], twc: { wiringMaxAmpsAllTWCs: WIRING, wiringMaxAmpsPerTWC: 32 } });
  const { ctl, cfgFile } = pair;
  let gw2 = null;
  try {
    const found = await discovered(ctl, 2);
    const ids = found.slaves.map((x) => x.id);
    await chargeAll(ctl, 2, 16);

    const heldFile = path.join(dir, 'data', 'twc-held.json');
    await waitFor('twc-held.json with both slaves', async () => existsSync(heldFile)
      && ids.every((id) => readFileSync(heldFile, 'utf8').includes(`"${id}"`)), 10000, 250);

    const killed = await stop(pair.gw, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const table = JSON.parse(readFileSync(heldFile, 'utf8'));
    report(t, `twc-held.json after SIGKILL: ${JSON.stringify(table)}`);
    for (const id of ids) assert.ok(table.slaves.some((e) => e.id === id), `twc-held.json does not list ${id}: ${JSON.stringify(table)}`);

    assert.deepEqual(await control(ctl, 'reset-stats'), { ok: true });
    const w = sampler(ctl, (st) => {
      if (st.stats.heldTotal > WIRING || st.stats.maxHeldTotal > WIRING) return `held sum ${st.stats.heldTotal} (max ${st.stats.maxHeldTotal}) A above the ${WIRING} A wiring after the restart`;
      return null;
    });
    const t0 = Date.now();
    gw2 = await start(TWCGW, ['-c', cfgFile]);
    // Both cars charge again under the new process: heartbeated by it and holding what it told them.
    let again = null;
    await waitFor('40 s after the restart', async () => {
      assert.equal(gw2.exited, null, `twcgw exited after the restart (${JSON.stringify(gw2.exited)}): ${gw2.stderr.slice(-2000)}`);
      if (!again) {
        const s = await status(ctl);
        if (s.slaves.every((x) => x.charging && x.heldAmps >= 6 && x.heartbeats >= 3 && x.drawnAmps > 5)) again = { ms: Date.now() - t0, s };
      }
      return Date.now() - t0 >= 40000 || w.violations.length > 0;
    }, 45000, 250);
    await w.stop();
    const end = await status(ctl);
    if (process.env.BUS_TRUTH_DEBUG) console.log(w.samples.map((x) => `${x.t - t0} ${brief(x.st)}`).join('\n'));
    assert.ok(again, `the cars did not charge again within 40 s: ${brief(end)}\ntwcgw logged:\n${gw2.stderr.slice(-4000)}`);
    assert.ok(end.slaves.every((x) => x.charging && x.heldAmps === 16), `not both at 16 A 40 s after the restart: ${brief(end)}`);
    assert.ok(end.stats.maxHeldTotal <= WIRING, `maxHeldTotal ${end.stats.maxHeldTotal}`);
    assert.equal(gw2.exited, null);
    report(t, `restart: charging under the new process after ${(again.ms / 1000).toFixed(1)} s; ${w.samples.length} samples, `
      + `maxHeldTotal ${end.stats.maxHeldTotal} A, longest at exactly ${WIRING} A: ${(longestAt(w.samples, WIRING) / 1000).toFixed(1)} s; ${brief(end)}`);
  } finally {
    await teardown(pair, dir, gw2);
  }
});
