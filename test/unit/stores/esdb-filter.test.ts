import { describe, expect, it } from 'vitest';
import { serverFilterRegex } from '../../../src/stores/event-store/esdb-filter.js';
import { categoryOf, type EventFilter, matchesFilter } from '../../../src/stores/event-store/port.js';

const streams = [
  'samples-agent-1',
  'samples',
  'samplesx-1',
  'xsamples-1',
  'pipeline-default_analytics',
  'pipelinestate-watch',
  'model-a.b',
  'model',
  'a.b-1',
  'axb-1',
  '$stats-127.0.0.1:2113',
];
const types = ['batchFlushed', 'batchFlushedX', 'xbatchFlushed', 'anomalyDetected', '$metadata'];

/** What the server's regex lets through, read with JavaScript's engine (the same syntax here as .NET's). */
function serverPasses(filter: EventFilter, stream: string, type: string): boolean {
  const server = serverFilterRegex(filter);
  if (!server) return !stream.startsWith('$') && !type.startsWith('$');
  return new RegExp(server.regex).test(server.on === 'streamName' ? stream : type);
}

describe('EventStoreDB server-side filters', () => {
  const filters: EventFilter[] = [
    { categories: ['samples'] },
    { categories: ['model', 'a.b'] },
    { categories: ['pipeline', 'pipelinestate'] },
    { eventTypes: ['batchFlushed'] },
    { eventTypes: ['batchFlushed', 'anomalyDetected'] },
    { categories: ['samples'], eventTypes: ['batchFlushed'] },
    { categories: [] },
    { eventTypes: [] },
  ];
  it.each(filters)(
    'lets through every event the port filter %j passes (no more than the categories or types named)',
    (filter) => {
      for (const stream of streams)
        for (const type of types) {
          const passes = matchesFilter({ category: categoryOf(stream), type }, filter);
          if (passes) expect(serverPasses(filter, stream, type), `${stream} ${type}`).toBe(true);
          const server = serverFilterRegex(filter)!;
          // The server's own answer is exact on the part it filters on.
          if (server.on === 'streamName')
            expect(serverPasses(filter, stream, type)).toBe(filter.categories!.includes(categoryOf(stream)));
          else expect(serverPasses(filter, stream, type)).toBe(filter.eventTypes!.includes(type));
        }
    },
  );

  it('without a filter, only system events are left out', () => {
    expect(serverFilterRegex(undefined)).toBeNull();
    expect(serverFilterRegex({})).toBeNull();
  });

  it('treats metacharacters in names as literals', () => {
    const server = serverFilterRegex({ categories: ['a.b'] })!;
    expect(new RegExp(server.regex).test('axb-1')).toBe(false);
    expect(new RegExp(server.regex).test('a.b-1')).toBe(true);
  });
});
