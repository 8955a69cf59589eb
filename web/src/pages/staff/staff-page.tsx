import { useEffect, useState } from 'react';
import type { components, paths } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { formatTime } from '../../lib/format.ts';

// The platform's own people: the businesses, the 10DLC review queue (approve, or reject with a
// reason the business sees), and events that failed every retry (dead letters) with replay. Every
// staff call is audited by the API.

type Tenant = components['schemas']['TenantSummary'];
type DeadLetter = components['schemas']['DeadLetter'];

export function StaffPage() {
  return (
    <section className="page" aria-labelledby="staff-title">
      <h1 id="staff-title">Staff</h1>
      <ReviewQueue />
      <DeadLetters />
      <Tenants />
    </section>
  );
}

function Tenants() {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void unwrap(api.GET('/api/staff/tenants', {})).then(
      (r) => setTenants(r.items),
      (err: Error) => setProblem(err.message),
    );
  }, []);
  return (
    <section className="settings-section" aria-labelledby="tenants-title">
      <h2 id="tenants-title">Businesses</h2>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!tenants && !problem && <p role="status">Loading…</p>}
      {tenants?.length === 0 && <p className="empty">No businesses yet.</p>}
      <ul className="rows">
        {tenants?.map((t) => (
          <li key={t.id}>
            <strong>{t.name}</strong> · {t.slug} · {t.time_zone} · since {t.created_at.slice(0, 10)}
          </li>
        ))}
      </ul>
    </section>
  );
}

type Pending =
  paths['/api/staff/compliance/pending']['get']['responses'][200]['content']['application/json']['items'][number];

function ReviewQueue() {
  const [items, setItems] = useState<Pending[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    void unwrap(api.GET('/api/staff/compliance/pending', {})).then(
      (r) => setItems(r.items),
      (err: Error) => setProblem(err.message),
    );
  useEffect(load, []);
  async function review(
    tenantId: string,
    decision: { status: 'approved' } | { status: 'rejected'; reason: string },
  ) {
    setProblem(null);
    try {
      await unwrap(
        api.POST('/api/staff/compliance/{tenantId}/review', {
          params: { path: { tenantId } },
          body: decision,
        }),
      );
      load();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="review-title">
      <h2 id="review-title">10DLC review queue</h2>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!items && !problem && <p role="status">Loading…</p>}
      {items?.length === 0 && <p className="empty">Nothing waiting for review.</p>}
      <ul className="rows">
        {items?.map((item) => {
          const tenantId = item.tenant_id;
          const name = item.registration?.brand.legal_name ?? tenantId;
          return (
            <li key={tenantId}>
              <strong>{name}</strong>
              <pre className="registration">{JSON.stringify(item.registration, null, 2)}</pre>
              <form
                className="inline-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  const reason = String(new FormData(e.currentTarget).get('reason') ?? '').trim();
                  if (reason) void review(tenantId, { status: 'rejected', reason });
                }}
              >
                <button type="button" onClick={() => void review(tenantId, { status: 'approved' })}>
                  Approve {name}
                </button>
                <label>
                  <span>Reason to reject</span>
                  <input name="reason" required />
                </label>
                <button type="submit">Reject {name}</button>
              </form>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function DeadLetters() {
  const [items, setItems] = useState<DeadLetter[] | null>(null);
  const [status, setStatus] = useState('');
  const load = () =>
    void unwrap(api.GET('/api/staff/dead-letters', {})).then(
      (r) => setItems(r.items),
      (err: Error) => setStatus(err.message),
    );
  useEffect(load, []);
  async function replay(body: { tenant_id: string; event_id: string } | { all: true }) {
    try {
      const result = await unwrap(api.POST('/api/staff/dead-letters/replay', { body }));
      setStatus(`Replayed ${result.replayed}.`);
      load();
    } catch (err) {
      setStatus((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="dead-title">
      <h2 id="dead-title">Dead letters</h2>
      <p role="status" className="notice">
        {status}
      </p>
      {items?.length === 0 && <p className="empty">No dead letters.</p>}
      {items && items.length > 0 && (
        <>
          <button type="button" onClick={() => void replay({ all: true })}>
            Replay all
          </button>
          <ul className="rows">
            {items.map((d) => (
              <li key={d.event_id}>
                <strong>{d.event_name}</strong> · {d.attempts} attempts · {formatTime(d.dead_at, 'UTC')} UTC ·{' '}
                {d.last_error}{' '}
                <button
                  type="button"
                  aria-label={`Replay ${d.event_name} ${d.event_id}`}
                  onClick={() => void replay({ tenant_id: d.tenant_id, event_id: d.event_id })}
                >
                  Replay
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
