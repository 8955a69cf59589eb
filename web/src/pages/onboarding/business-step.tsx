import { type FormEvent, useState } from 'react';
import { type Draft, saveDraft, type Template } from './onboarding-api.ts';

// Step 1: the business — its name, the slug its booking page lives under, its time zone and the
// trade its services and hours start from.

const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
];
const TRADES: Record<Template, string> = {
  plumbing: 'Plumbing',
  hvac: 'Heating & cooling (HVAC)',
  electrical: 'Electrical',
  cleaning: 'Cleaning',
};

function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

export function BusinessStep({ draft, onSaved }: { draft: Draft; onSaved: (d: Draft) => void }) {
  const [name, setName] = useState(draft.name ?? '');
  const [slug, setSlug] = useState(draft.slug ?? '');
  const [zone, setZone] = useState(draft.time_zone ?? 'America/New_York');
  const [template, setTemplate] = useState<Template>(draft.template ?? 'plumbing');
  const [problem, setProblem] = useState<string | null>(null);
  const services = draft.templates.find((t) => t.template === template)?.services ?? [];

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      const saved = await saveDraft({
        name: name.trim(),
        slug: slug || slugOf(name),
        time_zone: zone,
        template,
      });
      setSlug(saved.slug ?? '');
      onSaved(saved);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <section className="settings-section" aria-labelledby="business-title">
      <h2 id="business-title">1. Your business</h2>
      <form onSubmit={(e) => void submit(e)} className="stack">
        <label>
          Business name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label>
          Web address (slug)
          <input
            value={slug}
            placeholder={slugOf(name) || 'your-business'}
            onChange={(e) => setSlug(e.target.value)}
            pattern="[a-z0-9][a-z0-9-]{1,62}"
          />
        </label>
        <label>
          Time zone
          <select value={zone} onChange={(e) => setZone(e.target.value)}>
            {ZONES.map((z) => (
              <option key={z} value={z}>
                {z.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Trade
          <select value={template} onChange={(e) => setTemplate(e.target.value as Template)}>
            {draft.templates.map((t) => (
              <option key={t.template} value={t.template}>
                {TRADES[t.template]}
              </option>
            ))}
          </select>
        </label>
        <p>
          Your services to start with (you can change them later): {services.map((s) => s.name).join(', ')}
        </p>
        {problem && (
          <p role="alert" className="error">
            {problem}
          </p>
        )}
        <button type="submit">Save business</button>
      </form>
    </section>
  );
}
