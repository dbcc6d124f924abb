// TC_017_2_CS Unlock connector – no charging session running (fixed cable).
import { boot, check } from '../lib/steps.mjs';

export default {
  id: 'TC_017_2_CS',
  name: 'Unlock connector - no charging session running (Fixed cable)',
  requirement: 'A charge point with a fixed cable has no connector lock: UnlockConnector for an existing '
    + 'connector is answered NotSupported ("Charge Point has no connector lock", OCPP 1.6 5.18, 7.44). A Wall '
    + 'Connector\'s cable is fixed.',
  needs: [],
  async run(ctx) {
    await boot(ctx);
    const r = await ctx.csms.call('UnlockConnector', { connectorId: 1 });
    check(r.status === 'NotSupported', `UnlockConnector on connector 1 answered ${r.status}, expected NotSupported (fixed cable)`);
  },
};
