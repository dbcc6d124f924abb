// A throw-away PKI for the TLS cases, made with the openssl command line once per run: a test CA, a
// server certificate it signed for 127.0.0.1/localhost (what twcgw gets as ocpp.caFile), and a
// self-signed "rogue" server certificate for the same names that twcgw must refuse.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let cached = null;

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function testPki() {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twcgw-ct-pki-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=twcgw conformance test CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
    '-days', '2', '-extfile', 'server.ext'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], dir);
  const read = (f) => readFileSync(path.join(dir, f));
  cached = {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    server: { key: read('server.key'), cert: read('server.pem') },
    rogue: { key: read('rogue.key'), cert: read('rogue.pem') },
  };
  return cached;
}

export function cleanupPki() {
  if (cached) rmSync(cached.dir, { recursive: true, force: true });
  cached = null;
}
