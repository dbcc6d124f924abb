// TC_011_1_CS Remote Start Charging Session – Remote Start First.
import { boot, check, plug, TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_011_1_CS',
  name: 'Remote Start Charging Session - Remote Start First',
  requirement: 'RemoteStartTransaction arrives before the cable: it is Accepted and the connector goes to '
    + 'Preparing; no transaction starts until the EV is plugged in; on plug-in the charge point sends '
    + 'StartTransaction with the remote idTag and reports Charging (OCPP 1.6 5.11, 4.8).',
  needs: ['stimulus'],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const since = csms.mark();
    const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r.status === 'Accepted', `RemoteStartTransaction answered ${r.status}, expected Accepted`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 15000, { since });
    await csms.expectNone('StartTransaction', undefined, 1500, { since, why: 'no EV is plugged in yet' });
    const plugged = csms.mark();
    await plug(ctx, 1);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1, idTag: TAG }, 20000, { since: plugged });
    check(start, 'no StartTransaction');
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since: plugged });
  },
};
