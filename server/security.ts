/**
 * Access control. On loopback (the default) anyone on this machine may connect. Bound to any other
 * address, every REST mutation and WebSocket connection needs the access token: given, or generated
 * and printed at start.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function generateToken(): string {
  return randomBytes(18).toString('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a request carries: `Authorization: Bearer …`, or `?token=…` (WebSocket URLs, downloads). */
export function tokenOf(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://x');
  return url.searchParams.get('token');
}

export function authorized(req: IncomingMessage, token: string | null): boolean {
  if (token === null) return true;
  const given = tokenOf(req);
  return given !== null && same(given, token);
}
