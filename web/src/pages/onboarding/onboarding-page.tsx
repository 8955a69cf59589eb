import { useCallback, useEffect, useState } from 'react';
import { loadSession } from '../../lib/session-store.ts';
import { BusinessStep } from './business-step.tsx';
import { NumberStep } from './number-step.tsx';
import { type Draft, loadDraft } from './onboarding-api.ts';
import { PhoneStep } from './phone-step.tsx';
import { PlanStep } from './plan-step.tsx';

// The self-serve signup of a business whose organisation has no account yet: the business, the
// phone (verified by a texted code), its number, the plan through Stripe Checkout. After payment
// the server makes the business; this page waits for that, then the app reloads the session and
// the owner lands in the new business's inbox.

const POLL_MS = 1_000;

export function OnboardingPage() {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = useCallback(() => {
    loadDraft().then(setDraft, (err: Error) => setProblem(err.message));
  }, []);
  useEffect(refresh, [refresh]);

  const stage = draft?.stage;
  useEffect(() => {
    if (stage === 'complete') {
      window.history.replaceState(null, '', '/app');
      void loadSession();
      return;
    }
    if (stage !== 'checkout') return;
    // Stripe tells the server, not this page, that the payment went through: ask until it has.
    const timer = setInterval(refresh, POLL_MS);
    return () => clearInterval(timer);
  }, [stage, refresh]);

  const businessDone = Boolean(draft?.name && draft.slug && draft.time_zone);
  return (
    <main id="main" className="page">
      <h1>Set up NeverMissCall</h1>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!draft && !problem && <p role="status">Loading…</p>}
      {draft && (stage === 'checkout' || stage === 'complete') && (
        <section aria-labelledby="payment-title">
          <h2 id="payment-title">Setting up your business</h2>
          <p role="status">Waiting for the payment to be confirmed…</p>
          {draft.checkout_url && (
            <p>
              <a href={draft.checkout_url}>Open the payment page again</a>
            </p>
          )}
        </section>
      )}
      {draft && (stage === 'none' || stage === 'draft') && (
        <>
          <BusinessStep draft={draft} onSaved={setDraft} />
          {businessDone && <PhoneStep draft={draft} onSaved={setDraft} />}
          {businessDone && draft.phone_verified && <NumberStep draft={draft} onSaved={setDraft} />}
          {businessDone && draft.phone_verified && <PlanStep />}
        </>
      )}
    </main>
  );
}
