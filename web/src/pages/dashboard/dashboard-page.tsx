import type { ChartConfiguration } from 'chart.js';
import { useEffect, useMemo } from 'react';
import { formatMoney } from '../../lib/format.ts';
import { useSelector } from '../../lib/use-store.ts';
import { ChartCanvas } from './chart-canvas.tsx';
import {
  dashboardStore,
  type FirstResponseReport,
  type FunnelReport,
  loadDashboard,
} from './dashboard-store.ts';
import { formatLatency, formatRate, funnelSteps, shortDay } from './funnel-steps.ts';

// The owner's dashboard: what the business got for its money over the last 30 local days — the
// funnel from missed call to kept appointment as a chart with the rate of each step, revenue booked
// and kept, how fast the first text went out (P95 against the 5 s objective), and the daily trend.
// Every number comes from the reports API (GET /api/v1/reports/funnel and /first-response), whose
// dates are the business's local dates.

const INK = '#0b57d0';
const KEPT = '#0f6b2f';
const LOST = '#a4262c';
const MUTED = '#8a939d';

export function DashboardPage() {
  const state = useSelector(dashboardStore, (ctx) => ctx.state);
  useEffect(() => {
    void loadDashboard();
  }, []);

  return (
    <section className="page dashboard" aria-labelledby="dashboard-title">
      <div className="page-head">
        <h1 id="dashboard-title">Dashboard</h1>
        {state.status === 'ready' && (
          <span className="hint">
            {shortDay(state.funnel.from)} – {shortDay(state.funnel.to)}, days in{' '}
            {state.funnel.time_zone.replaceAll('_', ' ')}
          </span>
        )}
      </div>
      {state.status === 'loading' && <p role="status">Loading the numbers…</p>}
      {state.status === 'error' && (
        <div role="alert" className="error">
          <p>The numbers could not be loaded: {state.message}</p>
          <button type="button" onClick={() => void loadDashboard()}>
            Try again
          </button>
        </div>
      )}
      {state.status === 'ready' && <Figures funnel={state.funnel} firstResponse={state.firstResponse} />}
    </section>
  );
}

function Figures({ funnel, firstResponse }: { funnel: FunnelReport; firstResponse: FirstResponseReport }) {
  const total = funnel.total;
  if (total.missed === 0 && total.booked === 0 && total.completed === 0 && total.cancelled === 0) {
    return (
      <div className="empty">
        <p>Nothing to count yet in the last 30 days.</p>
        <p>
          When a call to your business is missed, it is texted back within seconds; the calls, the replies and
          the bookings they bring show up here.
        </p>
      </div>
    );
  }
  return (
    <>
      <Tiles funnel={funnel} firstResponse={firstResponse} />
      <FunnelFigure funnel={funnel} />
      <TrendFigure funnel={funnel} firstResponse={firstResponse} />
    </>
  );
}

function Tiles({ funnel, firstResponse }: { funnel: FunnelReport; firstResponse: FirstResponseReport }) {
  const { total } = funnel;
  const p95 = firstResponse.total.p95_ms;
  const meets = firstResponse.total.meets_objective;
  const objective = formatLatency(firstResponse.objective_ms);
  return (
    <ul className="tiles" aria-label="Last 30 days">
      <li className="tile">
        <span className="tile-label">Missed calls</span>
        <span className="tile-value">{total.missed}</span>
      </li>
      <li className="tile">
        <span className="tile-label">Booked</span>
        <span className="tile-value">{total.booked}</span>
        <span className="tile-note">
          {formatRate(total.missed === 0 ? null : total.booked / total.missed)} of missed calls
        </span>
      </li>
      <li className="tile">
        <span className="tile-label">Revenue booked</span>
        <span className="tile-value">{formatMoney(total.revenue_booked)}</span>
      </li>
      <li className="tile">
        <span className="tile-label">Revenue kept</span>
        <span className="tile-value">{formatMoney(total.revenue_kept)}</span>
        <span className="tile-note">completed appointments</span>
      </li>
      <li className={`tile ${meets === false ? 'tile-alert' : meets ? 'tile-ok' : ''}`}>
        <span className="tile-label">First text, P95</span>
        <span className="tile-value">{formatLatency(p95)}</span>
        <span className="tile-note">
          {meets === null
            ? `objective ${objective}; no texts yet`
            : meets
              ? `within the ${objective} objective`
              : `over the ${objective} objective`}
        </span>
      </li>
    </ul>
  );
}

function FunnelFigure({ funnel }: { funnel: FunnelReport }) {
  const steps = useMemo(() => funnelSteps(funnel.total), [funnel.total]);
  const config = useMemo<ChartConfiguration<'bar'>>(
    () => ({
      type: 'bar',
      data: {
        labels: steps.map((s) => s.label),
        datasets: [
          {
            label: 'Last 30 days',
            data: steps.map((s) => s.count),
            backgroundColor: steps.map((s) =>
              s.key === 'completed' ? KEPT : s.key === 'no_show' || s.key === 'cancelled' ? LOST : INK,
            ),
          },
        ],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    }),
    [steps],
  );
  return (
    <figure className="chart-figure" aria-labelledby="funnel-title">
      <h2 id="funnel-title">From missed call to kept appointment</h2>
      <ChartCanvas
        className="chart chart-funnel"
        config={config}
        label={`Funnel chart, last 30 days: ${steps.map((s) => `${s.label} ${s.count}`).join(', ')}`}
      />
      <table className="funnel-table">
        <caption>Each step, and its share of the step before</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Count</th>
            <th scope="col">Rate</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.key}>
              <th scope="row">{s.label}</th>
              <td>{s.count}</td>
              <td>{s.of === null ? '' : `${formatRate(s.rate)} of ${s.of}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function TrendFigure({
  funnel,
  firstResponse,
}: {
  funnel: FunnelReport;
  firstResponse: FirstResponseReport;
}) {
  const days = funnel.items;
  const config = useMemo<ChartConfiguration<'line'>>(
    () => ({
      type: 'line',
      data: {
        labels: days.map((d) => shortDay(d.period_start)),
        datasets: [
          {
            label: 'Missed calls',
            data: days.map((d) => d.missed),
            borderColor: MUTED,
            backgroundColor: MUTED,
          },
          { label: 'Booked', data: days.map((d) => d.booked), borderColor: INK, backgroundColor: INK },
          {
            label: 'Completed',
            data: days.map((d) => d.completed),
            borderColor: KEPT,
            backgroundColor: KEPT,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        elements: { point: { radius: 2 }, line: { borderWidth: 2 } },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    }),
    [days],
  );
  const p95 = new Map(firstResponse.items.map((r) => [r.period_start, r.p95_ms]));
  return (
    <figure className="chart-figure" aria-labelledby="trend-title">
      <h2 id="trend-title">Day by day</h2>
      <ChartCanvas
        className="chart chart-trend"
        config={config}
        label={`Trend chart over ${days.length} days: missed calls, bookings and completed appointments per day`}
      />
      <details>
        <summary>The numbers per day</summary>
        {/* Focusable, so a keyboard can scroll the wide table sideways on a phone. */}
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus */}
        <section className="table-scroll" aria-label="Numbers per day" tabIndex={0}>
          <table>
            <caption>Per local day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Missed</th>
                <th scope="col">Booked</th>
                <th scope="col">Completed</th>
                <th scope="col">Revenue booked</th>
                <th scope="col">First text P95</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.period_start}>
                  <th scope="row">{shortDay(d.period_start)}</th>
                  <td>{d.missed}</td>
                  <td>{d.booked}</td>
                  <td>{d.completed}</td>
                  <td>{formatMoney(d.revenue_booked)}</td>
                  <td>{formatLatency(p95.get(d.period_start) ?? null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </details>
    </figure>
  );
}
