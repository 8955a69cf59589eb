import { useEffect, useState } from 'react';
import type { components, operations } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';
import { formatMoney } from '../../lib/format.ts';

// The catalog: what the assistant quotes (only active services), with price, duration and the
// words callers use for it (aliases).

type Service = components['schemas']['Service'];
type ServicePatch = NonNullable<operations['updateService']['requestBody']>['content']['application/json'];

export function ServicesSection() {
  const [services, setServices] = useState<Service[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    void unwrap(api.GET('/api/v1/services', {})).then(
      (r) => setServices(r.items),
      (err: Error) => setProblem(err.message),
    );
  useEffect(load, []);
  return (
    <section className="settings-section" aria-labelledby="services-title">
      <h2 id="services-title">Services</h2>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {!services && !problem && <p role="status">Loading…</p>}
      {services?.length === 0 && (
        <p className="empty">No services yet: the assistant has nothing to quote.</p>
      )}
      <ul className="rows">
        {services?.map((s) => (
          <ServiceRow key={s.id} service={s} onChanged={load} />
        ))}
      </ul>
      <NewService onCreated={load} />
    </section>
  );
}

/** The price field's dollars ("89.5") as the API's money. */
function usdPrice(dollars: string) {
  return { amount_cents: Math.round(Number(dollars) * 100), currency: 'USD' as const };
}

function ServiceRow({ service: s, onChanged }: { service: Service; onChanged: () => void }) {
  const [problem, setProblem] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const patch = async (body: ServicePatch) => {
    setProblem(null);
    try {
      await unwrap(api.PATCH('/api/v1/services/{id}', { params: { path: { id: s.id } }, body }));
      setEditing(false);
      onChanged();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <li>
      {editing ? (
        <ServiceEditor service={s} onSave={(body) => void patch(body)} onCancel={() => setEditing(false)} />
      ) : (
        <>
          <strong>{s.name}</strong> · {formatMoney(s.price)} · {s.duration_minutes} min
          {s.aliases.length > 0 && <> · also “{s.aliases.join('”, “')}”</>} ·{' '}
          <label className="inline">
            <input type="checkbox" checked={s.active} onChange={() => void patch({ active: !s.active })} />{' '}
            Offered
          </label>{' '}
          <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${s.name}`}>
            Edit
          </button>
        </>
      )}
      {problem && (
        <span role="alert" className="error">
          {' '}
          {problem}
        </span>
      )}
    </li>
  );
}

/** Name, price and the words callers use for the service (comma-separated aliases). */
function ServiceEditor({
  service: s,
  onSave,
  onCancel,
}: {
  service: Service;
  onSave: (body: ServicePatch) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(s.name);
  const [price, setPrice] = useState((s.price.amount_cents / 100).toFixed(2));
  const [aliases, setAliases] = useState(s.aliases.join(', '));
  function save(event: React.FormEvent) {
    event.preventDefault();
    onSave({
      name: name.trim(),
      price: usdPrice(price),
      aliases: aliases
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
    });
  }
  return (
    <form className="inline-form" onSubmit={save} aria-label={`Edit ${s.name}`}>
      <label>
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        <span>Price (USD)</span>
        <input inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} required />
      </label>
      <label>
        <span>Also called (comma-separated)</span>
        <input value={aliases} onChange={(e) => setAliases(e.target.value)} />
      </label>
      <button type="submit">Save</button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

function NewService({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [problem, setProblem] = useState<string | null>(null);
  async function create(event: React.FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      await unwrap(
        api.POST('/api/v1/services', {
          body: {
            name,
            duration_minutes: Number(minutes),
            price: usdPrice(price),
          },
        }),
      );
      setName('');
      setPrice('');
      onCreated();
    } catch (err) {
      setProblem((err as Error).message);
    }
  }
  return (
    <form className="inline-form" onSubmit={(e) => void create(e)} aria-label="New service">
      <label>
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        <span>Price (USD)</span>
        <input inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} required />
      </label>
      <label>
        <span>Minutes</span>
        <input type="number" min={1} max={480} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
      </label>
      <button type="submit">Add service</button>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
    </form>
  );
}
