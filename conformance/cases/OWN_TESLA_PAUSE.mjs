// OWN_TESLA_PAUSE: a charging profile below the minimum pauses the connector and stops the car
// through the vehicle API, waking it on 408 and honouring 429's Retry-After.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { check, chargingProfile, setChargingProfile } from '../lib/steps.mjs';
import { withTeslaMock, teslaSession, mockCall, VIN } from '../lib/tesla.mjs';

const ASLEEP = { response: null, error: 'vehicle unavailable: vehicle is offline or asleep', error_description: '' };

export default {
  id: 'OWN_TESLA_PAUSE',
  name: 'A profile below the minimum stops the car through the vehicle API (408, 429)',
  requirement: 'A TxProfile allowing less than minAmpsPerTWC (6 A) pauses the connector: SuspendedEVSE, the '
    + 'TWC is told 0 A, and because the car still draws, charge_stop goes to the car. A 408 (asleep) is '
    + 'answered with wake_up and the command is retried after a backoff. When the profile allows current '
    + 'again and the limit drops once more after the dwell, a 429 with Retry-After blocks every vehicle API '
    + 'request for that long (kept in dataDir/tesla-state.json across restarts), after which the stop is '
    + 'retried and succeeds.',
  needs: ['stimulus', 'local'],
  timeoutMs: 150000,
  async run(ctx) {
    const { csms, sut } = ctx;
    await withTeslaMock(ctx, async (mock) => {
      const transactionId = await teslaSession(ctx, mock);
      mock.setFault('charge_stop', { status: 408, body: ASLEEP, times: 1 });
      const pause = chargingProfile({ id: 71, stack: 1, purpose: 'TxProfile', kind: 'Relative', periods: [[0, 3]], transactionId });
      let since = csms.mark();
      check(await setChargingProfile(ctx, 1, pause) === 'Accepted', 'the 3 A TxProfile was not Accepted');
      await csms.waitFor('StatusNotification', { connectorId: 1, status: 'SuspendedEVSE' }, 10000, { since });
      const asleep = await mockCall(ctx, mock, 'charge_stop', 408, 15000);
      const wake = await mockCall(ctx, mock, 'wake_up', 200, 10000);
      check(wake.path === `/api/1/vehicles/${VIN}/wake_up`, `wake_up went to ${wake.path}`);
      const ok = await mockCall(ctx, mock, 'charge_stop', 200, 40000);
      ctx.log(`408 -> wake_up -> charge_stop retried ${ok.time - asleep.time} ms after the 408`);
      check(ok.time - asleep.time >= 14000, `the stop was retried ${ok.time - asleep.time} ms after the 408: no backoff`);

      // Allowed again, then paused again after the dwell: this time the API is rate limited.
      since = csms.mark();
      check(await csms.call('ClearChargingProfile', { id: 71 }).then((r) => r.status) === 'Accepted', 'ClearChargingProfile not Accepted');
      await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 15000, { since });
      await csms.sleep(11000); // tesla.dwell is 10 s
      mock.setFault('charge_stop', { status: 429, body: { response: null, error: 'rate limited' }, retryAfter: 20, times: 1 });
      const before = mock.calls.length;
      check(await setChargingProfile(ctx, 1, { ...pause, chargingProfileId: 72 }) === 'Accepted', 'the second 3 A TxProfile was not Accepted');
      const limited = await mockCall(ctx, mock, 'charge_stop', 429, 15000);
      const state = JSON.parse(readFileSync(path.join(sut.dataDir, 'tesla-state.json'), 'utf8'));
      check(Math.abs(state.blocked_until_ms - (limited.time + 20000)) < 3000,
        `tesla-state.json blocked_until_ms ${state.blocked_until_ms}, expected about ${limited.time + 20000}`);
      await csms.sleep(15000);
      const during = mock.calls.slice(before).filter((c) => c.time > limited.time);
      check(during.length === 0, `requests during the Retry-After block: ${JSON.stringify(during.map((c) => c.path))}`);
      let retried;
      for (let i = 0; i < 150 && !retried; i++) {
        retried = mock.calls.slice(before).find((c) => c.time > limited.time && c.status === 200 && c.path.endsWith('/charge_stop'));
        if (!retried) await csms.sleep(100);
      }
      check(retried && retried.time - limited.time >= 19000, `the stop after the 429 came ${retried ? retried.time - limited.time : '?'} ms later, before Retry-After (20 s)`);
      ctx.log(`429 Retry-After 20 s: next request ${retried.time - limited.time} ms later`);
    });
  },
};
