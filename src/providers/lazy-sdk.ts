// Provider SDKs are large (the twilio and stripe packages each add ~20–30 MB resident with their HTTP
// stacks) and an idle system never calls them. A client built with `lazyClient` is a stand-in that
// builds the real one at its first property access, so the SDK is loaded when a message is first
// sent or billing is first used, not at start. Everything else (options checks) stays eager.

const builders = new WeakMap<object, () => unknown>();

export function lazyClient<T extends object>(build: () => T): T {
  let real: T | undefined;
  const target = () => {
    real ??= build();
    return real;
  };
  const stand = new Proxy({} as T, {
    get: (_stub, property) => {
      const client = target();
      const value: unknown = Reflect.get(client, property, client);
      return value;
    },
    has: (_stub, property) => Reflect.has(target(), property),
  });
  builders.set(stand, target);
  return stand;
}

/**
 * Builds a lazy client on the next turn of the event loop, after the current request's answer:
 * loading an SDK blocks the process for ~100 ms, which belongs before a caller waits for it, not in
 * the middle of their wait. Does nothing for a client that is not lazy or already built.
 */
export function buildSoon(client: object): void {
  const build = builders.get(client);
  if (!build) return;
  setImmediate(() => {
    try {
      build();
    } catch {
      // Left to the first real use, which reports it where it is awaited.
    }
  });
}
