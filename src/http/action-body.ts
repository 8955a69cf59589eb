import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

// An action (take over, release, close, confirm) needs no body: a client may send none, an empty
// body with `Content-Type: application/json`, or `{}`. Fastify reads a request without a body as
// null and refuses an empty JSON body outright; both mean "nothing" here. A route that needs a body
// still refuses them in its own validation.

/** The body of an action: nothing, or an empty JSON object. */
export const actionBody = z.object({}).strict().nullish();

/** Reads an empty `application/json` body as no body instead of refusing it. */
export function acceptEmptyJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
