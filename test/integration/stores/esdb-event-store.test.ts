import { EventStoreDBClient } from '@eventstore/db-client';
import { describe, it } from 'vitest';
import { createEsdbEventStore } from '../../../src/stores/event-store/esdb.js';
import { describeEventStoreContract } from './event-store.contract.js';

const url = process.env.EVENTSTORE_URL;

if (url) {
  describeEventStoreContract('EventStoreDB', async () =>
    createEsdbEventStore(EventStoreDBClient.connectionString`${url}`),
  );
} else {
  describe('EventStore contract: EventStoreDB', () => {
    it.skip('skipped: set EVENTSTORE_URL (e.g. esdb://localhost:2113?tls=false) to run against a real server', () => {});
  });
  console.log('EventStoreDB contract suite skipped: EVENTSTORE_URL is not set');
}
