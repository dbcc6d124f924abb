// TC_086_CS TLS – server-side certificate – valid certificate (security profile 2).
import { boot, check } from '../lib/steps.mjs';
import { testPki } from '../lib/tls.mjs';
import { CHARGE_BOX_ID } from '../lib/sut.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'TC_086_CS',
  name: 'TLS - server-side certificate - Valid certificate',
  profile: 'Security',
  requirement: 'With security profile 2 the charge point connects over TLS 1.2 or later, verifies the central '
    + 'system\'s certificate against its trusted root, authenticates with HTTP Basic (user name = the identity '
    + 'at the end of the URL, password = AuthorizationKey) and boots. It supports the whitepaper\'s cipher '
    + 'suites: with a server offering only TLS 1.2 and TLS_RSA_WITH_AES_128_GCM_SHA256 / '
    + 'TLS_RSA_WITH_AES_256_GCM_SHA384 (the RSA pair) it still connects (OCPP 1.6 Security Whitepaper, '
    + 'security profile 2).',
  needs: ['local'],
  config: { tls: true, ocpp: { securityProfile: 2, authorizationKey: KEY } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const conn = csms.transcript.find((e) => e.event === 'connect');
    check(conn.info.tls, 'the connection is not TLS');
    check(['TLSv1.2', 'TLSv1.3'].includes(conn.info.tls.protocol), `TLS version ${conn.info.tls.protocol}, expected 1.2 or later`);
    check(conn.info.identity === CHARGE_BOX_ID && conn.info.auth === 'basic' && conn.password === KEY,
      `Basic auth: identity ${conn.info.identity}, auth=${conn.info.auth}`);
    ctx.log(`negotiated ${conn.info.tls.protocol} ${conn.info.tls.cipher}`);
    // The whitepaper's RSA suites over TLS 1.2 only.
    const since = csms.mark();
    await csms.relisten({ ...testPki().server, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' });
    csms.disconnect();
    const again = await csms.waitForConnection(40000, { since });
    check(again.info.tls?.protocol === 'TLSv1.2' && /AES_(128|256)_GCM/.test(again.info.tls.cipher),
      `reconnected with ${JSON.stringify(again.info.tls)}`);
  },
};
