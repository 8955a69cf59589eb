// The JSON body Twilio's REST API answers with on every 4xx/5xx. The SDK turns it into a
// RestException carrying `status`, `code` and `message`, which is what classifyTwilioError reads,
// so the sandbox must keep exactly this shape.
export interface TwilioRestErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

// Messages never echo a phone number or a body: they end up in error objects that get logged.
const DEFAULT_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'Internal Server Error',
  20503: 'Service Unavailable',
  21211: "Invalid 'To' Phone Number",
  21602: 'Message body is required.',
  21603: "A 'From' phone number is required.",
  21604: "A 'To' phone number is required.",
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};

// A plausible Twilio error code for a bare HTTP status, for faults injected without one.
export function defaultCodeForStatus(status: number): number {
  if (status === 401) return 20003;
  if (status === 404) return 20404;
  if (status === 429) return 20429;
  if (status === 503) return 20503;
  if (status >= 500) return 20500;
  return 21211;
}

export function twilioErrorBody(status: number, code: number, message?: string): TwilioRestErrorBody {
  return {
    code,
    message: message ?? DEFAULT_MESSAGES[code] ?? `Error ${code}`,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  };
}
