// OWN_TLS_UNTRUSTED: a central system whose certificate is not signed by the configured root is refused.
import { boot, check } from '../lib/steps.mjs';
import { testPki } from '../lib/tls.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'OWN_TLS_UNTRUSTED',
  name: 'An untrusted server certificate is refused',
  profile: 'Security',
  requirement: 'OCPP 1.6 Security Whitepaper, security profile 2: the charge point verifies the central system\'s '
    + 'certificate path against its trusted root (ocpp.caFile) and the host name; when the server presents a '
    + 'self-signed certificate for the right name it must not complete the connection (no websocket, no '
    + 'password sent), and it connects again once the genuine certificate is back (the first half of OCTT '
    + 'TC_078_CS, without the security event).',
  needs: ['local'],
  config: { tls: true, ocpp: { securityProfile: 2, authorizationKey: KEY } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const pki = testPki();
    const since = csms.mark();
    await csms.relisten(pki.rogue);
    csms.disconnect();
    await csms.sleep(8000);
    const rogue = csms.transcript.slice(since).filter((e) => e.event === 'connect' || e.event === 'auth-refused');
    check(rogue.length === 0, `the charge point connected to a server with an untrusted certificate: ${csms.fmt(rogue[0])}`);
    const tried = csms.transcript.slice(since).filter((e) => e.event === 'tls-error');
    check(tried.length > 0, 'the charge point made no TLS attempt in 8 s after the connection was dropped');
    const back = csms.mark();
    await csms.relisten(pki.server);
    await csms.waitForConnection(40000, { since: back });
  },
};
