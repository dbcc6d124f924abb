// TC_027_CS Remote start transaction – connectorId shall not be 0.
import { boot, check, TAG } from '../lib/steps.mjs';

export default {
  id: 'TC_027_CS',
  name: 'Remote start transaction - connector id shall not be 0',
  requirement: 'RemoteStartTransaction with connectorId 0 is Rejected ("connectorId SHALL be > 0", OCPP 1.6 6.33) '
    + 'and no transaction starts.',
  needs: [],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const since = csms.mark();
    const r = await csms.call('RemoteStartTransaction', { connectorId: 0, idTag: TAG });
    check(r.status === 'Rejected', `RemoteStartTransaction with connectorId 0 answered ${r.status}, expected Rejected`);
    await csms.expectNone('StartTransaction', undefined, 2000, { since, why: 'the remote start was rejected' });
  },
};
