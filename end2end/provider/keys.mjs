// The signing key, persisted in a file so ID tokens stay verifiable across restarts.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

function newRsaJwk(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function save(file, keys) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Returns the persisted keys, creating the file with one key (id `initialKid`) on first start. */
export function loadOrCreateKeys(file, initialKid) {
  try {
    const { keys } = JSON.parse(readFileSync(file, 'utf8'));
    if (Array.isArray(keys) && keys.length > 0) return keys;
  } catch (err) {
    if (err.code !== 'ENOENT') throw new Error(`cannot read ${file}: ${err.message}`);
  }
  const keys = [newRsaJwk(initialKid ?? randomUUID())];
  save(file, keys);
  return keys;
}

/** Replaces the key with a fresh one (new kid); the old key is dropped, as after a FusionAuth rotation. */
export function rotateKeys(file) {
  const keys = [newRsaJwk(randomUUID())];
  save(file, keys);
  return keys;
}

export function publicKid(keys) {
  return keys[0].kid;
}
