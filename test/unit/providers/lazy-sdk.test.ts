import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildSoon, lazyClient } from '../../../src/providers/lazy-sdk.ts';

describe('lazyClient', () => {
  it('builds the real client at its first use, once', () => {
    let builds = 0;
    const client = lazyClient(() => {
      builds += 1;
      return {
        name: 'real',
        greet(this: { name: string }) {
          return `hi from ${this.name}`;
        },
      };
    });
    expect(builds).toBe(0);
    expect(client.greet()).toBe('hi from real');
    expect(client.name).toBe('real');
    expect(builds).toBe(1);
  });

  it('buildSoon builds it after the current turn, once, and never throws where it was asked', async () => {
    let builds = 0;
    const client = lazyClient(() => {
      builds += 1;
      return { name: 'real' };
    });
    buildSoon(client);
    expect(builds).toBe(0); // not in the middle of the request that asked
    await new Promise((resolve) => setImmediate(resolve));
    expect(builds).toBe(1);
    expect(client.name).toBe('real');
    expect(builds).toBe(1);

    const failing = lazyClient<{ name: string }>(() => {
      throw new Error('no SDK');
    });
    buildSoon(failing);
    buildSoon({}); // not lazy: nothing to do
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => failing.name).toThrow('no SDK'); // reported at the first real use
  });

  // Memory (issue 13): an idle system must not carry the provider SDKs' REST clients.
  it('the composition root loads neither the Stripe SDK nor the Twilio REST client', () => {
    const loaded = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `await import('./src/system.ts');
         const { createRequire } = await import('node:module');
         const cache = Object.keys(createRequire(import.meta.url).cache);
         console.log(JSON.stringify(cache.filter((p) => /node_modules\\/(stripe|axios|twilio\\/lib\\/rest)\\//.test(p))));`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(loaded.trim().split('\n').at(-1) ?? '[]')).toEqual([]);
  });
});
