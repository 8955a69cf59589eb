import { useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { currentSession } from '../../lib/session-store.ts';

// The team: who has signed in to this business, with their role (OWNER or TECH) and whether they
// may still, and who is invited. An owner invites someone by email with a role; they join when they
// first sign in through the business's organisation at the identity provider. Here an owner also
// changes a role or deactivates someone (the last active owner cannot be either).

type User = components['schemas']['User'];

export function TeamSection() {
  const [users, setUsers] = useState<User[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    void unwrap(api.GET('/api/v1/users', {})).then(
      (r) => setUsers(r.items),
      (err: Error) => setProblem(err.message),
    );
  useEffect(load, []);
  const me = currentSession().user_id;
  async function change(user: User, body: { role?: 'OWNER' | 'TECH'; active?: boolean }) {
    setProblem(null);
    try {
      await unwrap(api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body }));
      load();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="team-title">
      <h2 id="team-title">Team</h2>
      <p className="hint">
        Invite someone by email with a role; add them to your sign-in provider's organisation too. They join
        with that role when they first sign in.
      </p>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!users && !problem && <p role="status">Loading…</p>}
      <ul className="rows">
        {users?.map((u) => {
          const who = u.email ?? 'A user without an email';
          return (
            <li key={u.id}>
              <strong>{who}</strong>
              {u.id === me && ' (you)'}
              {u.pending && ' (invited)'} ·{' '}
              <label className="inline">
                <span className="visually-hidden">Role of {who}</span>
                <select
                  value={u.role}
                  onChange={(e) => void change(u, { role: e.target.value as 'OWNER' | 'TECH' })}
                >
                  <option value="OWNER">Owner</option>
                  <option value="TECH">Technician</option>
                </select>
              </label>{' '}
              ·{' '}
              <label className="inline">
                <input
                  type="checkbox"
                  checked={u.active}
                  onChange={() => void change(u, { active: !u.active })}
                />{' '}
                Active
              </label>
            </li>
          );
        })}
      </ul>
      <InviteForm onInvited={load} />
    </section>
  );
}

function InviteForm({ onInvited }: { onInvited: () => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'OWNER' | 'TECH'>('TECH');
  const [problem, setProblem] = useState<string | null>(null);
  async function invite(event: React.FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      await unwrap(api.POST('/api/v1/users', { body: { email: email.trim(), role } }));
      setEmail('');
      onInvited();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <form className="inline-form" onSubmit={(e) => void invite(e)} aria-label="Invite someone">
      <label>
        <span>Email</span>
        <input
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          maxLength={320}
          required
        />
      </label>
      <label>
        <span>Role</span>
        <select value={role} onChange={(e) => setRole(e.target.value as 'OWNER' | 'TECH')}>
          <option value="TECH">Technician</option>
          <option value="OWNER">Owner</option>
        </select>
      </label>
      <button type="submit">Invite</button>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </form>
  );
}
