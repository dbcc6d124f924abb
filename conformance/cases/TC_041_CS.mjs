// TC_041_CS Fault Behavior: a TWC fault shows as Faulted with an errorCode, and clears again.
import { boot, check } from '../lib/steps.mjs';

export default {
  id: 'TC_041_CS',
  name: 'Fault Behavior',
  requirement: 'When a connector develops a fault the charge point sends StatusNotification Faulted with an '
    + 'errorCode other than NoError (and may give vendorErrorCode); when the fault clears the connector returns '
    + 'to Available (OCPP 1.6 4.9, 7.6 ChargePointErrorCode, 7.7 status Faulted). The stimulus is twc-sim\'s '
    + 'TWC fault (an error state, or the TWC falling silent on the bus).',
  needs: ['stimulus'],
  timeoutMs: 120000,
  async run(ctx) {
    const { csms, sut } = ctx;
    await boot(ctx);
    const since = csms.mark();
    const kind = await sut.fault(1, true);
    ctx.log(`fault injected: ${kind}`);
    const faulted = await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Faulted' }, kind === 'silent' ? 50000 : 20000, { since });
    check(faulted.payload.errorCode !== 'NoError', `StatusNotification Faulted with errorCode NoError: ${csms.fmt(faulted)}`);
    await sut.fault(1, false);
    await csms.waitFor('StatusNotification', { connectorId: 1, status: 'Available' }, 45000, { since: faulted.seq + 1 });
  },
};
