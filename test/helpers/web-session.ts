// Signs a browser in the way the web app does (dev login → the dev issuer's authorization
// endpoint → the callback), with plain fetch and manual redirects, and returns the session cookie.

function cookieOf(response: Response, name: string): string | null {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [key, value] = (pair ?? '').split('=');
    if (key === name && value) return value;
  }
  return null;
}

export async function webSignIn(
  baseUrl: string,
  query: string,
): Promise<{ cookie: string; setCookie: string[] }> {
  const start = await fetch(`${baseUrl}/app/dev-login?${query}`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`dev-login answered ${start.status}: ${await start.text()}`);
  const login = cookieOf(start, 'nmc_login');
  const authorize = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
  if (authorize.status !== 302)
    throw new Error(`authorize answered ${authorize.status}: ${await authorize.text()}`);
  const callback = await fetch(authorize.headers.get('location') ?? '', {
    redirect: 'manual',
    headers: { cookie: `nmc_login=${login}` },
  });
  if (callback.status !== 200)
    throw new Error(`callback answered ${callback.status}: ${await callback.text()}`);
  const session = cookieOf(callback, 'nmc_session');
  if (!session) throw new Error('the callback set no session cookie');
  return { cookie: `nmc_session=${session}`, setCookie: callback.headers.getSetCookie() };
}
