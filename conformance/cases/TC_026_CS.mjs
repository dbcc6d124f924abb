// TC_026_CS Remote Start Charging Session – Rejected.
import { boot, check, TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_026_CS',
  name: 'Remote Start Charging Session - Rejected',
  requirement: 'The charge point rejects a RemoteStartTransaction it cannot serve: for a connector made '
    + 'Unavailable by ChangeAvailability Inoperative, and for a connector that does not exist, the answer is '
    + 'Rejected and no transaction starts (OCPP 1.6 5.11, 5.2).',
  needs: [],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const since = csms.mark();
    const ca = await csms.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' });
    check(ca.status === 'Accepted', `ChangeAvailability(1, Inoperative) answered ${ca.status}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Unavailable' }, 15000, { since });
    const r1 = await csms.call('RemoteStartTransaction', { connectorId: 1, idTag: TAG });
    check(r1.status === 'Rejected', `RemoteStartTransaction on the Unavailable connector 1 answered ${r1.status}, expected Rejected`);
    const r2 = await csms.call('RemoteStartTransaction', { connectorId: ctx.connectors + 1, idTag: TAG });
    check(r2.status === 'Rejected', `RemoteStartTransaction on the non-existent connector ${ctx.connectors + 1} answered ${r2.status}, expected Rejected`);
    const back = csms.mark();
    const ok = await csms.call('ChangeAvailability', { connectorId: 1, type: 'Operative' });
    check(ok.status === 'Accepted', `ChangeAvailability(1, Operative) answered ${ok.status}`);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, 15000, { since: back });
    check(csms.find('StartTransaction', undefined, { since }).length === 0, 'a rejected remote start still started a transaction');
  },
};
