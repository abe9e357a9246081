import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`openssl ${args[0]} failed (is the openssl CLI installed?): ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
}

function stillValid(certFile: string, caFile: string): boolean {
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const ca = new X509Certificate(readFileSync(caFile));
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && Date.parse(cert.validTo) > Date.now() + 86_400_000 && cert.checkIP('127.0.0.1') !== undefined;
  } catch {
    return false;
  }
}

/**
 * A local CA and a certificate for localhost / 127.0.0.1 signed by it, made once with the openssl CLI and reused. The
 * PagerDuty Events API is HTTPS-only in @pagerduty/pdjs, so its simulator needs a certificate the worker can trust.
 */
export function ensureLocalTls(dir: string, hostNames: string[] = []): LocalTls {
  mkdirSync(dir, { recursive: true });
  const files = { caFile: join(dir, 'ca.pem'), caKey: join(dir, 'ca-key.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem') };
  if (!existsSync(files.certFile) || !existsSync(files.keyFile) || !stillValid(files.certFile, files.caFile)) {
    const names = ['localhost', ...hostNames];
    writeFileSync(
      join(dir, 'server.ext'),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n` +
        `subjectAltName=${[...names.map((name) => `DNS:${name}`), 'IP:127.0.0.1', 'IP:::1'].join(',')}\n`,
    );
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '825', '-subj', '/CN=audit-spike local simulator CA', '-extensions', 'v3_ca', '-addext', 'basicConstraints=critical,CA:TRUE'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '825', '-extfile', 'server.ext'], dir);
  }
  return {
    caFile: files.caFile,
    certFile: files.certFile,
    keyFile: files.keyFile,
    ca: readFileSync(files.caFile, 'utf8'),
    cert: readFileSync(files.certFile, 'utf8'),
    key: readFileSync(files.keyFile, 'utf8'),
  };
}
