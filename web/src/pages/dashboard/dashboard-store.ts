import { createStore } from '@xstate/store';
import type { paths } from '../../../../src/api-client/index.ts';
import { api, unwrap } from '../../lib/api.ts';

// The dashboard's numbers: the last 30 local days of the funnel and of first-response latency, read
// together (the page shows nothing half-loaded). `load` keeps the last answer on screen while a
// reload is in flight, and an answer that arrives after a newer request started is dropped.

export type FunnelReport =
  paths['/api/v1/reports/funnel']['get']['responses'][200]['content']['application/json'];
export type FirstResponseReport =
  paths['/api/v1/reports/first-response']['get']['responses'][200]['content']['application/json'];
export type FunnelPeriod = FunnelReport['total'];

export type DashboardState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; funnel: FunnelReport; firstResponse: FirstResponseReport };

export const dashboardStore = createStore({
  context: { state: { status: 'loading' } as DashboardState, request: 0 },
  on: {
    requested: (ctx) => ({
      request: ctx.request + 1,
      state: ctx.state.status === 'ready' ? ctx.state : ({ status: 'loading' } as DashboardState),
    }),
    loaded: (ctx, event: { request: number; funnel: FunnelReport; firstResponse: FirstResponseReport }) =>
      event.request === ctx.request
        ? { ...ctx, state: { status: 'ready', funnel: event.funnel, firstResponse: event.firstResponse } }
        : ctx,
    failed: (ctx, event: { request: number; message: string }) =>
      event.request === ctx.request ? { ...ctx, state: { status: 'error', message: event.message } } : ctx,
  },
});

export async function loadDashboard(): Promise<void> {
  dashboardStore.trigger.requested();
  const request = dashboardStore.getSnapshot().context.request;
  try {
    // Both paths also answer CSV (for `Accept: text/csv`), so the client types the data as either;
    // this asks for JSON only.
    const json = { accept: 'application/json' };
    const [funnel, firstResponse] = await Promise.all([
      unwrap(api.GET('/api/v1/reports/funnel', { params: { query: { group: 'day' } }, headers: json })),
      unwrap(
        api.GET('/api/v1/reports/first-response', { params: { query: { group: 'day' } }, headers: json }),
      ),
    ]);
    dashboardStore.trigger.loaded({
      request,
      funnel: funnel as FunnelReport,
      firstResponse: firstResponse as FirstResponseReport,
    });
  } catch (err) {
    dashboardStore.trigger.failed({ request, message: (err as Error).message });
  }
}
