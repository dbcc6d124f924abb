// TC_078_CS Invalid CentralSystemCertificate Security Event: a central system presenting an expired
// certificate is refused; once a valid one is back the charge point reports the event.
import { boot, check } from '../lib/steps.mjs';
import { serverTls } from '../lib/tls.mjs';
import { waitSecurityEvent } from '../lib/security.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'TC_078_CS',
  name: 'Invalid CentralSystemCertificate Security Event',
  profile: 'Security',
  requirement: 'Security profile 2. The central system presents a server certificate issued by the trusted root but '
    + 'expired: the charge point refuses the TLS connection (no websocket, no password sent) and raises '
    + 'InvalidCentralSystemCertificate; when the central system presents a valid certificate again it connects and '
    + 'sends SecurityEventNotification InvalidCentralSystemCertificate (OCPP 1.6 Security Whitepaper, TLS: the charge '
    + 'point verifies the certification path; libocpp forces the event critical for this case).',
  needs: ['local'],
  config: { tls: true, ocpp: { securityProfile: 2, authorizationKey: KEY } },
  timeoutMs: 120000,
  async run(ctx) {
    const { csms, pki } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const since = csms.mark();
    await csms.relisten(serverTls(pki, { which: 'expired' }));
    csms.disconnect();
    // Wait for two refused handshakes (the first attempt and a retry), not a fixed time.
    await csms._wait('two TLS handshakes against the expired certificate',
      () => csms.transcript.slice(since).filter((e) => e.event === 'tls-error').length >= 2, 40000);
    const through = csms.transcript.slice(since).filter((e) => e.event === 'connect' || e.event === 'auth-refused');
    check(through.length === 0, `the charge point connected to a server with an expired certificate: ${csms.fmt(through[0])}`);
    const back = csms.mark();
    await csms.relisten(serverTls(pki));
    await csms.waitForConnection(45000, { since: back });
    const ev = await waitSecurityEvent(ctx, 'InvalidCentralSystemCertificate', { since, timeoutMs: 30000 });
    ctx.log(`security event: ${csms.fmt(ev)}`);
  },
};
