import { createStore } from '@xstate/store';
import type { MouseEvent } from 'react';

// The app's location: the path under /app, kept in a store and in the browser's history, so links
// are real links (open in a new tab, keyboard) and Back works.

export const routerStore = createStore({
  context: { path: window.location.pathname, search: window.location.search },
  on: {
    changed: (_ctx, event: { path: string; search: string }) => ({ path: event.path, search: event.search }),
  },
});

window.addEventListener('popstate', () =>
  routerStore.trigger.changed({ path: window.location.pathname, search: window.location.search }),
);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  const url = new URL(to, window.location.origin);
  routerStore.trigger.changed({ path: url.pathname, search: url.search });
  window.scrollTo(0, 0);
}

/** onClick for an <a href>: follows it inside the app unless a modifier asks for a new tab. */
export function followLink(event: MouseEvent<HTMLAnchorElement>): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute('href') ?? '/app');
}
