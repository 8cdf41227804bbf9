// A run's log.jsonl on resume (trainer/log-file.ts): what was logged past the checkpoint goes, and so does
// a line a crash cut short; lines without a step, and the events a trainer asks to keep, stay.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { trimLog } from '../trainer/log-file.ts';

describe('trimLog', () => {
  it('drops entries past the step and cut-short lines, keeps step-less ones and the named events', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-log-'));
    try {
      const file = path.join(dir, 'log.jsonl');
      const lines = [{ settings: 1 }, { step: 1 }, { step: 2 }, { step: 3 }, { event: 'collapse', step: 3 }, { event: 'guard', step: 3 }];
      await fs.writeFile(file, lines.map((l) => JSON.stringify(l) + '\n').join('') + '{"step": 4, "d"');
      await trimLog(file, 2, ['collapse']);
      const kept = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as object);
      assert.deepEqual(kept, [{ settings: 1 }, { step: 1 }, { step: 2 }, { event: 'collapse', step: 3 }]);
      await trimLog(file, 1);
      assert.equal(await fs.readFile(file, 'utf8'), '{"settings":1}\n{"step":1}\n');
      const missing = path.join(dir, 'none.jsonl');
      await trimLog(missing, 0);
      assert.equal(await fs.readFile(missing, 'utf8'), '');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
