/**
 * Access control. On loopback (the default) anyone on this machine may connect, but web pages from other sites
 * may not: a performer's laptop is also a web browser, and any page it opens can send requests to
 * 127.0.0.1. So, for the API, WebSockets and recordings:
 * - on loopback the `Host` must be a loopback name (a DNS-rebinding page arrives with its own name);
 * - a browser's `Origin` must be this server's own origin or one from `--allow-origin`; a browser request with
 *   no Origin that says it is cross-site (`Sec-Fetch-Site`) is refused too. Clients that send neither (scripts,
 *   TouchDesigner, tests) are not browsers on other sites;
 * - a change (anything but GET/HEAD) must be `application/json`, which browsers cannot send across sites
 *   without a preflight, which this server never grants.
 * Bound to any other address, everything but the pages' static files also needs the access token: given, or
 * generated and printed at start.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RhodopsError, type WireError } from '../core/errors.ts';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Names that only ever mean this machine: a page on another site cannot make the browser send them. */
function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return isLoopback(h) || h.endsWith('.localhost');
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

/** `--allow-origin` values as origins (`http://host:port`), refusing what is not one. */
export function parseAllowedOrigins(list: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const raw of list) {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null') {
      throw new RhodopsError('BAD_OPTION', `--allow-origin '${raw}' is not an origin`, { hint: 'give the scheme, host and port of the page, e.g. http://192.168.1.20:3000' });
    }
    out.add(url.origin);
  }
  return out;
}

export interface AccessPolicy {
  /** Required on every checked request when set (always, off loopback). */
  token: string | null;
  /** Listening on loopback only: Host names must be loopback names. */
  loopback: boolean;
  /** Origins of other control surfaces the performer allowed. */
  allowOrigins: ReadonlySet<string>;
}

export type Refusal = WireError & { status: number };

/** A Host header as a URL host (lowercase, default port dropped), or null when it is not one. */
function normalHost(host: string): URL | null {
  try {
    return new URL(`http://${host}`);
  } catch {
    return null;
  }
}

/** The Host check alone: every request on loopback, the pages' files included. */
export function checkHost(req: IncomingMessage, policy: AccessPolicy): Refusal | null {
  if (!policy.loopback) return null;
  const host = req.headers.host;
  if (host === undefined) return null; // HTTP/1.0 scripts; browsers always send it
  const name = normalHost(host)?.hostname.replace(/^\[|\]$/g, '');
  if (name !== undefined && isLoopbackName(name)) return null;
  return {
    status: 403,
    code: 'FORBIDDEN_HOST',
    message: `this server listens on loopback and answers only to loopback names, not '${host.slice(0, 100)}'`,
    hint: 'open it as http://127.0.0.1:PORT or http://localhost:PORT; to reach it from other machines, start it with --host 0.0.0.0',
  };
}

/** Host, Origin and token, for the API, the WebSocket and recordings. */
export function checkAccess(req: IncomingMessage, policy: AccessPolicy): Refusal | null {
  const host = checkHost(req, policy);
  if (host) return host;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let ok = policy.allowOrigins.has(origin);
    if (!ok && origin !== 'null') {
      try {
        const url = new URL(origin);
        const host = req.headers.host === undefined ? null : normalHost(req.headers.host);
        ok = (url.protocol === 'http:' || url.protocol === 'https:') && host !== null && url.host === host.host;
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      return {
        status: 403,
        code: 'FORBIDDEN_ORIGIN',
        message: `a page from ${origin.slice(0, 100)} may not use this server`,
        hint: 'open the control page from this server; for another control surface, start the server with --allow-origin ORIGIN',
      };
    }
  } else {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      return { status: 403, code: 'FORBIDDEN_ORIGIN', message: 'a request from a page on another site', hint: 'open the control page from this server' };
    }
  }
  if (!authorized(req, policy.token)) {
    return { status: 401, code: 'UNAUTHORIZED', message: 'this server needs its access token', hint: 'send Authorization: Bearer <token>, or ?token=<token> (printed at start)' };
  }
  return null;
}

/** A change must come as JSON (an empty object when it needs no fields). */
export function checkJsonBody(req: IncomingMessage): Refusal | null {
  if (req.method === 'GET' || req.method === 'HEAD') return null;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return null;
  return {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: `a ${req.method} must send Content-Type: application/json${type ? `, not ${type.slice(0, 80)}` : ''}`,
    hint: 'send the body as JSON with that header ({} when there are no fields)',
  };
}
