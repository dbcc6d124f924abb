// TC_075_1_CS Install a certificate – ManufacturerRootCertificate: InstallCertificate stores it,
// GetInstalledCertificateIds lists it with the right CertificateHashData, and it survives a restart.
import { boot, check } from '../lib/steps.mjs';
import { certHashData } from '../lib/tls.mjs';
import { fmtHash, installedIds, listHas } from '../lib/security.mjs';

export default {
  id: 'TC_075_1_CS',
  name: 'Install a certificate - ManufacturerRootCertificate',
  profile: 'Security',
  requirement: 'InstallCertificate with certificateType ManufacturerRootCertificate and a valid root certificate (PEM) '
    + 'is Accepted; GetInstalledCertificateIds(ManufacturerRootCertificate) is then Accepted and lists its '
    + 'CertificateHashData (RFC 6960 CertID: hash of the issuer name, hash of the issuer key, serial number); a text that '
    + 'is no certificate is Rejected; installed certificates are kept across a power cut (OCPP 1.6 Security '
    + 'Whitepaper M03, M05).',
  needs: [],
  config: { pki: true },
  timeoutMs: 90000,
  async run(ctx) {
    const { csms, pki } = ctx;
    await boot(ctx, { connectors: false });
    const want = certHashData(pki.mfrPem);
    if (ctx.mode === 'local') {
      const before = await installedIds(ctx, 'ManufacturerRootCertificate');
      check(before.status === 'NotFound', `GetInstalledCertificateIds(ManufacturerRootCertificate) on a fresh charge point answered ${before.status} ${JSON.stringify(before.list)}, expected NotFound`);
    }
    const r = await csms.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: pki.mfrPem });
    check(r.status === 'Accepted', `InstallCertificate(ManufacturerRootCertificate) answered ${r.status}, expected Accepted`);
    const after = await installedIds(ctx, 'ManufacturerRootCertificate');
    check(after.status === 'Accepted', `GetInstalledCertificateIds(ManufacturerRootCertificate) answered ${after.status} after the install`);
    check(listHas(after.list, want), `GetInstalledCertificateIds lists ${after.list.map(fmtHash).join(', ') || 'nothing'}; expected ${fmtHash(want)}`);
    const bad = await csms.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' });
    check(bad.status === 'Rejected', `InstallCertificate with a text that is no certificate answered ${bad.status}, expected Rejected`);
    if (ctx.mode === 'local') {
      const mark = csms.mark();
      await ctx.sut.powerCut();
      await csms.waitFor('BootNotification', undefined, 45000, { since: mark });
      const kept = await installedIds(ctx, 'ManufacturerRootCertificate');
      check(kept.status === 'Accepted' && listHas(kept.list, want), `after a power cut GetInstalledCertificateIds(ManufacturerRootCertificate) answered ${kept.status} ${kept.list.map(fmtHash).join(', ')}`);
    }
  },
};
