// TC_010_CS Remote Start Charging Session – Cable Plugged in First.
import { boot, check, plug, replyOf, getConfiguration, TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_010_CS',
  name: 'Remote Start Charging Session - Cable Plugged in First',
  requirement: 'With the cable plugged in (Preparing), RemoteStartTransaction for that connector is Accepted; if '
    + 'AuthorizeRemoteTxRequests is true the charge point first sends Authorize for the idTag, otherwise it starts '
    + 'at once; then StartTransaction with the given idTag and connectorId, and Charging (OCPP 1.6 5.11, '
    + 'configuration key AuthorizeRemoteTxRequests).',
  needs: ['stimulus'],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const artr = (await getConfiguration(ctx, ['AuthorizeRemoteTxRequests'])).get('AuthorizeRemoteTxRequests');
    check(artr, 'GetConfiguration does not report AuthorizeRemoteTxRequests (a required Core key)');
    const authorize = artr.value.toLowerCase() === 'true';
    const since = csms.mark();
    await plug(ctx, 1);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Preparing' }, 20000, { since });
    const r = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r.status === 'Accepted', `RemoteStartTransaction answered ${r.status}, expected Accepted`);
    const start = await csms.waitFor('StartTransaction', { connectorId: 1, idTag: TAG }, 20000, { since });
    const auths = csms.find('Authorize', { idTag: TAG }, { since });
    if (authorize) {
      check(auths.length > 0 && auths[0].seq < start.seq, 'AuthorizeRemoteTxRequests is true but no Authorize preceded StartTransaction');
      const ar = await replyOf(ctx, auths[0]);
      check(ar.seq < start.seq, 'StartTransaction was sent before the Authorize was answered');
    } else {
      check(auths.length === 0, `AuthorizeRemoteTxRequests is false, yet the charge point sent Authorize: ${csms.fmt(auths[0] || {})}`);
    }
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Charging' }, 20000, { since });
  },
};
