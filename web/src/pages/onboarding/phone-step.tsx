import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { type FormEvent, useState } from 'react';
import { formatPhone } from '../../lib/format.ts';
import { type Draft, sendCode, verifyCode } from './onboarding-api.ts';

// Step 2: the phone calls ring first (where missed calls come from), proved by a code texted to it.

export function PhoneStep({ draft, onSaved }: { draft: Draft; onSaved: (d: Draft) => void }) {
  const [phone, setPhone] = useState(draft.forwarding_phone ?? '');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  async function send(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const e164 = parsePhoneNumberFromString(phone, 'US')?.number;
    if (!e164) {
      setProblem('Enter a phone number, e.g. (415) 555-0142.');
      return;
    }
    try {
      await sendCode(e164);
      setSentTo(e164);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  async function verify(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      onSaved(await verifyCode(code.trim()));
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  if (draft.phone_verified && draft.forwarding_phone)
    return (
      <section className="settings-section" aria-labelledby="phone-title">
        <h2 id="phone-title">2. Your phone</h2>
        <p>Verified: {formatPhone(draft.forwarding_phone)}</p>
      </section>
    );
  return (
    <section className="settings-section" aria-labelledby="phone-title">
      <h2 id="phone-title">2. Your phone</h2>
      <form onSubmit={(e) => void send(e)} className="stack">
        <label>
          The phone your business calls ring on
          <input type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} required />
        </label>
        <button type="submit">Text me a code</button>
      </form>
      {sentTo && (
        <form onSubmit={(e) => void verify(e)} className="stack">
          <p role="status">We texted a 6-digit code to {formatPhone(sentTo)}.</p>
          <label>
            Code
            <input
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              required
            />
          </label>
          <button type="submit">Verify</button>
        </form>
      )}
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </section>
  );
}
