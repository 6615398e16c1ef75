import type { FastifyInstance } from 'fastify';
import type { LoadedConfig } from '../core/config/index.js';
import { scrubSecrets } from '../core/log.js';
import { maskConfig } from './secrets-mask.js';

/** What the doctor found, as `pantheon doctor --json` says it (sections of facts marked ok, warn or fail). */
export interface DoctorResult {
  ok: boolean;
  sections: Array<{ title: string; facts: Array<{ mark: 'ok' | 'warn' | 'fail'; text: string }> }>;
}

/** The doctor runs at most this often; `?refresh=1` runs it now. */
const DOCTOR_TTL_MS = 60_000;

/**
 * `GET /api/settings`: the effective configuration and persona files, read-only with every
 * secret masked, and what the doctor finds from inside the server.
 */
export function registerSettingsRoutes(app: FastifyInstance, opts: { loaded: LoadedConfig; doctor: () => Promise<DoctorResult> }): void {
  const isSecret = (text: string) => text.length >= 4 && scrubSecrets(text) !== text;
  const config = maskConfig(opts.loaded.config, isSecret);
  const personas = opts.loaded.personas.map((p) => maskConfig(p, isSecret));
  let last: { at: number; result: Promise<DoctorResult> } | undefined;

  app.get<{ Querystring: { refresh?: string } }>('/api/settings', async (req) => {
    const stale = !last || Date.now() - last.at > DOCTOR_TTL_MS || req.query.refresh === '1';
    if (stale) {
      const result = opts
        .doctor()
        .catch((err: Error): DoctorResult => ({ ok: false, sections: [{ title: 'Doctor', facts: [{ mark: 'fail', text: `the doctor failed: ${scrubSecrets(err.message)}` }] }] }));
      last = { at: Date.now(), result };
    }
    const doctor = await last!.result;
    return {
      config,
      personas,
      configFile: opts.loaded.configFile ?? null,
      doctor: { ...doctor, sections: doctor.sections.map((s) => ({ ...s, facts: s.facts.map((f) => ({ ...f, text: scrubSecrets(f.text) })) })), checkedAt: new Date(last!.at).toISOString() },
    };
  });
}
