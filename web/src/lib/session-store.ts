import { createStore } from '@xstate/store';

// Who is signed in (from the backend-for-frontend's /app/session): the role decides which pages
// the app shows; the API still refuses whatever the role cannot do.

export type Role = 'OWNER' | 'TECH' | 'STAFF';
export type Session = {
  subject: string;
  role: Role;
  user_id: string | null;
  tenant: { id: string; slug: string; name: string; time_zone: string } | null;
  /** An admin of an organisation with no tenant yet: only the onboarding wizard applies. */
  onboarding?: boolean;
  phone_simulator: boolean;
};

type SessionState =
  | { status: 'loading' }
  | { status: 'signed-in'; session: Session }
  | { status: 'signed-out'; phoneSimulator: boolean }
  | { status: 'error'; message: string };

export const sessionStore = createStore({
  context: { state: { status: 'loading' } as SessionState },
  on: {
    loaded: (_ctx, event: { session: Session }) => ({
      state: { status: 'signed-in', session: event.session } as SessionState,
    }),
    ended: (ctx) =>
      ctx.state.status === 'signed-in'
        ? {
            state: {
              status: 'signed-out',
              phoneSimulator: ctx.state.session.phone_simulator,
            } as SessionState,
          }
        : ctx,
    signedOut: (_ctx, event: { phoneSimulator: boolean }) => ({
      state: { status: 'signed-out', phoneSimulator: event.phoneSimulator } as SessionState,
    }),
    failed: (_ctx, event: { message: string }) => ({
      state: { status: 'error', message: event.message } as SessionState,
    }),
  },
});

export async function loadSession(): Promise<void> {
  try {
    const response = await fetch('/app/session', { headers: { accept: 'application/json' } });
    if (response.status === 401 || response.status === 403) {
      const probe = await fetch('/app/phone/api/business').catch(() => null);
      sessionStore.trigger.signedOut({ phoneSimulator: probe?.ok === true });
      return;
    }
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    sessionStore.trigger.loaded({ session: (await response.json()) as Session });
  } catch (err) {
    sessionStore.trigger.failed({ message: (err as Error).message });
  }
}

export async function signOut(): Promise<void> {
  await fetch('/app/logout', { method: 'POST', headers: { 'x-nmc-csrf': '1' } });
  window.location.assign('/app');
}

/** The signed-in session; components below the sign-in gate only. */
export function currentSession(): Session {
  const state = sessionStore.getSnapshot().context.state;
  if (state.status !== 'signed-in') throw new Error('not signed in');
  return state.session;
}
