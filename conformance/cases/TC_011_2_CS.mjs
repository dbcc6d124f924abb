// TC_011_2_CS Remote Start Charging Session – Time Out (ConnectionTimeOut).
import { boot, check, sec, TAG } from '../lib/steps.mjs';

const TIMEOUT_S = 6;

export default {
  id: 'TC_011_2_CS',
  name: 'Remote Start Charging Session - Time Out',
  requirement: 'RemoteStartTransaction is Accepted and the connector goes to Preparing, but no EV is plugged in: '
    + 'once ConnectionTimeOut has passed the charge point gives up, the connector returns to Available and no '
    + 'StartTransaction is sent (OCPP 1.6 5.11, configuration key ConnectionTimeOut).',
  needs: [],
  config: { keys: { ConnectionTimeOut: TIMEOUT_S } },
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const since = csms.mark();
    const t0 = Date.now();
    const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r.status === 'Accepted', `RemoteStartTransaction answered ${r.status}, expected Accepted`);
    const prep = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 10000, { since });
    const back = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, TIMEOUT_S * 1000 + 15000, { since: prep.seq + 1 });
    const d = back.t - t0;
    check(d >= TIMEOUT_S * 1000 - 1000, `the connector returned to Available ${sec(d)} after the remote start, before ConnectionTimeOut (${TIMEOUT_S} s)`);
    check(d <= TIMEOUT_S * 1000 + 5000, `the connector returned to Available only ${sec(d)} after the remote start (ConnectionTimeOut ${TIMEOUT_S} s)`);
    check(csms.find('StartTransaction', undefined, { since }).length === 0, 'a StartTransaction was sent although no EV was plugged in');
  },
};
