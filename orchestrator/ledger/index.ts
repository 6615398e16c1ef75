export { WorkLedger, type CreateWorkItem, type WorkListFilter } from './ledger.js';
export { summarizeInFlight, describeWorkItem, formatAge } from './summary.js';
export {
  FINISHED_STATES,
  WORK_KINDS,
  WORK_STATES,
  LedgerInputError,
  WorkItemNotFoundError,
  isWorkKind,
  isWorkState,
  normaliseWorkItemId,
  type WorkItem,
  type WorkItemEvent,
  type WorkKind,
  type WorkState,
} from './types.js';
export { registerWorkRoutes } from './routes.js';
export { registerConsoleRoutes } from './console-routes.js';
