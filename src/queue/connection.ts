/**
 * Where the queue is: a Redis URL (`redis://` or `rediss://` for TLS, with
 * an optional user and password), handed to the Redis client as it is. The
 * password never appears in a message: `shown` is the URL without it.
 */
import type { ConnectionOptions } from 'bullmq';

export interface QueueAddress {
  url: string;
  /** The URL as messages show it: any password replaced by `***`. */
  shown: string;
}

/** Every key Bearing's queues use in Redis starts with this. */
export const QUEUE_PREFIX = 'bearing';

export function parseQueueUrl(
  text: string,
): { ok: true; value: QueueAddress } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      message: `"${text}" is not a URL: expected redis://host:port or rediss://host:port`,
    };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return {
      ok: false,
      message: `${url.protocol}// is not a Redis URL: expected redis://host:port, or rediss://host:port for TLS`,
    };
  }
  if (!url.hostname) return { ok: false, message: `"${text}" names no host` };
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return { ok: true, value: { url: text, shown: shown.href } };
}

/**
 * The client's options. No command fails while Redis is away
 * (`maxRetriesPerRequest: null`, the offline queue kept): the client
 * reconnects and the run or worker goes on where it was.
 */
export function connectionOptions(address: QueueAddress): ConnectionOptions {
  return {
    url: address.url,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    // Reconnect soon after a restart, at most every 2 s.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}
