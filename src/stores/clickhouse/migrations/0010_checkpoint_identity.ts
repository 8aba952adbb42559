import type { Migration } from './migration.js';

/**
 * A projection checkpoint names the log it was taken against: the store's epoch and the id of the
 * event at its position. A checkpoint from another store, ahead of the log, or at a position that now
 * holds another event (a rewound log) is then recognised and never trusted. Empty in older rows.
 */
export const migration0010: Migration = {
  version: 10,
  name: 'checkpoint_identity',
  statements: (store) => [
    `ALTER TABLE ${store.table('projection_checkpoints')} ADD COLUMN IF NOT EXISTS epoch String DEFAULT ''`,
    `ALTER TABLE ${store.table('projection_checkpoints')} ADD COLUMN IF NOT EXISTS event_id String DEFAULT ''`,
  ],
};
