import { useEffect, useState } from 'react';
import type { components } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';

// US texting registration (10DLC): its status, the reviewer's reason when rejected, and the form
// that submits it. No text leaves until it is approved.

type Compliance = components['schemas']['Compliance'];

const STATUS: Record<Compliance['status'], string> = {
  none: 'Not submitted: no text can be sent until it is approved.',
  pending: 'Submitted, waiting for review.',
  approved: 'Approved: texting is on.',
  rejected: 'Rejected.',
};

export function RegistrationSection() {
  const [compliance, setCompliance] = useState<Compliance | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    void unwrap(api.GET('/api/v1/compliance', {})).then(setCompliance, (err: Error) =>
      setProblem(err.message),
    );
  }, []);
  async function submit(form: HTMLFormElement) {
    const v = (name: string) => String(new FormData(form).get(name) ?? '');
    setProblem(null);
    try {
      const next = await unwrap(
        api.PUT('/api/v1/compliance/registration', {
          body: {
            brand: {
              legal_name: v('legal_name'),
              ein: v('ein'),
              website: v('website'),
              vertical: v('vertical'),
              contact_email: v('contact_email'),
            },
            campaign: {
              use_case: 'CUSTOMER_CARE',
              description: v('description'),
              sample_messages: [v('sample')],
              opt_in_description: v('opt_in'),
            },
          },
        }),
      );
      setCompliance(next);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  const brand = compliance?.registration?.brand;
  const campaign = compliance?.registration?.campaign;
  return (
    <section className="settings-section" aria-labelledby="registration-title">
      <h2 id="registration-title">Texting registration (10DLC)</h2>
      {!compliance && !problem && <p role="status">Loading…</p>}
      {compliance && (
        <p>
          <strong>{STATUS[compliance.status]}</strong>
          {compliance.reason && <> Reason: {compliance.reason}</>}
        </p>
      )}
      {compliance && compliance.status !== 'approved' && compliance.status !== 'pending' && (
        <form
          className="stacked"
          onSubmit={(e) => {
            e.preventDefault();
            void submit(e.currentTarget);
          }}
        >
          {(
            [
              ['legal_name', 'Legal business name', brand?.legal_name],
              ['ein', 'EIN', brand?.ein],
              ['website', 'Website', brand?.website],
              ['vertical', 'Industry', brand?.vertical],
              ['contact_email', 'Contact email', brand?.contact_email],
              ['description', 'What you text customers about', campaign?.description],
              ['sample', 'A sample text', campaign?.sample_messages[0]],
              ['opt_in', 'How customers agree to texts', campaign?.opt_in_description],
            ] as const
          ).map(([name, label, value]) => (
            <label key={name}>
              <span>{label}</span>
              <input name={name} defaultValue={value ?? ''} required />
            </label>
          ))}
          <button type="submit">Submit registration</button>
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
