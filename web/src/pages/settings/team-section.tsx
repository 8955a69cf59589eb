import { useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { currentSession } from '../../lib/session-store.ts';

// The team: who has signed in to this business, with their role (OWNER or TECH) and whether they
// may still. People join by signing in through the identity provider's organisation; here an
// owner changes a role or deactivates someone (the last active owner cannot be either).

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
        Invite people through your sign-in provider's organisation; they appear here once they sign in.
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
              {u.id === me && ' (you)'} ·{' '}
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
    </section>
  );
}
