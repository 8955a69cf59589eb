// Shown when nobody is signed in: the identity provider's sign-in, and on a local run (the dev
// issuer) the demo logins and the phone simulator.

export function SignInPage({ phoneSimulator }: { phoneSimulator: boolean }) {
  const returnTo = window.location.pathname.startsWith('/app') ? window.location.pathname : '/app';
  const query = `return_to=${encodeURIComponent(returnTo)}`;
  return (
    <main className="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">NeverMissCall</h1>
      <p>Every missed call, texted back and booked.</p>
      <p>
        <a className="button" href={`/app/login?${query}`}>
          Sign in
        </a>
      </p>
      {phoneSimulator && (
        <nav aria-label="Local sign-in" className="dev-logins">
          <h2>On this local run</h2>
          <ul>
            <li>
              <a href={`/app/dev-login?tenant=demo&role=OWNER&${query}`}>Sign in as the demo owner</a>
            </li>
            <li>
              <a href={`/app/dev-login?tenant=demo&role=TECH&${query}`}>Sign in as a demo technician</a>
            </li>
            <li>
              <a href="/app/dev-login?staff=1">Sign in as platform staff</a>
            </li>
            <li>
              <a href="/app/phone">Open the phone simulator</a>
            </li>
          </ul>
        </nav>
      )}
    </main>
  );
}
