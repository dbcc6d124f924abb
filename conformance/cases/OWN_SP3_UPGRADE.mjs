// OWN_SP3_UPGRADE: from security profile 2 to 3 without a site visit: a certificate is rotated in
// under profile 2, then the central system raises the profile and the charge point uses that certificate.
import { boot, check, getConfiguration } from '../lib/steps.mjs';
import { certInfo, serverTls, signCsr } from '../lib/tls.mjs';
import { checkSp3Connection, checkCsr, requestCsr } from '../lib/security.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'OWN_SP3_UPGRADE',
  name: 'Security profile 2 to 3 with a certificate made under profile 2',
  profile: 'Security',
  requirement: 'A charge point on security profile 2 with no certificate of its own gets one through SignCertificate '
    + 'and CertificateSigned (Accepted, whitepaper A02/A03); ChangeConfiguration SecurityProfile 3 is then Accepted '
    + '(its prerequisites, a CSMS root and a valid charge point certificate, are met, A05) and the charge point '
    + 'reconnects with TLS client authentication using that certificate and no Basic header; SecurityProfile reads 3.',
  needs: ['local'],
  config: { tls: true, ocpp: { securityProfile: 2, authorizationKey: KEY } },
  timeoutMs: 120000,
  async run(ctx) {
    const { csms, pki } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const sc = await requestCsr(ctx);
    checkCsr(ctx, sc);
    const cert = signCsr(pki, sc.payload.csr);
    const r = await csms.call('CertificateSigned', { certificateChain: cert });
    check(r.status === 'Accepted', `CertificateSigned under security profile 2 answered ${r.status}, expected Accepted`);
    // From now on the central system wants client certificates (the open connection stays).
    csms.expectPassword = null;
    await csms.relisten(serverTls(pki, { client: true }));
    const since = csms.mark();
    const up = await csms.call('ChangeConfiguration', { key: 'SecurityProfile', value: '3' });
    check(up.status === 'Accepted', `ChangeConfiguration SecurityProfile=3 answered ${up.status}, expected Accepted (a root and a signed certificate are installed)`);
    const conn = await csms.waitForConnection(45000, { since });
    checkSp3Connection(csms, conn, { fingerprint: certInfo(cert).fingerprint256, what: 'the first profile 3 connection' });
    const v = (await getConfiguration(ctx, ['SecurityProfile'])).get('SecurityProfile')?.value;
    check(v === '3', `SecurityProfile reads ${v} after the upgrade`);
  },
};
