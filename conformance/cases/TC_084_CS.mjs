// TC_084_CS Downgrade Charge Point Security Profile – Rejected.
import { boot, check, getConfiguration } from '../lib/steps.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'TC_084_CS',
  name: 'Downgrade Charge Point Security Profile - Rejected',
  profile: 'Security',
  requirement: 'A security profile is never lowered through OCPP: ChangeConfiguration SecurityProfile to a lower '
    + 'value than the one in use is Rejected, and the charge point keeps connecting with its profile '
    + '(OCPP 1.6 Security Whitepaper A00/A05).',
  needs: ['local'],
  config: { ocpp: { securityProfile: 1, authorizationKey: KEY } },
  async run(ctx) {
    const { csms } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const r = await csms.call('ChangeConfiguration', { key: 'SecurityProfile', value: '0' });
    check(r.status === 'Rejected', `ChangeConfiguration SecurityProfile=0 (from 1) answered ${r.status}, expected Rejected`);
    const v = (await getConfiguration(ctx, ['SecurityProfile'])).get('SecurityProfile')?.value;
    check(v === '1', `SecurityProfile is ${v} after the rejected downgrade`);
    const since = csms.mark();
    csms.disconnect();
    const again = await csms.waitForConnection(30000, { since });
    check(again.info.auth === 'basic', `after the rejected downgrade the charge point reconnected with auth=${again.info.auth}`);
  },
};
