// TC_076_CS Delete a specific certificate: DeleteCertificate with the hash data the charge point
// reported removes the certificate; the same request again finds nothing.
import { boot, check } from '../lib/steps.mjs';
import { certHashData } from '../lib/tls.mjs';
import { fmtHash, installedIds, listHas } from '../lib/security.mjs';

export default {
  id: 'TC_076_CS',
  name: 'Delete a specific certificate',
  profile: 'Security',
  requirement: 'With a ManufacturerRootCertificate installed, DeleteCertificate with the CertificateHashData that '
    + 'GetInstalledCertificateIds reported for it is Accepted; GetInstalledCertificateIds no longer lists it, and '
    + 'DeleteCertificate with the same hash data again is NotFound (OCPP 1.6 Security Whitepaper M03, M04).',
  needs: [],
  config: { pki: true },
  timeoutMs: 60000,
  async run(ctx) {
    const { csms, pki } = ctx;
    await boot(ctx, { connectors: false });
    const want = certHashData(pki.mfrPem);
    const r = await csms.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: pki.mfrPem });
    check(r.status === 'Accepted', `InstallCertificate(ManufacturerRootCertificate) answered ${r.status}, expected Accepted`);
    const ids = await installedIds(ctx, 'ManufacturerRootCertificate');
    const h = ids.list.find((x) => listHas([x], want));
    check(ids.status === 'Accepted' && h, `GetInstalledCertificateIds lists ${ids.list.map(fmtHash).join(', ') || 'nothing'}; expected ${fmtHash(want)}`);
    const d = await csms.call('DeleteCertificate', { certificateHashData: h });
    check(d.status === 'Accepted', `DeleteCertificate ${fmtHash(h)} answered ${d.status}, expected Accepted`);
    const left = await installedIds(ctx, 'ManufacturerRootCertificate');
    check(!listHas(left.list, want), `after DeleteCertificate GetInstalledCertificateIds still lists it: ${left.list.map(fmtHash).join(', ')}`);
    check(left.status === 'NotFound' || left.list.length > 0, `GetInstalledCertificateIds answered ${left.status} with an empty list, expected NotFound`);
    const d2 = await csms.call('DeleteCertificate', { certificateHashData: h });
    check(d2.status === 'NotFound', `DeleteCertificate of the deleted certificate answered ${d2.status}, expected NotFound`);
  },
};
