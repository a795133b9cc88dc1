import type { AddressInfo } from 'node:net';

/** Parses `host:port` or `[ipv6]:port` (as the config's endpoint schema allows). */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  let host = endpoint.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(endpoint.slice(i + 1)) };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address a server listens on as `host:port`, or undefined before it listens. */
export function addressOf(address: AddressInfo | string | null | undefined): string | undefined {
  if (address === null || address === undefined || typeof address === 'string') return undefined;
  return formatEndpoint(address.address, address.port);
}
