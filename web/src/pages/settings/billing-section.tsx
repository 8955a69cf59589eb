import { useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';

// The plan and what it allows, and an upgrade through Stripe Checkout (the sandbox's locally).

type Billing = components['schemas']['Billing'];

export function BillingSection() {
  const [billing, setBilling] = useState<Billing | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void unwrap(api.GET('/api/v1/billing', {})).then(setBilling, (err: Error) => setProblem(err.message));
  }, []);
  async function upgrade(plan: 'starter' | 'pro') {
    setProblem(null);
    try {
      const here = `${window.location.origin}/app/settings`;
      const session = await unwrap(
        api.POST('/api/v1/billing/checkout', { body: { plan, success_url: here, cancel_url: here } }),
      );
      window.location.assign(session.url);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="billing-title">
      <h2 id="billing-title">Billing</h2>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!billing && !problem && <p role="status">Loading…</p>}
      {billing && (
        <>
          <p>
            Plan: <strong>{billing.plan ?? 'none'}</strong> ({billing.status.replaceAll('_', ' ')}) · texting{' '}
            {billing.gates.sms ? 'on' : 'off'} · assistant {billing.gates.assistant ? 'on' : 'off'}
          </p>
          <div className="actions">
            <button type="button" onClick={() => void upgrade('starter')}>
              Choose Starter
            </button>
            <button type="button" onClick={() => void upgrade('pro')}>
              Choose Pro
            </button>
          </div>
        </>
      )}
    </section>
  );
}
