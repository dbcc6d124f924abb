// TC_028_CS Remote Stop Transaction – Rejected.
import { boot, check } from '../lib/steps.mjs';

export default {
  id: 'TC_028_CS',
  name: 'Remote Stop Transaction - Rejected',
  requirement: 'RemoteStopTransaction for a transactionId the charge point does not know (no transaction '
    + 'running) is answered Rejected (OCPP 1.6 5.12).',
  needs: [],
  async run(ctx) {
    await boot(ctx, { connectors: ctx.mode === 'local' });
    const r = await ctx.csms.call('RemoteStopTransaction', { transactionId: 987654 });
    check(r.status === 'Rejected', `RemoteStopTransaction for the unknown transaction 987654 answered ${r.status}, expected Rejected`);
  },
};
