import type { FaultPlan } from './faults.ts';
import {
  API_VERSION,
  countSegments,
  type SandboxMessage,
  type Timestamp,
  toMessageResource,
} from './message-resource.ts';
import { twilioErrorBody } from './rest-error.ts';
import { newSid } from './sids.ts';
import type { FormParams, TrafficStore } from './traffic-store.ts';

// The Messages resource as the sandbox serves it to an authenticated request: create (POST
// Messages.json), list by To/From/DateSent> (GET Messages.json), fetch one (GET Messages/{sid}.json).
// No HTTP here: the server hands over the method, path, query and parsed form.

export interface Answer {
  status: number;
  body: unknown;
  code: number | null;
  messageSid: string | null;
  headers?: Record<string, string>;
}

const MAX_SMS_BODY_CHARS = 1600;
// Shape only: whether a number really exists is the app's business (src/domain/phone.ts). A stricter
// check here would refuse the fictional numbers tests use and diverge from what the app validated.
const E164_SHAPE = /^\+[1-9]\d{7,14}$/;
const CREATE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const LIST_PAGE_SIZE_DEFAULT = 50;
const LIST_PAGE_SIZE_MAX = 1000;
const FETCH_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/;

export function errorAnswer(status: number, code: number, message?: string): Answer {
  return { status, body: twilioErrorBody(status, code, message), code, messageSid: null };
}

export function first(params: FormParams, key: string): string | undefined {
  const value = params[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

export function all(params: FormParams, key: string): string[] {
  const value = params[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as string];
}

export type MessagesRoute = (
  method: string,
  path: string,
  query: URLSearchParams,
  params: FormParams,
  receivedAt: Timestamp,
) => Answer;

export function createMessagesApi(deps: {
  accountSid: string;
  store: TrafficStore;
  faults: FaultPlan;
  /** Called with each accepted message (the carrier takes it from there). */
  accepted: (message: SandboxMessage) => void;
}): MessagesRoute {
  const { accountSid, store, faults } = deps;

  function createMessage(params: FormParams, receivedAt: Timestamp): Answer {
    const to = first(params, 'To');
    const from = first(params, 'From');
    const body = first(params, 'Body') ?? '';
    const mediaUrls = all(params, 'MediaUrl');
    if (to === undefined || to.length === 0) return errorAnswer(400, 21604);
    if (!E164_SHAPE.test(to)) return errorAnswer(400, 21211);
    if (from === undefined || from.length === 0) return errorAnswer(400, 21603);
    if (body.length === 0 && mediaUrls.length === 0) return errorAnswer(400, 21602);
    if (body.length > MAX_SMS_BODY_CHARS) {
      return errorAnswer(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    }
    const rejection = faults.rejectionCodeFor(to);
    if (rejection !== null) return errorAnswer(400, rejection);

    const statusCallback = first(params, 'StatusCallback');
    const message: SandboxMessage = {
      sid: newSid(mediaUrls.length > 0 ? 'MM' : 'SM'),
      accountSid,
      to,
      from,
      body,
      mediaUrls,
      statusCallback: statusCallback === undefined || statusCallback.length === 0 ? null : statusCallback,
      status: 'queued',
      errorCode: null,
      numSegments: countSegments(body),
      dateCreated: receivedAt.date,
      dateUpdated: receivedAt.date,
      dateSent: null,
      receivedAt,
    };
    store.trigger.messageAccepted({ message });
    deps.accepted(message);
    return { status: 201, body: toMessageResource(message), code: null, messageSid: message.sid };
  }

  // GET Messages.json: one page (the only one) of the recorded messages matching To, From and
  // DateSent>= (a queued message has no date_sent yet; its creation date stands in), newest first,
  // in Twilio's list-page shape, which the SDK's Page reads (the array under the one non-meta key).
  function listMessages(query: URLSearchParams): Answer {
    const to = query.get('To');
    const from = query.get('From');
    const after = query.get('DateSent>');
    const afterMs = after === null ? null : Date.parse(after);
    if (afterMs !== null && Number.isNaN(afterMs)) return errorAnswer(400, 20001, 'Invalid DateSent>');
    const requestedSize = Number(query.get('PageSize') ?? LIST_PAGE_SIZE_DEFAULT);
    const pageSize =
      Number.isInteger(requestedSize) && requestedSize > 0
        ? Math.min(requestedSize, LIST_PAGE_SIZE_MAX)
        : LIST_PAGE_SIZE_DEFAULT;
    const matches = store
      .getSnapshot()
      .context.messages.filter(
        (m) =>
          m.accountSid === accountSid &&
          (to === null || m.to === to) &&
          (from === null || m.from === from) &&
          (afterMs === null || (m.dateSent ?? m.dateCreated).getTime() >= afterMs),
      )
      .reverse()
      .slice(0, pageSize);
    const uri = `/${API_VERSION}/Accounts/${accountSid}/Messages.json?${query}`;
    const firstPage = new URLSearchParams(query);
    firstPage.set('Page', '0');
    firstPage.set('PageSize', String(pageSize));
    return {
      status: 200,
      body: {
        messages: matches.map(toMessageResource),
        first_page_uri: `/${API_VERSION}/Accounts/${accountSid}/Messages.json?${firstPage}`,
        next_page_uri: null,
        previous_page_uri: null,
        page: 0,
        page_size: pageSize,
        uri,
        start: 0,
        end: Math.max(matches.length - 1, 0),
      },
      code: null,
      messageSid: null,
    };
  }

  return function route(method, path, query, params, receivedAt) {
    const create = CREATE_PATH.exec(path);
    const read = FETCH_PATH.exec(path);
    const pathAccount = create?.[1] ?? read?.[1];
    if (pathAccount === undefined) return errorAnswer(404, 20404);
    if (pathAccount !== accountSid) return errorAnswer(404, 20404);
    if (create !== null) {
      if (method === 'GET') return listMessages(query);
      if (method !== 'POST') return errorAnswer(405, 20004, 'Method not allowed');
      return createMessage(params, receivedAt);
    }
    if (method !== 'GET') return errorAnswer(405, 20004, 'Method not allowed');
    const sid = read?.[2];
    const message = store.getSnapshot().context.messages.findLast((m) => m.sid === sid);
    if (message === undefined) return errorAnswer(404, 20404);
    return { status: 200, body: toMessageResource(message), code: null, messageSid: message.sid };
  };
}
