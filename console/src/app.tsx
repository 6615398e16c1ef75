import { useEffect, useRef } from 'preact/hooks';
import { ApiError, api, setCsrfToken } from './api.js';
import { useLoad } from './load.js';
import { href, useRoute, VIEWS, type View } from './router.js';
import { SessionContext, type Session, type SignedIn } from './session.js';
import { Loading } from './ui/bits.js';
import { ApprovalsView } from './views/approvals.js';
import { AuditView } from './views/audit.js';
import { ConversationsView } from './views/conversations.js';
import { JobsView } from './views/jobs.js';
import { MemoryView } from './views/memory.js';
import { SettingsView } from './views/settings.js';
import { TeamView } from './views/team.js';
import { WorkView } from './views/work.js';

const TITLES: Record<View, string> = {
  team: 'Team',
  conversations: 'Conversations',
  work: 'Work',
  approvals: 'Approvals',
  jobs: 'Jobs',
  memory: 'Memory',
  audit: 'Audit',
  settings: 'Settings',
};

export function App() {
  const session = useLoad('session', () => api.get<Session>('/api/me'));
  if (session.loading && !session.data) return <Loading />;
  const me = session.data;
  if (session.error || !me?.human) return <SignedOut error={session.error} />;
  setCsrfToken(me.csrfToken ?? '');
  const signedIn = me as SignedIn;
  return (
    <SessionContext.Provider value={signedIn}>
      <Shell session={signedIn} />
    </SessionContext.Provider>
  );
}

function SignedOut({ error }: { error: string | undefined }) {
  return (
    <main class="signed-out">
      <h1>Pantheon</h1>
      <p>You are not signed in{error ? ` (${error})` : ''}.</p>
      <p>
        Ask for a sign-in link: write <code>/login</code> to the team in any chat, or have an operator run <code>pantheon login-link &lt;your-id&gt;</code>. Each link works once.
      </p>
    </main>
  );
}

function Shell({ session }: { session: SignedIn }) {
  const route = useRoute();
  const view = route.view as View;
  const moved = useRef(false);
  useEffect(() => {
    document.title = `${TITLES[view]} · Pantheon`;
    // After moving to another view, focus its heading, so keyboard and screen-reader users land on
    // it; on the first load, focus stays at the top of the page, as with any page.
    if (moved.current) document.getElementById('view-title')?.focus();
    moved.current = true;
  }, [view]);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Pantheon</span>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v}>
                <a href={href(v)} aria-current={v === view ? 'page' : undefined}>
                  {TITLES[v]}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="me">
          {session.human.id}
          {session.human.approver ? ' · approver' : ''}
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        <h1 id="view-title" tabIndex={-1}>
          {TITLES[view]}
        </h1>
        <ViewBody view={view} id={route.id} />
      </main>
    </div>
  );
}

function ViewBody({ view, id }: { view: View; id: string | undefined }) {
  switch (view) {
    case 'team':
      return <TeamView />;
    case 'conversations':
      return <ConversationsView id={id} />;
    case 'work':
      return <WorkView id={id} />;
    case 'approvals':
      return <ApprovalsView />;
    case 'jobs':
      return <JobsView id={id} />;
    case 'memory':
      return <MemoryView id={id} />;
    case 'audit':
      return <AuditView />;
    case 'settings':
      return <SettingsView />;
  }
}

async function signOut() {
  try {
    await api.post('/api/logout');
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
  location.reload();
}
