// TC_031_CS Unlock Connector – Unknown Connector.
import { boot, check } from '../lib/steps.mjs';

export default {
  id: 'TC_031_CS',
  name: 'Unlock Connector - Unknown Connector',
  requirement: 'UnlockConnector for a connectorId the charge point does not have is answered NotSupported '
    + '("Charge Point has no connector lock, or ConnectorId is unknown", OCPP 1.6 7.44).',
  needs: [],
  async run(ctx) {
    await boot(ctx);
    const id = ctx.connectors + 5;
    const r = await ctx.csms.call('UnlockConnector', { connectorId: id });
    check(r.status === 'NotSupported', `UnlockConnector on the unknown connector ${id} answered ${r.status}, expected NotSupported`);
  },
};
