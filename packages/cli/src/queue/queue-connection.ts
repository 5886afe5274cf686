import { UsageError } from '../usage-error';

/** ioredis connection options parsed from a `redis://[user:password@]host:port[/db]` URL. */
export interface QueueConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** BullMQ workers need blocking commands that wait for Redis to come back instead of failing after retries. */
  maxRetriesPerRequest: null;
}

/** The one BullMQ queue every grid's cells go to (job id = cell hash, so a cell shared by two grids runs once). */
export const CELL_QUEUE = 'moco-robust-cells';

/** Parses `--queue redis://host:port[/db]` (`rediss://` is refused: TLS is not wired); a bad URL is a UsageError. */
export function parseQueueUrl(text: string, flag = '--queue'): QueueConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} expects redis://host:port[/db]; got '${text}'`);
  }
  if (url.protocol !== 'redis:' || !url.hostname)
    throw new UsageError(`${flag} expects redis://host:port[/db]; got '${text}'`);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path))
    throw new UsageError(`${flag}: the database in redis://host:port/<db> must be a number; got '${path}'`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db: path ? Number(path) : 0,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

/** BullMQ refuses job ids that parse as integers; a hash made only of digits gets a `c` in front. */
export function cellJobId(hash: string): string {
  return /^\d+$/.test(hash) ? `c${hash}` : hash;
}

/** A grid's name in the store (`<store>/<name>/`) and in Redis: letters, digits, `.`, `_`, `-`. */
export function checkGridName(name: string, flag = '--grid'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new UsageError(`${flag} must be a folder name (letters, digits, '.', '_', '-'); got '${name}'`);
  return name;
}
