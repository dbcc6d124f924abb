// The real twcgw against twc-sim over TCP, as with an RS-485-to-Ethernet bridge: discovery, cadence,
// sharing, and reconnection when the bridge goes away and comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir, cleanup, startPair, start, stop, status, waitFor, TWCSIM } from './lib.mjs';
import { discoveryAndSharing } from './scenario.mjs';

test('twcgw drives three simulated TWCs over TCP and reconnects', { timeout: 180000 }, async () => {
  const dir = tempDir();
  const pair = await startPair(dir, { transport: 'tcp' });
  let sim2;
  try {
    await discoveryAndSharing(pair);

    // The bridge disappears and comes back on the same port: the gateway reconnects on its own.
    const hostPort = pair.port.replace('tcp://', '');
    await stop(pair.sim);
    const ctl2 = path.join(dir, 'sim2.sock');
    sim2 = await start(TWCSIM, ['--tcp', hostPort.split(':')[1], '--control', ctl2, '--seed', '9'],
      { readyRe: /^ready tcp (\S+)/m });
    await waitFor('slaves heartbeated after reconnect', async () => {
      const s = await status(ctl2);
      return s.slaves.length === 3 && s.slaves.every((x) => x.heardMaster) ? s : null;
    }, 45000, 250);
    assert.equal(pair.gw.exited, null, 'gateway must survive the bridge going away');
    const r = await stop(pair.gw, 'SIGINT');
    assert.equal(r.code, 0);
  } finally {
    await stop(pair.gw, 'SIGKILL');
    await stop(pair.sim);
    await stop(sim2);
    cleanup(dir);
  }
});
