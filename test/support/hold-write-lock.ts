/** Holds the write lock of a SQLite file (as another writer would) until killed: `hold-write-lock.ts FILE`. */
import Database from 'better-sqlite3-multiple-ciphers';

const db = new Database(process.argv[2]!);
db.pragma('journal_mode = WAL');
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\n');
setInterval(() => undefined, 1000);
