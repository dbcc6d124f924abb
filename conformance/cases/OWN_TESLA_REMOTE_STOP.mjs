// OWN_TESLA_REMOTE_STOP: RemoteStopTransaction stops the car through the Tesla vehicle API, for the
// VIN the TWC reported, refreshing an expired access token on the way.
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { check } from '../lib/steps.mjs';
import { withTeslaMock, teslaSession, mockCall, VIN, OTHER_VIN } from '../lib/tesla.mjs';

export default {
  id: 'OWN_TESLA_REMOTE_STOP',
  name: 'Remote stop reaches the car through the vehicle API',
  requirement: 'A Gen 2 TWC cannot stop a car cleanly (a protocol 2 slave told 0 A still offers 6 A), so '
    + 'RemoteStopTransaction ends the transaction (reason Remote), lowers the offer to 0 and sends '
    + 'POST /api/1/vehicles/{VIN}/command/charge_stop for the VIN the TWC read, to tesla.baseUrl over TLS '
    + 'checked against tesla.caFile. An expired access token is refreshed once (single-use refresh token, '
    + 'stored 0600 in dataDir) and the command retried. A car that started by itself gets no charge_start, '
    + 'and the stop is sent once.',
  needs: ['stimulus', 'local'],
  timeoutMs: 90000,
  async run(ctx) {
    const { csms, sut } = ctx;
    await withTeslaMock(ctx, async (mock) => {
      const transactionId = await teslaSession(ctx, mock);
      mock.expireAccessToken();
      const t0 = Date.now();
      const stopSince = csms.mark();
      const rs = await csms.call('RemoteStopTransaction', { transactionId });
      check(rs.status === 'Accepted', `RemoteStopTransaction answered ${rs.status}`);
      const stop = await csms.waitFor('StopTransaction', { transactionId }, 30000, { since: stopSince });
      check(stop.payload.reason === 'Remote', `StopTransaction reason ${stop.payload.reason}, expected Remote`);
      const ok = await mockCall(ctx, mock, 'charge_stop', 200, 15000);
      ctx.log(`charge_stop accepted ${Date.now() - t0} ms after RemoteStopTransaction`);
      check(ok.path === `/api/1/vehicles/${VIN}/command/charge_stop`, `charge_stop went to ${ok.path}, expected the VIN ${VIN} the TWC read`);
      check(ok.auth === mock.tokens.access, 'the successful charge_stop did not carry the refreshed access token');
      const refreshes = mock.callsTo('token');
      check(refreshes.length === 1, `${refreshes.length} token refreshes, expected exactly 1`);
      check(refreshes[0].body?.grant_type === 'refresh_token', `token request grant_type ${refreshes[0].body?.grant_type}`);
      const tokFile = path.join(sut.dataDir, 'tesla-tokens.json');
      const mode = statSync(tokFile).mode & 0o777;
      check(mode === 0o600, `tesla-tokens.json has mode ${mode.toString(8)}, expected 600`);
      check(readFileSync(tokFile, 'utf8').includes(mock.tokens.refresh), 'tesla-tokens.json does not hold the new refresh token');
      check(!sut.gwStderr.includes(mock.tokens.refresh) && !sut.gwStderr.includes(mock.tokens.access),
        'a token appears in twcgw\'s log');
      // The car is told once: no second charge_stop within the dwell.
      await csms.sleep(5000);
      const okStops = mock.callsTo('charge_stop').filter((c) => c.status === 200);
      check(okStops.length === 1, `${okStops.length} successful charge_stop calls, expected 1`);
      check(!mock.calls.some((c) => c.path.includes(OTHER_VIN)), 'the other car on the account was addressed');
    });
  },
};
