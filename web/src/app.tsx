import { lazy, Suspense, useEffect } from 'react';
import { startEventStream, streamStore } from './lib/event-stream.ts';
import { followLink, routerStore } from './lib/router.ts';
import { loadSession, type Role, type Session, sessionStore, signOut } from './lib/session-store.ts';
import { useSelector } from './lib/use-store.ts';
import { CalendarPage } from './pages/calendar/calendar-page.tsx';
import { InboxPage } from './pages/inbox/inbox-page.tsx';
import { followInbox, loadInbox } from './pages/inbox/inbox-store.ts';
import { OnboardingPage } from './pages/onboarding/onboarding-page.tsx';
import { PhonePage } from './pages/phone/phone-page.tsx';
import { PortalPage } from './pages/portal/portal-page.tsx';
import { SettingsPage } from './pages/settings/settings-page.tsx';
import { SignInPage } from './pages/sign-in/sign-in-page.tsx';
import { StaffPage } from './pages/staff/staff-page.tsx';
import { ThreadPage } from './pages/thread/thread-page.tsx';

// The dashboard brings the chart library, most of the bundle's weight: loaded when an owner opens
// it, so the inbox a phone opens first does not wait for charts.
const DashboardPage = lazy(() =>
  import('./pages/dashboard/dashboard-page.tsx').then((module) => ({ default: module.DashboardPage })),
);

// The app's frame: who is signed in decides what is shown (OWNER everything of its business, TECH
// conversations, STAFF the staff pages); the API refuses the rest whatever the app shows.

type Page = { path: string; label: string; roles: readonly Role[] };
const PAGES: readonly Page[] = [
  { path: '/app', label: 'Inbox', roles: ['OWNER', 'TECH'] },
  { path: '/app/calendar', label: 'Calendar', roles: ['OWNER', 'TECH'] },
  { path: '/app/dashboard', label: 'Dashboard', roles: ['OWNER'] },
  { path: '/app/settings', label: 'Settings', roles: ['OWNER'] },
  { path: '/app/staff', label: 'Staff', roles: ['STAFF'] },
];

export function App() {
  const state = useSelector(sessionStore, (ctx) => ctx.state);
  const path = useSelector(routerStore, (ctx) => ctx.path);
  useEffect(() => {
    void loadSession();
  }, []);

  // The simulator is a caller's phone: it needs nobody signed in.
  if (path === '/app/phone') return <PhoneFrame />;
  // The customer's page (from a reminder's link): the code is the credential, no sign-in.
  if (path === '/app/portal') return <PortalPage />;
  if (state.status === 'loading')
    return (
      <main className="page">
        <p role="status">Loading…</p>
      </main>
    );
  if (state.status === 'error')
    return (
      <main className="page">
        <div role="alert" className="error">
          <p>The app could not reach the server: {state.message}</p>
          <button type="button" onClick={() => void loadSession()}>
            Try again
          </button>
        </div>
      </main>
    );
  if (state.status === 'signed-out') return <SignInPage phoneSimulator={state.phoneSimulator} />;
  // No business yet: the wizard is the whole app until the checkout is paid.
  if (state.session.onboarding) return <OnboardingPage />;
  return <SignedIn session={state.session} path={path} />;
}

function SignedIn({ session, path }: { session: Session; path: string }) {
  const operates = session.role !== 'STAFF';
  useEffect(() => {
    if (!operates) return;
    startEventStream();
    followInbox();
    void loadInbox();
  }, [operates]);
  const pages = PAGES.filter((p) => p.roles.includes(session.role));
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">{session.tenant?.name ?? 'NeverMissCall staff'}</span>
        <nav aria-label="Main">
          <ul className="nav-list">
            {pages.map((p) => (
              <li key={p.path}>
                <a
                  href={p.path}
                  onClick={followLink}
                  aria-current={isCurrent(p.path, path) ? 'page' : undefined}
                >
                  {p.label}
                </a>
              </li>
            ))}
            {session.phone_simulator && (
              <li>
                <a href="/app/phone" target="_blank" rel="noopener">
                  Phone simulator
                </a>
              </li>
            )}
          </ul>
        </nav>
        {operates && <StreamStatus />}
        <button type="button" className="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">{route(session, path)}</main>
    </>
  );
}

function isCurrent(page: string, path: string): boolean {
  return page === '/app' ? path === '/app' || path.startsWith('/app/conversations') : path.startsWith(page);
}

function route(session: Session, path: string) {
  const thread = /^\/app\/conversations\/([0-9a-f-]{36})$/.exec(path);
  if (session.role === 'STAFF') return <StaffPage />;
  if (thread?.[1]) return <ThreadPage key={thread[1]} id={thread[1]} />;
  // Back from a paid onboarding checkout: the business exists now, and its inbox is home.
  if (path === '/app' || path === '/app/' || path === '/app/onboarding') return <InboxPage />;
  if (path === '/app/calendar') return <CalendarPage />;
  // What a role cannot do is not shown (the API refuses it too).
  if (path === '/app/settings' && session.role === 'OWNER') return <SettingsPage />;
  if (path === '/app/dashboard' && session.role === 'OWNER')
    return (
      <Suspense fallback={<p className="page">Loading the dashboard…</p>}>
        <DashboardPage />
      </Suspense>
    );
  return <NotHere what="There is no such page." />;
}

function NotHere({ what }: { what: string }) {
  return (
    <section className="page" aria-labelledby="missing-title">
      <h1 id="missing-title">Not found</h1>
      <p>{what}</p>
      <p>
        <a href="/app" onClick={followLink}>
          Go to the inbox
        </a>
      </p>
    </section>
  );
}

function StreamStatus() {
  const status = useSelector(streamStore, (ctx) => ctx.status);
  return (
    <span className={`live live-${status}`} role="status">
      {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
    </span>
  );
}

function PhoneFrame() {
  return (
    <main id="main">
      <PhonePage />
    </main>
  );
}
