import { type FormEvent, useState } from 'react';
import { formatPhone } from '../../lib/format.ts';
import { type Draft, findNumbers, saveDraft } from './onboarding-api.ts';

// Step 3: the business's own number, picked from those available in an area code (callers see it,
// and the texts come from it).

export function NumberStep({ draft, onSaved }: { draft: Draft; onSaved: (d: Draft) => void }) {
  const [areaCode, setAreaCode] = useState(draft.forwarding_phone?.slice(2, 5) ?? '');
  const [numbers, setNumbers] = useState<string[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function search(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      setNumbers((await findNumbers(areaCode)).numbers);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  async function pick(number: string) {
    setProblem(null);
    try {
      onSaved(await saveDraft({ twilio_number: number }));
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="number-title">
      <h2 id="number-title">3. Your business number</h2>
      {draft.twilio_number && <p>Chosen: {formatPhone(draft.twilio_number)}</p>}
      <form onSubmit={(e) => void search(e)} className="stack">
        <label>
          Area code
          <input
            inputMode="numeric"
            pattern="[2-9][0-9]{2}"
            value={areaCode}
            onChange={(e) => setAreaCode(e.target.value)}
            required
          />
        </label>
        <button type="submit">Find numbers</button>
      </form>
      {numbers && numbers.length === 0 && (
        <p role="status">No numbers there right now; try another area code.</p>
      )}
      {numbers && numbers.length > 0 && (
        <ul aria-label="Available numbers" className="plain-list">
          {numbers.map((n) => (
            <li key={n}>
              <button type="button" aria-pressed={draft.twilio_number === n} onClick={() => void pick(n)}>
                Use {formatPhone(n)}
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </section>
  );
}
