// Provider SDKs are large (the twilio and stripe packages each add ~20–30 MB resident with their HTTP
// stacks) and an idle system never calls them. A client built with `lazyClient` is a stand-in that
// builds the real one at its first property access, so the SDK is loaded when a message is first
// sent or billing is first used, not at start. Everything else (options checks) stays eager.

export function lazyClient<T extends object>(build: () => T): T {
  let real: T | undefined;
  const target = () => {
    real ??= build();
    return real;
  };
  return new Proxy({} as T, {
    get: (_stub, property) => {
      const client = target();
      const value: unknown = Reflect.get(client, property, client);
      return value;
    },
    has: (_stub, property) => Reflect.has(target(), property),
  });
}
