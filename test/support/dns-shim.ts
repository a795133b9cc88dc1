/**
 * Preloaded into test processes (`node --import .../dns-shim.js`): host names under
 * `auditlog.test` resolve to 127.0.0.1, so the SAP test servers can be reached under
 * per-tenant host names (`<subdomain>.uaa.auditlog.test`) as XSUAA is. Test-only.
 */
import dns from 'node:dns';

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

const original = dns.lookup.bind(dns) as (...args: unknown[]) => void;

function shim(hostname: string, options: unknown, callback?: unknown): void {
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
  if (typeof hostname === 'string' && (hostname === 'auditlog.test' || hostname.endsWith('.auditlog.test'))) {
    const all = typeof options === 'object' && options !== null && (options as dns.LookupAllOptions).all;
    process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
    return;
  }
  original(hostname, options, callback);
}

(dns as { lookup: unknown }).lookup = shim;
