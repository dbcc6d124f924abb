// TC_085_CS Basic Authentication – valid username/password combination.
import { boot, check } from '../lib/steps.mjs';
import { CHARGE_BOX_ID } from '../lib/sut.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'TC_085_CS',
  name: 'Basic Authentication - Valid username/password combination',
  profile: 'Security',
  requirement: 'With security profile 1 the charge point authenticates with HTTP Basic on every websocket '
    + 'upgrade: "Authorization: Basic base64(<ChargePointId>:<AuthorizationKey>)", the user name being the '
    + 'identity at the end of the URL; the central system accepts it and the charge point boots '
    + '(OCPP 1.6 Security Whitepaper, security profile 1; A00).',
  needs: ['local'],
  config: { ocpp: { securityProfile: 1, authorizationKey: KEY } },
  async run(ctx) {
    const { csms } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const refused = csms.transcript.filter((e) => e.event === 'auth-refused');
    check(refused.length === 0, `the central system refused ${refused.length} upgrade(s) with wrong or missing credentials: ${csms.fmt(refused[0])}`);
    const conn = csms.transcript.find((e) => e.event === 'connect');
    check(conn.info.identity === CHARGE_BOX_ID, `the URL ends with ${conn.info.identity}, not the chargeBoxId ${CHARGE_BOX_ID}`);
    check(conn.info.auth === 'basic' && conn.password === KEY, `the upgrade carried auth=${conn.info.auth}`);
    // Again after a connection loss.
    const since = csms.mark();
    csms.disconnect();
    const again = await csms.waitForConnection(30000, { since });
    check(again.info.auth === 'basic' && again.password === KEY, `after a reconnect the upgrade carried auth=${again.info.auth}`);
  },
};
