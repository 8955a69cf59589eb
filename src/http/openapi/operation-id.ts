// An operation's id when its route does not declare one (`schema.operationId`): derived from the
// method and the path, so a new route gets a stable, readable id without anyone writing it.
// `GET /api/v1/conversations` → listConversations, `GET …/conversations/:id` → getConversation,
// `POST …/conversations/:id/takeover` → takeoverConversation, `POST /api/v1/holds` → createHold,
// `PATCH …/users/:id` → updateUser, `PUT …/resources/:id/exceptions/:date` → setResourceException,
// `POST /webhooks/twilio/sms` → receiveTwilioSms. The document pass refuses two equal ids.

const PREFIXES: readonly (readonly string[])[] = [['api', 'v1'], ['api']];

function words(segment: string): string[] {
  return segment.split(/[^A-Za-z0-9]+/).filter(Boolean);
}

function pascal(parts: readonly string[]): string {
  return parts.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('');
}

function camel(verb: string, nouns: readonly string[]): string {
  return verb + pascal(nouns);
}

function singular(noun: string): string {
  if (noun.endsWith('ies')) return `${noun.slice(0, -3)}y`;
  if (noun.endsWith('s') && !noun.endsWith('ss')) return noun.slice(0, -1);
  return noun;
}

const isParam = (segment: string) => segment.startsWith(':') || segment.startsWith('{');

export function deriveOperationId(method: string, url: string): string {
  let segments = url.split('/').filter(Boolean);
  for (const prefix of PREFIXES) {
    if (prefix.every((p, i) => segments[i] === p)) {
      segments = segments.slice(prefix.length);
      break;
    }
  }
  const webhook = segments[0] === 'webhooks';
  if (webhook) segments = segments.slice(1);
  // Each literal segment becomes its words; a literal followed by a path parameter names one thing.
  const nouns: string[][] = [];
  segments.forEach((segment, i) => {
    if (isParam(segment)) return;
    const parts = words(segment);
    const next = segments[i + 1];
    if (next !== undefined && isParam(next) && parts.length > 0)
      parts[parts.length - 1] = singular(parts[parts.length - 1] ?? '');
    nouns.push(parts);
  });
  const last = segments[segments.length - 1] ?? '';
  const endsWithParam = isParam(last);
  const lastNoun = nouns[nouns.length - 1] ?? [];
  const flat = (list: string[][]) => list.flat();
  const verb = method.toUpperCase();

  if (webhook) return camel('receive', flat(nouns));
  if (verb === 'GET') {
    const plural = !endsWithParam && (lastNoun[lastNoun.length - 1] ?? '').endsWith('s');
    return camel(plural ? 'list' : 'get', flat(nouns));
  }
  if (verb === 'PATCH') return camel('update', flat(nouns));
  if (verb === 'PUT') return camel('set', flat(nouns));
  if (verb === 'DELETE') return camel('delete', flat(nouns));
  if (verb === 'POST' && !endsWithParam) {
    const action = lastNoun[lastNoun.length - 1] ?? '';
    // `…/:id/takeover`, `…/dead-letters/replay`: the last word is what is done to the rest.
    if (nouns.length > 1 && lastNoun.length === 1 && !action.endsWith('s'))
      return camel(action.toLowerCase(), flat(nouns.slice(0, -1)));
    const created = flat(nouns);
    created[created.length - 1] = singular(created[created.length - 1] ?? '');
    return camel('create', created);
  }
  return camel(verb.toLowerCase(), flat(nouns));
}
