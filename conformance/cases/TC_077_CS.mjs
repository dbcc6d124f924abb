// TC_077_CS Invalid ChargePointCertificate Security Event: a certificate that does not chain to the
// central system's root is refused, reported, and the charge point keeps its working certificate.
import { boot, check } from '../lib/steps.mjs';
import { certInfo, signCsr } from '../lib/tls.mjs';
import { checkSp3Connection, checkCsr, connects, requestCsr, waitSecurityEvent } from '../lib/security.mjs';

export default {
  id: 'TC_077_CS',
  name: 'Invalid ChargePointCertificate Security Event',
  profile: 'Security',
  requirement: 'Security profile 3. After SignCertificate, the central system sends CertificateSigned with a certificate '
    + 'for the CSR\'s key that was signed by a CA the charge point does not trust: the charge point answers Rejected, '
    + 'sends SecurityEventNotification InvalidChargePointCertificate, and keeps connecting with the certificate it '
    + 'had (OCPP 1.6 Security Whitepaper A02/A03: the charge point checks the chain; '
    + 'libocpp forces the event critical for this case).',
  needs: ['local'],
  config: { tls: 'client', ocpp: { securityProfile: 3 } },
  timeoutMs: 120000,
  async run(ctx) {
    const { csms, pki } = ctx;
    await boot(ctx, { connectors: false });
    const oldFp = certInfo(pki.cp.pem).fingerprint256;
    const sc = await requestCsr(ctx);
    checkCsr(ctx, sc, { oldCertPem: pki.cp.pem });
    const wrong = signCsr(pki, sc.payload.csr, { ca: 'other' });
    const since = csms.mark();
    const r = await csms.call('CertificateSigned', { certificateChain: wrong });
    check(r.status === 'Rejected', `CertificateSigned with a certificate from an untrusted CA answered ${r.status}, expected Rejected`);
    const ev = await waitSecurityEvent(ctx, 'InvalidChargePointCertificate', { since, timeoutMs: 30000 });
    ctx.log(`security event: ${csms.fmt(ev)}`);
    const mark = csms.mark();
    csms.disconnect();
    const again = await csms.waitForConnection(40000, { since: mark });
    checkSp3Connection(csms, again, { fingerprint: oldFp, what: 'the connection after the rejected certificate' });
    const stray = connects(csms, since).filter((e) => e.info.tls?.peer?.fingerprint256 !== oldFp);
    check(stray.length === 0, `the charge point connected with another certificate: ${csms.fmt(stray[0])}`);
  },
};
