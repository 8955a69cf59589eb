import { useCallback, useRef, useSyncExternalStore } from 'react';

// Subscribes a component to a selection of an @xstate/store store: it re-renders only when the
// selected value changes (by `equal`, identity by default), so a live update to one inbox row
// does not re-render the others.

type Readable<T> = {
  getSnapshot(): { context: T };
  subscribe(listener: () => void): { unsubscribe(): void };
};

export function useSelector<T, S>(
  store: Readable<T>,
  select: (context: T) => S,
  equal: (a: S, b: S) => boolean = Object.is,
): S {
  const last = useRef<{ value: S } | null>(null);
  const subscribe = useCallback(
    (onChange: () => void) => {
      const subscription = store.subscribe(onChange);
      return () => subscription.unsubscribe();
    },
    [store],
  );
  const read = () => {
    const next = select(store.getSnapshot().context);
    if (last.current && equal(last.current.value, next)) return last.current.value;
    last.current = { value: next };
    return next;
  };
  return useSyncExternalStore(subscribe, read, read);
}
