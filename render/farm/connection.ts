/**
 * The farm's Redis: `--farm redis://HOST:PORT` checked, reached once quickly (so a wrong address is said in a
 * second, naming it), then connections that ride out a blip: a render of hours should not end because Redis
 * restarted, so those retry without end, as BullMQ needs (maxRetriesPerRequest null).
 */
import { Redis } from 'ioredis';
import { RhodopsError, messageOf } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';

const log = logger('farm');
const CONNECT_TIMEOUT_MS = 5000;

export interface FarmUrl {
  /** As given, for connecting. */
  url: string;
  /** Without a password, for messages. */
  shown: string;
  port: number;
  host: string;
}

export function parseFarmUrl(text: string): FarmUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new RhodopsError('BAD_OPTION', `--farm ${text} is not a URL`, { hint: 'e.g. --farm redis://192.168.1.10:6379 (rediss:// for TLS)' });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RhodopsError('BAD_OPTION', `--farm ${u.protocol}//… is not a Redis URL`, { hint: 'e.g. --farm redis://192.168.1.10:6379 (rediss:// for TLS)' });
  }
  const shown = `${u.protocol}//${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  return { url: text, shown, host: u.hostname, port: Number(u.port || 6379) };
}

/** Connects once without retrying; FARM_UNREACHABLE naming the URL and the fix if Redis does not answer. */
export async function checkReachable(farm: FarmUrl): Promise<void> {
  let last: unknown = null;
  const probe = new Redis(farm.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: CONNECT_TIMEOUT_MS, enableOfflineQueue: false });
  probe.on('error', (e: unknown) => (last = e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    const why = messageOf(last ?? e);
    throw new RhodopsError('FARM_UNREACHABLE', `cannot reach the render farm's Redis at ${farm.shown}: ${why}`, {
      hint: `start Redis there (e.g. redis-server --port ${farm.port}) or fix --farm's host and port (and the firewall); without --farm, render runs on this machine`,
    });
  } finally {
    probe.disconnect();
  }
}

/** A connection for BullMQ and the side channel: retries for ever, and says (once a minute) while it cannot. */
export function farmConnection(farm: FarmUrl): Redis {
  const r = new Redis(farm.url, { maxRetriesPerRequest: null, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: (times) => Math.min(times * 200, 5000) });
  let said = 0;
  r.on('error', (e: unknown) => {
    if (Date.now() - said < 60_000) return;
    said = Date.now();
    log.warn(`Redis at ${farm.shown}: ${messageOf(e)}; retrying`);
  });
  return r;
}
