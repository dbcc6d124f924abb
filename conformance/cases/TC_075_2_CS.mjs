// TC_075_2_CS Install a certificate – CentralSystemRootCertificate: under security profile 2 the root
// from ocpp.caFile is listed, a new root is installed and listed too, and TLS still works.
import { boot, check, getConfiguration } from '../lib/steps.mjs';
import { certHashData } from '../lib/tls.mjs';
import { fmtHash, installedIds, listHas } from '../lib/security.mjs';

const KEY = 'CT-key-0123456789ab';

export default {
  id: 'TC_075_2_CS',
  name: 'Install a certificate - CentralSystemRootCertificate',
  profile: 'Security',
  requirement: 'Security profile 2. GetInstalledCertificateIds(CentralSystemRootCertificate) lists the root the charge '
    + 'point trusts (twcgw: ocpp.caFile); InstallCertificate with certificateType CentralSystemRootCertificate and a new '
    + 'root is Accepted (with AdditionalRootCertificateCheck true the new root is one signed by the old one) and '
    + 'GetInstalledCertificateIds lists it; the charge point still connects over TLS with the central system\'s '
    + 'certificate afterwards (OCPP 1.6 Security Whitepaper M03, M05).',
  needs: ['local'],
  config: { tls: true, ocpp: { securityProfile: 2, authorizationKey: KEY } },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms, pki } = ctx;
    csms.expectPassword = KEY;
    await boot(ctx, { connectors: false });
    const old = certHashData(pki.caPem);
    const first = await installedIds(ctx, 'CentralSystemRootCertificate');
    check(first.status === 'Accepted' && listHas(first.list, old),
      `GetInstalledCertificateIds(CentralSystemRootCertificate) answered ${first.status} ${first.list.map(fmtHash).join(', ') || 'nothing'}; expected the caFile root ${fmtHash(old)}`);
    const arcc = (await getConfiguration(ctx, ['AdditionalRootCertificateCheck'])).get('AdditionalRootCertificateCheck')?.value;
    const chained = String(arcc).toLowerCase() === 'true';
    const pem = chained ? pki.ca2CrossPem : pki.ca2Pem;
    const want = chained ? certHashData(pki.ca2CrossPem, pki.caPem) : certHashData(pki.ca2Pem);
    ctx.log(`AdditionalRootCertificateCheck=${arcc}: installing the ${chained ? 'cross-signed' : 'self-signed'} second root`);
    const r = await csms.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: pem });
    check(r.status === 'Accepted', `InstallCertificate(CentralSystemRootCertificate) answered ${r.status}, expected Accepted`);
    const after = await installedIds(ctx, 'CentralSystemRootCertificate');
    check(after.status === 'Accepted' && listHas(after.list, want),
      `after the install GetInstalledCertificateIds(CentralSystemRootCertificate) lists ${after.list.map(fmtHash).join(', ') || 'nothing'}; expected ${fmtHash(want)}`);
    if (!chained) check(listHas(after.list, old), `the first root is gone after installing a second: ${after.list.map(fmtHash).join(', ')}`);
    const mark = csms.mark();
    csms.disconnect();
    const again = await csms.waitForConnection(40000, { since: mark });
    check(again.info.tls && again.info.auth === 'basic', `after the install the charge point reconnected with ${JSON.stringify(again.info)}`);
  },
};
