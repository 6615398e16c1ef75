/**
 * Scheduled work (`schedules:` in pantheon.yaml): when each schedule is due (`times.ts`), the
 * occurrences claimed and recorded (`store.ts`), the owner's ticking and the runs
 * (`scheduler.ts`), and the API (`routes.ts`).
 */
export { describeSchedules, Scheduler, type ScheduleView } from './scheduler.js';
export { ScheduleStore, type ScheduleRun } from './store.js';
export { registerScheduleRoutes } from './routes.js';
