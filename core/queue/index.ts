import type { Logger } from '../log.js';
import { BullQueue } from './bullmq.js';
import { MemoryQueue } from './memory.js';
import type { JobQueue } from './types.js';

export type * from './types.js';
export { MemoryQueue } from './memory.js';
export { BullQueue } from './bullmq.js';
export { watchQueueDepth } from './depth.js';

export interface CreateQueueOptions {
  /** Redis connection URL. Given: BullMQ (durable, multi-process). Absent: the in-process queue. */
  redisUrl?: string;
  /** Redis key prefix (BullMQ only). Default `pantheon`. */
  prefix?: string;
  logger?: Logger;
}

/** The queue the configuration asks for: BullMQ on Redis when `redisUrl` is set, in-process otherwise. */
export function createQueue(opts: CreateQueueOptions = {}): JobQueue {
  if (opts.redisUrl) return new BullQueue({ redisUrl: opts.redisUrl, prefix: opts.prefix, logger: opts.logger });
  return new MemoryQueue({ logger: opts.logger });
}
