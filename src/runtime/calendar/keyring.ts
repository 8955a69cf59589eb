import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, ConfigError } from '../../config.ts';
import { generateKey, type Keyring, KeyringError, parseKeyring } from '../../domain/token-encryption.ts';

// The keyring that seals provider tokens: NMC_ENCRYPTION_KEY when set; outside production, else a
// key generated once into $NMC_DATA_DIR/encryption.key (mode 0600) and reused, so a laptop's
// connections survive restarts without anyone choosing a key. Production refuses to start without
// NMC_ENCRYPTION_KEY (src/config.ts), so no generated key ever guards real tokens.

const KEY_FILE = 'encryption.key';

export async function loadKeyring(config: Config): Promise<Keyring> {
  if (config.NMC_ENCRYPTION_KEY) {
    try {
      return parseKeyring(config.NMC_ENCRYPTION_KEY);
    } catch (err) {
      if (err instanceof KeyringError)
        throw new ConfigError(`invalid configuration: NMC_ENCRYPTION_KEY: ${err.message}`);
      throw err;
    }
  }
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('invalid configuration: NMC_ENCRYPTION_KEY: required with NODE_ENV=production');
  }
  const path = join(config.NMC_DATA_DIR, KEY_FILE);
  try {
    return parseKeyring((await readFile(path, 'utf8')).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = generateKey('dev1');
  await mkdir(config.NMC_DATA_DIR, { recursive: true });
  // `wx`: two processes starting at once keep whichever key was written first.
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
  await chmod(path, 0o600);
  return parseKeyring((await readFile(path, 'utf8')).trim());
}
