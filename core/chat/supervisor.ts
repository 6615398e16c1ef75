/**
 * The orchestrator's own speaker: the supervisor that answers conversations no persona is
 * addressed in (Telegram, a local message without a mention). Never a persona's id; platforms
 * show it as "Pantheon".
 */
export const SUPERVISOR_ID = 'pantheon';
