import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/pipelines/load.js';
import { tempDir } from '../support/fixtures.js';

describe('pipelines file', () => {
  it('loads the example shipped in deploy/', () => {
    expect(loadPipelines('deploy/pipelines.example.json').map((p) => p.id)).toEqual([
      'self_minutely',
      'http_errors',
    ]);
  });

  it('names the entry and field of every mistake', () => {
    const file = join(tempDir(), 'p.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'ok', route: [] },
        { id: 'ok', route: [{ name: '*' }], mode: 'sometimes' },
      ]),
    );
    expect(() => loadPipelines(file)).toThrow(/\[0\.route\] .*>=1|\[0\.route\]/);
    expect(() => loadPipelines(file)).toThrow(/\[1\.mode\]/);
    writeFileSync(file, '[{');
    expect(() => loadPipelines(file)).toThrow(/PIPELINES_FILE .*p\.json/);
  });
});
