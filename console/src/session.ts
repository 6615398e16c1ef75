import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** `GET /api/me` for a signed-in human of `humans:`. Only approvers see Approve and Deny. */
export interface Session {
  via: 'session' | 'token';
  human: { id: string; approver: boolean; platforms: Record<string, string> } | null;
  csrfToken: string | null;
  sessionExpiresAt: string | null;
}

export type SignedIn = Session & { human: NonNullable<Session['human']> };

export const SessionContext = createContext<SignedIn | null>(null);

export function useSession(): SignedIn {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}
