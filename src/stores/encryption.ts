/**
 * Encryption at rest (`DATA_ENCRYPTION_KEY`): one master key, a separate subkey per use derived with
 * HKDF-SHA-256, and AES-256-GCM sealing of buffers for every file the service writes itself (agent
 * spools, the series registry, learning pipeline outputs). The event log (SQLite3MultipleCiphers) and
 * embedded ClickHouse (an encrypted disk) take their own subkeys from here. See docs/security.md.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';

/** What a subkey is for: each use gets its own key, so one never decrypts another's data. */
export type KeyPurpose =
  | 'event-log'
  | 'spool'
  | 'series-registry'
  | 'learning-blobs'
  | 'model-artifacts'
  | 'clickhouse-disk';

/** The key does not open the data, data written without a key is found while one is set, or the reverse. */
export class EncryptionKeyError extends Error {
  readonly code = 'ENCRYPTION_KEY' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EncryptionKeyError';
  }
}

/** A sealed buffer that does not authenticate: tampered with, damaged, or sealed under another key. */
export class SealedDataError extends Error {
  readonly code = 'SEALED_DATA' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SealedDataError';
  }
}

/** The master key and the subkeys derived from it. */
export interface DataKey {
  subkey(purpose: KeyPurpose): Buffer;
}

const HKDF_SALT = Buffer.from('all-use-learning/data-encryption/v1');
/** A passphrase is stretched with scrypt first (fixed salt: the key must be the same in every process). */
const SCRYPT_SALT = Buffer.from('all-use-learning/data-encryption/passphrase/v1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * True when `text` is a usable key: 64 hex digits, or a passphrase of at least 32 characters. Hex digits
 * only but not 64 of them is refused: a mistyped key, not a passphrase.
 */
export function isValidKeyText(text: string): boolean {
  if (/^[0-9a-fA-F]+$/.test(text)) return text.length === 64;
  return text.length >= 32;
}

/** The master key from the setting's text (64 hex digits: the key itself; else a passphrase). */
export function parseDataKey(text: string): DataKey {
  if (!isValidKeyText(text))
    throw new EncryptionKeyError(
      'DATA_ENCRYPTION_KEY must be 64 hex digits or a passphrase of at least 32 characters (not only hex digits)',
    );
  const master = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : scryptSync(text.normalize('NFC'), SCRYPT_SALT, 32, {
        N: 1 << 15,
        r: 8,
        p: 1,
        maxmem: 64 * 1024 * 1024,
      });
  const cache = new Map<KeyPurpose, Buffer>();
  return {
    subkey(purpose) {
      let key = cache.get(purpose);
      if (!key) {
        key = Buffer.from(hkdfSync('sha256', master, HKDF_SALT, `all-use-learning/${purpose}`, 32));
        cache.set(purpose, key);
      }
      return key;
    },
  };
}

/**
 * The key the setting names, or null when it is unset (no encryption). A passphrase is stretched here
 * (scrypt, about 0.1 s): derive it once and hand the key on.
 */
export function dataKeyFromSetting(text: string | undefined): DataKey | null {
  return text === undefined || text === '' ? null : parseDataKey(text);
}

/** Bytes a sealed buffer adds to its plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/**
 * AES-256-GCM: a random 12-byte nonce, the ciphertext, the 16-byte tag. `aad` (authenticated, not
 * stored) binds the buffer to its place, e.g. a file's role.
 */
export function seal(key: Buffer, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** The plaintext of a sealed buffer; throws SealedDataError when it does not authenticate. */
export function unseal(key: Buffer, sealed: Uint8Array, aad?: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD)
    throw new SealedDataError('sealed data is shorter than its nonce and tag');
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new SealedDataError('sealed data does not authenticate (damaged, or sealed under another key)', {
      cause: error,
    });
  }
}

/** Every whole file sealed by the service starts with this: it tells a sealed file from a plain one. */
export const SEALED_FILE_MAGIC = Buffer.from([0xf5, 0x41, 0x55, 0x45, 0x4e, 0x43, 0x00, 0x01]);

/** A whole file's content sealed: magic, then `seal(key, plaintext, magic + purpose)`. */
export function sealFile(key: Buffer, plaintext: Uint8Array, purpose: KeyPurpose): Buffer {
  return Buffer.concat([SEALED_FILE_MAGIC, seal(key, plaintext, fileAad(purpose))]);
}

export function isSealedFile(bytes: Uint8Array): boolean {
  return (
    bytes.length >= SEALED_FILE_MAGIC.length &&
    SEALED_FILE_MAGIC.equals(bytes.subarray(0, SEALED_FILE_MAGIC.length))
  );
}

/**
 * A file's content as written by `writeFor`: opened when sealed, as it is when plain. A sealed file with
 * no key, a plain one with a key, or one the key does not open is an EncryptionKeyError naming the file.
 */
export function openFile(key: Buffer | null, bytes: Buffer, purpose: KeyPurpose, path: string): Buffer {
  const sealed = isSealedFile(bytes);
  if (!key) {
    if (sealed)
      throw new EncryptionKeyError(
        `${path} is encrypted but DATA_ENCRYPTION_KEY is not set: start with the key it was written with`,
      );
    return bytes;
  }
  if (!sealed) {
    if (bytes.length === 0) return bytes;
    throw new EncryptionKeyError(
      `${path} was written without DATA_ENCRYPTION_KEY (it is plain text) but the key is set: see "Encryption at rest" in docs/security.md ('npm run store:encrypt' encrypts an existing data directory)`,
    );
  }
  try {
    return unseal(key, bytes.subarray(SEALED_FILE_MAGIC.length), fileAad(purpose));
  } catch (error) {
    throw new EncryptionKeyError(
      `DATA_ENCRYPTION_KEY does not open ${path} (a different key, or the file is damaged)`,
      { cause: error },
    );
  }
}

/** What to write for a file's content: sealed with a key, as it is without one. */
export function writeFor(key: Buffer | null, plaintext: Uint8Array, purpose: KeyPurpose): Buffer {
  return key ? sealFile(key, plaintext, purpose) : Buffer.from(plaintext);
}

function fileAad(purpose: KeyPurpose): Buffer {
  return Buffer.concat([SEALED_FILE_MAGIC, Buffer.from(purpose)]);
}
