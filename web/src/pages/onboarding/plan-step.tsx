import { useState } from 'react';
import { type Plan, startCheckout } from './onboarding-api.ts';

// Step 4: the plan, paid through Stripe Checkout; the business is created when the payment is.

export function PlanStep() {
  const [problem, setProblem] = useState<string | null>(null);
  async function choose(plan: Plan) {
    setProblem(null);
    try {
      window.location.assign(await startCheckout(plan));
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="plan-title">
      <h2 id="plan-title">4. Your plan</h2>
      <div className="actions">
        <button type="button" onClick={() => void choose('starter')}>
          Pay for Starter
        </button>
        <button type="button" onClick={() => void choose('pro')}>
          Pay for Pro
        </button>
      </div>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </section>
  );
}
