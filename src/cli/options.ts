import type { Config } from '../config.ts';

/** What every command may read: the environment's configuration and the global `--url`. */
export type GlobalOptions = { config: Config; url: string | undefined };
