// TC_023_5_CS Start Charging Session – remote start, Authorize invalid.
import { boot, check, plug, replyOf, TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_023_5_CS',
  name: 'Start Remote Charging Session - Authorize invalid',
  requirement: 'With AuthorizeRemoteTxRequests true, RemoteStartTransaction is Accepted and its idTag checked '
    + 'with Authorize; the central system answers Invalid: no transaction starts (no StartTransaction, no '
    + 'Charging) (OCPP 1.6 5.11, 4.1).',
  needs: ['stimulus'],
  config: { keys: { AuthorizeRemoteTxRequests: true } },
  async run(ctx) {
    const { csms } = ctx;
    csms.handle('Authorize', () => ({ idTagInfo: { status: 'Invalid' } }));
    await boot(ctx);
    const since = csms.mark();
    await plug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 20000, { since });
    const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r.status === 'Accepted', `RemoteStartTransaction answered ${r.status}, expected Accepted`);
    const auth = await csms.waitFor('Authorize', { idTag: TAG }, 20000, { since });
    await replyOf(ctx, auth);
    await csms.expectNone('StartTransaction', undefined, 4000, { since, why: 'the idTag was Invalid' });
    const charging = csms.find('StatusNotification', { connectorId: 1, status: 'Charging' }, { since });
    check(charging.length === 0, 'the connector reported Charging after an Invalid Authorize');
  },
};
