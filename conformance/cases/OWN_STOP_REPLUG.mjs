// OWN_STOP_REPLUG: after a RemoteStopTransaction the connector still sees the unplug and the next car.
// A protocol 2 Wall Connector answers state 09 for 12 s after every 09 it receives, so a master that
// keeps repeating the stop as 09 00 00 (as TWCManager does) never sees the car leave or the next one
// arrive (docs/architecture.md, "Seeing the truth after a stop").
import { boot, check, plug, unplug, replyOf, simSlave, sec, TAG } from '../lib/steps.mjs';

// One slave on the suite's wiring (40 A total, 32 A per TWC) and no charging profile: a charging car
// is offered the per-TWC limit, and that is what the slave holds (twc-sim heldAmps, from the frames it
// received). Stopped, a protocol 2 slave still holds 6 A.
const WIRING_PER_TWC = 32;

async function waitHeld(ctx, amps, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let s;
  for (;;) {
    s = await simSlave(ctx, 1);
    if (s.heldAmps === amps && s.charging && s.drawnAmps > 6) return s;
    if (Date.now() > end) {
      ctx.fail(`the slave of connector 1 does not hold ${amps} A with its car charging after ${sec(timeoutMs)}: twc-sim ${JSON.stringify(s)}`);
    }
    await ctx.sleep(250);
  }
}

export default {
  id: 'OWN_STOP_REPLUG',
  name: 'Unplug and re-plug are seen after a remote stop',
  requirement: 'After RemoteStopTransaction (StopTransaction, connector Finishing) the Wall Connector still '
    + 'reports the unplug and the next car: the connector reports Available within 20 s of the unplug (a '
    + 'protocol 2 slave answers state 09 for 12 s after each 09 it hears, hiding it) and Preparing within 20 s '
    + 'of the re-plug; a second RemoteStartTransaction starts a new transaction on the same connector '
    + '(Charging) and the slave holds the per-TWC limit again (OCPP 1.6 4.9, 5.11, 5.12).',
  needs: ['stimulus'],
  timeoutMs: 120000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);

    // First session: plug, RemoteStart, StartTransaction, Charging.
    let since = csms.mark();
    await plug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 20000, { since });
    let r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r.status === 'Accepted', `RemoteStartTransaction answered ${r.status}, expected Accepted`);
    const start1 = await csms.waitFor('StartTransaction', { connectorId: 1, idTag: TAG }, 20000, { since });
    const tx1 = (await replyOf(ctx, start1)).payload.transactionId;
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since });
    const s1 = await waitHeld(ctx, WIRING_PER_TWC, 15000);
    ctx.log(`first session ${tx1}: slave holds ${s1.heldAmps} A, draws ${s1.drawnAmps} A`);

    // RemoteStop: StopTransaction (Remote) and Finishing, the car still plugged in.
    since = csms.mark();
    r = await csms.call('RemoteStopTransaction', { transactionId: tx1 });
    check(r.status === 'Accepted', `RemoteStopTransaction answered ${r.status}, expected Accepted`);
    const stop = await csms.waitFor('StopTransaction', { transactionId: tx1 }, 20000, { since });
    check(stop.payload.reason === 'Remote', `StopTransaction reason ${JSON.stringify(stop.payload.reason)}, expected Remote: ${csms.fmt(stop)}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Finishing' }, 20000, { since });
    // The stop reaches the slave: told 0, a protocol 2 slave holds 6 A (its floor).
    const stopped = await (async () => {
      const end = Date.now() + 10000;
      for (;;) {
        const s = await simSlave(ctx, 1);
        if (s.heldAmps <= 6) return s;
        if (Date.now() > end) ctx.fail(`10 s after the stop the slave still holds ${s.heldAmps} A: twc-sim ${JSON.stringify(s)}`);
        await ctx.sleep(250);
      }
    })();
    ctx.log(`after the stop: twc-sim ${JSON.stringify(stopped)}`);

    // Unplug: Available within 20 s, measured.
    since = csms.mark();
    const tUnplug = Date.now();
    await unplug(ctx, 1);
    const avail = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, 20000, { since });
    const unplugMs = avail.t - tUnplug;
    ctx.log(`unplug -> Available after ${unplugMs} ms`);
    console.log(`  OWN_STOP_REPLUG: unplug -> Available ${sec(unplugMs)}`);
    check(unplugMs <= 20000, `Available ${sec(unplugMs)} after the unplug, more than 20 s`);

    // Re-plug: Preparing within 20 s, measured.
    since = csms.mark();
    const tPlug = Date.now();
    await plug(ctx, 1);
    const prep = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 20000, { since });
    const plugMs = prep.t - tPlug;
    ctx.log(`re-plug -> Preparing after ${plugMs} ms`);
    console.log(`  OWN_STOP_REPLUG: re-plug -> Preparing ${sec(plugMs)}`);
    check(plugMs <= 20000, `Preparing ${sec(plugMs)} after the re-plug, more than 20 s`);

    // Second session on the same connector.
    r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r.status === 'Accepted', `the second RemoteStartTransaction answered ${r.status}, expected Accepted`);
    const start2 = await csms.waitFor('StartTransaction', { connectorId: 1, idTag: TAG }, 20000, { since });
    const tx2 = (await replyOf(ctx, start2)).payload.transactionId;
    check(tx2 !== tx1, `the second StartTransaction got the first one's transactionId ${tx1}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since });
    const s2 = await waitHeld(ctx, WIRING_PER_TWC, 15000);
    ctx.log(`second session ${tx2}: slave holds ${s2.heldAmps} A, draws ${s2.drawnAmps} A`);
    const starts = csms.find('StartTransaction', { connectorId: 1 });
    check(starts.length === 2, `${starts.length} StartTransaction on connector 1, expected 2`);
  },
};
