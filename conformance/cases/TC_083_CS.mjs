// TC_083_CS Upgrade Charge Point Security Profile – Accepted (0 -> 1).
import { boot, check, replyOf } from '../lib/steps.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'TC_083_CS',
  name: 'Upgrade Charge Point Security Profile - Accepted',
  profile: 'Security',
  requirement: 'The charge point runs security profile 0 with an AuthorizationKey installed. ChangeConfiguration '
    + 'SecurityProfile to the next profile (1) is Accepted (its prerequisite, a key, is met); after Reset Hard the '
    + 'charge point boots and connects with the new profile (HTTP Basic) and never again with the old one '
    + '(OCPP 1.6 Security Whitepaper A05; profiles are never lowered).',
  needs: ['local'],
  config: { ocpp: { securityProfile: 0, authorizationKey: KEY } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    await boot(ctx, { connectors: false });
    const conn0 = csms.transcript.find((e) => e.event === 'connect');
    check(conn0.info.auth === 'none', `with security profile 0 the upgrade carried auth=${conn0.info.auth}`);
    const since = csms.mark();
    const r = await csms.call('ChangeConfiguration', { key: 'SecurityProfile', value: '1' });
    check(r.status === 'Accepted' || r.status === 'RebootRequired', `ChangeConfiguration SecurityProfile=1 answered ${r.status}, expected Accepted`);
    csms.expectPassword = KEY;
    // OCTT follows with Reset Hard. A charge point that reconnects with the new profile on its own (A05)
    // may close the connection first; then the Reset is sent again on the new connection.
    let reset = await csms.tryCall('Reset', { type: 'Hard' }).catch((err) => ({ error: err.message }));
    ctx.log(`Reset Hard: ${JSON.stringify(reset.result || reset.error)}`);
    if (!reset.result) {
      const conn1 = await csms.waitForConnection(30000, { since });
      check(conn1.info.auth === 'basic' && conn1.password === KEY, `after the upgrade the charge point reconnected with auth=${conn1.info.auth}`);
      reset = await csms.tryCall('Reset', { type: 'Hard' });
      check(reset.result?.status === 'Accepted', `Reset Hard after the upgrade answered ${JSON.stringify(reset.result || reset.error)}`);
    } else {
      check(reset.result.status === 'Accepted', `Reset Hard answered ${reset.result.status}`);
    }
    const b = await csms.waitFor('BootNotification', undefined, 45000, { since });
    await replyOf(ctx, b);
    const bootConn = csms.transcript.find((e) => e.event === 'connect' && e.conn === b.conn);
    check(bootConn.info.auth === 'basic' && bootConn.password === KEY, `after the reset the charge point booted with auth=${bootConn.info.auth}`);
    const refused = csms.transcript.slice(since).filter((e) => e.event === 'auth-refused');
    check(refused.length === 0, `the charge point tried to connect with the old profile ${refused.length} time(s) after the upgrade: ${csms.fmt(refused[0])}`);
  },
};
