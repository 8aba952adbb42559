import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import {
  EncryptionKeyError,
  openFile,
  parseDataKey,
  SEAL_OVERHEAD,
  SealedDataError,
  seal,
  sealFile,
  unseal,
  writeFor,
} from '../../../src/stores/encryption.js';

const HEX = '0f'.repeat(32);
const PASSPHRASE = 'correct horse battery staple, and more';

describe('sealing and key derivation', () => {
  it('derives a different subkey per use, the same from the same key', () => {
    const key = parseDataKey(HEX);
    expect(key.subkey('spool')).toHaveLength(32);
    expect(key.subkey('spool')).not.toEqual(key.subkey('event-log'));
    expect(parseDataKey(HEX).subkey('spool')).toEqual(key.subkey('spool'));
    expect(parseDataKey(PASSPHRASE).subkey('spool')).toEqual(parseDataKey(PASSPHRASE).subkey('spool'));
    expect(parseDataKey(PASSPHRASE).subkey('spool')).not.toEqual(key.subkey('spool'));
  });

  it('refuses a short key', () => {
    expect(() => parseDataKey('too short')).toThrow(EncryptionKeyError);
    expect(() => parseDataKey('ab'.repeat(31))).toThrow(/64 hex digits or a passphrase of at least 32/);
  });

  it('seals with a fresh nonce each time and opens what it sealed', () => {
    const key = parseDataKey(HEX).subkey('spool');
    const plain = Buffer.from('customer="planted-7f3a9c-secret"');
    const a = seal(key, plain);
    const b = seal(key, plain);
    expect(a).toHaveLength(plain.length + SEAL_OVERHEAD);
    expect(a).not.toEqual(b);
    expect(a.includes(plain)).toBe(false);
    expect(unseal(key, a)).toEqual(plain);
  });

  it('detects tampering, another key and other associated data', () => {
    const keys = parseDataKey(HEX);
    const key = keys.subkey('spool');
    const sealed = seal(key, Buffer.from('some bytes'), Buffer.from('here'));
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i]! ^= 0x01;
      expect(() => unseal(key, tampered, Buffer.from('here'))).toThrow(SealedDataError);
    }
    expect(() => unseal(keys.subkey('event-log'), sealed, Buffer.from('here'))).toThrow(SealedDataError);
    expect(() => unseal(key, sealed, Buffer.from('there'))).toThrow(SealedDataError);
    expect(() => unseal(key, sealed.subarray(0, 10))).toThrow(SealedDataError);
  });

  it('opens whole files, and names the file when the key does not fit', () => {
    const keys = parseDataKey(HEX);
    const key = keys.subkey('learning-blobs');
    const plain = Buffer.from('{"a":1}');
    const sealed = sealFile(key, plain, 'learning-blobs');
    expect(openFile(key, sealed, 'learning-blobs', '/x/f.json')).toEqual(plain);
    expect(writeFor(null, plain, 'learning-blobs')).toEqual(plain);
    expect(openFile(null, plain, 'learning-blobs', '/x/f.json')).toEqual(plain);
    expect(() => openFile(null, sealed, 'learning-blobs', '/x/f.json')).toThrow(
      /\/x\/f\.json is encrypted but DATA_ENCRYPTION_KEY is not set/,
    );
    expect(() => openFile(key, plain, 'learning-blobs', '/x/f.json')).toThrow(
      /written without DATA_ENCRYPTION_KEY/,
    );
    expect(() => openFile(keys.subkey('spool'), sealed, 'learning-blobs', '/x/f.json')).toThrow(
      /DATA_ENCRYPTION_KEY does not open \/x\/f\.json/,
    );
    // A file sealed for one use does not open as another, even under the same key.
    expect(() => openFile(key, sealed, 'spool', '/x/f.json')).toThrow(EncryptionKeyError);
  });

  it('is a setting: checked at start, never echoed', () => {
    expect(loadConfig({}).DATA_ENCRYPTION_KEY).toBeUndefined();
    expect(loadConfig({ DATA_ENCRYPTION_KEY: HEX }).DATA_ENCRYPTION_KEY).toBe(HEX);
    expect(loadConfig({ DATA_ENCRYPTION_KEY: PASSPHRASE }).DATA_ENCRYPTION_KEY).toBe(PASSPHRASE);
    for (const bad of ['short secret value', 'ab'.repeat(31)]) {
      let error: unknown;
      try {
        loadConfig({ DATA_ENCRYPTION_KEY: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/DATA_ENCRYPTION_KEY: must be 64 hex digits/);
      expect((error as Error).message).not.toContain(bad);
    }
  });
});
