import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a running server listens, recorded in its data dir (`server.json`, owner-only) so the
 * operator commands (`pantheon work`, `audit`, `memory`, `chat`, `doctor`) find it by themselves:
 * the embedded database belongs to the process that runs it, so they go through its HTTP API
 * (with the token in the same data dir) instead of opening the database. Removed on a clean stop;
 * a record left by a killed server names a pid that is no longer alive and is ignored.
 */
export interface ServerRecord {
  url: string;
  pid: number;
  startedAt: string;
}

const SERVER_RECORD_FILE = 'server.json';

export function serverRecordPath(dataDir: string): string {
  return join(dataDir, SERVER_RECORD_FILE);
}

/** Written whole to a private temporary file, then renamed into place: a reader never sees half of it. */
export function writeServerRecord(dataDir: string, url: string): ServerRecord {
  const record: ServerRecord = { url, pid: process.pid, startedAt: new Date().toISOString() };
  const path = serverRecordPath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return record;
}

/** Removes the record if it is still this process's (a newer server may have replaced it). */
export function removeServerRecord(dataDir: string): void {
  const path = serverRecordPath(dataDir);
  if (readServerRecord(dataDir)?.pid !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** The record, if there is a well-formed one (alive or not). */
function readServerRecord(dataDir: string): ServerRecord | undefined {
  try {
    const parsed = JSON.parse(readFileSync(serverRecordPath(dataDir), 'utf8')) as Partial<ServerRecord>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') return undefined;
    return parsed as ServerRecord;
  } catch {
    return undefined;
  }
}

/** The record of a server whose process is alive (on this host), else undefined. */
export function liveServerRecord(dataDir: string): ServerRecord | undefined {
  const record = readServerRecord(dataDir);
  if (!record) return undefined;
  try {
    process.kill(record.pid, 0);
    return record;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? record : undefined;
  }
}
