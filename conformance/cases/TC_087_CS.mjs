// TC_087_CS TLS – client-side certificate – valid certificate (security profile 3): the charge point
// authenticates with its certificate (mutual TLS) and sends no HTTP Basic header, on every connection.
import { boot, check } from '../lib/steps.mjs';
import { certInfo } from '../lib/tls.mjs';
import { checkSp3Connection, connects } from '../lib/security.mjs';

export default {
  id: 'TC_087_CS',
  name: 'TLS - client-side certificate - Valid certificate',
  profile: 'Security',
  requirement: 'With security profile 3 the charge point connects over TLS 1.2 or later to a central system that '
    + 'requires a client certificate, presents its ChargePointCertificate (CN = the charge point identity, signed '
    + 'by the central system\'s root) and its key, verifies the server certificate, sends no HTTP Basic header, and '
    + 'boots; it does the same again after a connection loss (OCPP 1.6 Security Whitepaper, security profile 3).',
  needs: ['local'],
  config: { tls: 'client', ocpp: { securityProfile: 3 } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms, pki } = ctx;
    await boot(ctx, { connectors: false });
    const fp = certInfo(pki.cp.pem).fingerprint256;
    const [first] = connects(csms);
    checkSp3Connection(csms, first, { fingerprint: fp, what: 'the first connection' });
    ctx.log(`negotiated ${first.info.tls.protocol} ${first.info.tls.cipher}`);
    const refused = csms.transcript.filter((e) => e.event === 'tls-error');
    ctx.log(`TLS handshakes refused before the boot: ${refused.length}`);
    const since = csms.mark();
    csms.disconnect();
    const again = await csms.waitForConnection(40000, { since });
    checkSp3Connection(csms, again, { fingerprint: fp, what: 'the connection after a connection loss' });
    const hb = await csms.call('GetConfiguration', { key: ['SecurityProfile'] });
    const v = hb.configurationKey?.find((k) => k.key === 'SecurityProfile')?.value;
    check(v === '3', `SecurityProfile reads ${JSON.stringify(v)}, expected "3"`);
  },
};
