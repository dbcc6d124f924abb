// TC_073_CS Update Charge Point Password for HTTP Basic Authentication.
import { boot, check, getConfiguration } from '../lib/steps.mjs';

const KEY1 = 'CT-key-0123456789ab';
const KEY2 = 'CT-newkey-abcdef9876';

export default {
  id: 'TC_073_CS',
  name: 'Update Charge Point Password for HTTP Basic Authentication',
  profile: 'Security',
  requirement: 'ChangeConfiguration AuthorizationKey with a new password is Accepted; the charge point then '
    + 'disconnects and reconnects using the new password (the old one is refused from then on); the key is '
    + 'write-only (GetConfiguration lists no value) and it is persistent: after a power cut the charge point '
    + 'still uses the new password (OCPP 1.6 Security Whitepaper A01, configuration key AuthorizationKey).',
  needs: ['local', 'powercut'],
  config: { ocpp: { securityProfile: 1, authorizationKey: KEY1 } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms, sut } = ctx;
    csms.expectPassword = KEY1;
    await boot(ctx, { connectors: false });
    let since = csms.mark();
    const r = await csms.call('ChangeConfiguration', { key: 'AuthorizationKey', value: KEY2 });
    check(r.status === 'Accepted', `ChangeConfiguration AuthorizationKey answered ${r.status}, expected Accepted`);
    csms.expectPassword = KEY2;
    const conn = await csms.waitForConnection(30000, { since });
    check(conn.password === KEY2, 'the charge point reconnected without the new password');
    const kv = (await getConfiguration(ctx, ['AuthorizationKey'])).get('AuthorizationKey');
    check(!kv || kv.value === undefined, `GetConfiguration reveals the AuthorizationKey: ${JSON.stringify(kv)}`);
    since = csms.mark();
    await sut.powerCut();
    const after = await csms.waitForConnection(30000, { since });
    check(after.password === KEY2, 'after a power cut the charge point did not use the new password');
    await csms.waitFor('BootNotification', undefined, 20000, { since });
  },
};
