// One question to an OpenAI-compatible `/chat/completions` endpoint (LLM_BASE_URL) whose answer is
// a JSON object: the request, its timeout, and every way it can fail, classified once. The reply-
// hint interpreter and the model understander share it; what the JSON means is theirs to check.
// A failure is a value, never a throw, so neither can forget to fall back to the deterministic path.

export type ChatEndpointOptions = {
  /** e.g. https://api.openai.com/v1 (without the trailing /chat/completions). */
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
};

export type ChatFailure = 'network' | 'timeout' | 'http_status' | 'not_json' | 'no_content';

export type ChatAnswer = { ok: true; value: unknown } | { ok: false; reason: ChatFailure; status?: number };

export type AskChatJson = (system: string, user: string) => Promise<ChatAnswer>;

export function createChatJson(options: ChatEndpointOptions, defaultTimeoutMs: number): AskChatJson {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  return async (system, user) => {
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers,
        signal,
        body: JSON.stringify({
          model: options.model,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
          temperature: 0,
          response_format: { type: 'json_object' },
        }),
      });
    } catch {
      return { ok: false, reason: signal.aborted ? 'timeout' : 'network' };
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, reason: 'http_status', status: response.status };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { ok: false, reason: signal.aborted ? 'timeout' : 'not_json' };
    }
    // `choices[0].message.content`: the model's JSON, as text.
    const choices = (body as { choices?: unknown } | null)?.choices;
    const content = Array.isArray(choices)
      ? (choices[0] as { message?: { content?: unknown } } | undefined)?.message?.content
      : undefined;
    if (typeof content !== 'string') return { ok: false, reason: 'no_content' };
    try {
      return { ok: true, value: JSON.parse(content) };
    } catch {
      return { ok: false, reason: 'not_json' };
    }
  };
}
