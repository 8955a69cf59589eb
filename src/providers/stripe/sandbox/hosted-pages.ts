import type { ServerResponse } from 'node:http';
import type { StripeObject } from './resources.ts';

// The hosted pages a person opens from a Checkout or billing-portal session's URL, for the local
// demo: "Pay" completes the checkout as if a card had been charged.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><meta charset="utf-8"><title>Stripe sandbox</title>${html}`);
}

/** Answers the request when `path` is a hosted page; false when it is not one. */
export async function hostedPage(
  method: string,
  path: string,
  res: ServerResponse,
  deps: { sessions: ReadonlyMap<string, StripeObject>; completeCheckout: (id: string) => Promise<unknown> },
): Promise<boolean> {
  const pay = /^\/c\/pay\/([^/]+)$/.exec(path)?.[1];
  if (pay !== undefined) {
    const session = deps.sessions.get(pay);
    if (!session) {
      page(res, 404, '<p>No such checkout session.</p>');
    } else if (method === 'POST' && session.status === 'open') {
      await deps.completeCheckout(pay);
      const next = typeof session.success_url === 'string' ? session.success_url : null;
      page(res, 200, `<p>Paid (sandbox).</p>${next ? `<a href="${escapeHtml(next)}">Continue</a>` : ''}`);
    } else {
      page(
        res,
        200,
        session.status === 'open'
          ? `<h1>Sandbox checkout</h1><form method="post"><button>Pay (no card needed)</button></form>`
          : '<p>This checkout session is complete.</p>',
      );
    }
    return true;
  }
  if (/^\/p\/session\/[^/]+$/.test(path)) {
    page(res, 200, '<h1>Sandbox billing portal</h1><p>Nothing to manage here.</p>');
    return true;
  }
  return false;
}
