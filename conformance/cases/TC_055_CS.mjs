// TC_055_CS Trigger Message – Rejected.
import { boot, check, getConfiguration } from '../lib/steps.mjs';

export default {
  id: 'TC_055_CS',
  name: 'Trigger Message - Rejected',
  profile: 'RemoteTrigger',
  requirement: 'TriggerMessage for MeterValues on connector NumberOfConnectors + 1, which does not exist, is '
    + 'answered Rejected (or with a CALLERROR), and no MeterValues follows (OCPP 1.6 5.17).',
  needs: [],
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx);
    const n = Number((await getConfiguration(ctx, ['NumberOfConnectors'])).get('NumberOfConnectors')?.value);
    check(Number.isInteger(n) && n > 0, 'NumberOfConnectors missing or not a positive integer');
    const since = csms.mark();
    const r = await csms.tryCall('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: n + 1 });
    check(r.error || r.result.status === 'Rejected',
      `TriggerMessage MeterValues for connector ${n + 1} answered ${r.result?.status}, expected Rejected`);
    await csms.expectNone('MeterValues', {}, 3000, { since, why: `connector ${n + 1} does not exist` });
  },
};
