import type { FastifyInstance } from 'fastify';
import type { Scheduler } from './scheduler.js';

/**
 * `GET /api/schedules`: `{ schedules: [{ name, kind, when, timezone, thread, nextRun, failing, lastRun }] }`.
 * `POST /api/schedules/:name/run`: runs it now and answers `{ run }` (a persona turn: once the
 * message to the persona is queued, `running` until the turn ends). Both behind the API token,
 * like all of `/api/*`.
 */
export function registerScheduleRoutes(app: FastifyInstance, scheduler: Pick<Scheduler, 'list' | 'runNow' | 'names'>): void {
  app.get('/api/schedules', async () => ({ schedules: await scheduler.list() }));
  app.post<{ Params: { name: string } }>('/api/schedules/:name/run', async (req, reply) => {
    const run = await scheduler.runNow(req.params.name);
    if (!run) {
      const known = scheduler.names();
      return reply.code(404).send({
        error: { code: 'not_found', message: `no schedule "${req.params.name}"; schedules: ${known.join(', ') || 'none configured (schedules: in pantheon.yaml)'}`, requestId: req.id },
      });
    }
    return { run };
  });
}
