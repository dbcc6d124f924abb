// The real twcgw against twc-sim over a pseudo-terminal (the termios path a USB adapter also takes):
// discovery, cadence, sharing, faults, reload with a lower wiring limit, clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { tempDir, cleanup, startPair, stop, status, waitFor } from './lib.mjs';
import { discoveryAndSharing, carLeaves, survivesEchoAndNoise } from './scenario.mjs';

test('twcgw drives three simulated TWCs over a pty', { timeout: 180000 }, async () => {
  const dir = tempDir();
  const pair = await startPair(dir, { transport: 'pty' });
  try {
    await discoveryAndSharing(pair);
    await survivesEchoAndNoise(pair);
    await carLeaves(pair);

    // SIGHUP with a lower wiring limit: the limits in force come down to it.
    const cfg = JSON.parse(readFileSync(pair.cfgFile, 'utf8'));
    cfg.twc.wiringMaxAmpsAllTWCs = 24;
    cfg.twc.wiringMaxAmpsPerTWC = 24;
    writeFileSync(pair.cfgFile, JSON.stringify(cfg));
    pair.gw.child.kill('SIGHUP');
    const s = await waitFor('limits within the new wiring', async () => {
      const x = await status(pair.ctl);
      return x.stats.inForceTotal <= 24 && x.slaves[1].inForceAmps === 9 ? x : null; // (24 - 6) / 2
    }, 15000, 250);
    assert.ok(s.stats.inForceTotal <= 24);

    // A bad config on reload is refused and the gateway keeps running on the old one.
    writeFileSync(pair.cfgFile, '{"dataDir": 5}');
    pair.gw.child.kill('SIGHUP');
    await waitFor('reload error logged', async () => /dataDir/.test(pair.gw.stderr), 5000);
    assert.equal(pair.gw.exited, null);

    const r = await stop(pair.gw, 'SIGTERM');
    assert.equal(r.code, 0, pair.gw.stderr.slice(-2000));
    // The periodic status line names every slave.
    assert.match(pair.gw.stderr, /slave [0-9A-F]{4}/);
  } finally {
    await stop(pair.gw, 'SIGKILL');
    await stop(pair.sim);
    cleanup(dir);
  }
});
