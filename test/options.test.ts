// Option range checks (core/options.ts): one message, naming the option, the range and the value given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRange, intOption } from '../core/options.ts';
import { throwsWith } from './helpers/assert.ts';

describe('option ranges', () => {
  it('intOption takes a command-line integer within the range, and names the text given otherwise', () => {
    assert.equal(intOption('--threads', '4', 1, 256), 4);
    assert.equal(intOption('--margin', '0', 0, 256), 0);
    throwsWith(() => intOption('--threads', '0', 1, 256), 'BAD_OPTION', "--threads must be an integer from 1 to 256, got '0'.");
    throwsWith(() => intOption('--threads', '2.5', 1, 256), 'BAD_OPTION', "got '2.5'");
    throwsWith(() => intOption('--threads', 'four', 1, 256), 'BAD_OPTION', "got 'four'");
    throwsWith(() => intOption('--margin', ' ', 0, 256), 'BAD_OPTION', "got ' '", 'from 0 to 256');
  });

  it('checkRange words the range (integer, unit, exclusive minimum) and takes a prefix and hint', () => {
    assert.equal(checkRange('rate', 44100, { min: 8000, max: 192000, integer: true }), 44100);
    throwsWith(() => checkRange('size', 31.5, { min: 4, max: 4096, integer: true, unit: ' pixels' }), 'BAD_OPTION', 'size must be an integer from 4 to 4096 pixels, got 31.5.');
    throwsWith(() => checkRange('period', 0, { min: 0, max: 60, exclusiveMin: true, unit: ' s' }), 'BAD_OPTION', 'a number greater than 0 s and at most 60 s, got 0');
    throwsWith(() => checkRange('x', '3', { min: 0, max: 9 }), 'BAD_OPTION', 'got 3');
    assert.throws(
      () => checkRange('readAheadS', 99, { min: 0.1, max: 60, unit: ' s' }, { where: 'file source', hint: 'Leave it out for 2 s.' }),
      (e: Error & { hint?: string }) => e.message === 'file source: readAheadS must be a number from 0.1 to 60 s, got 99.' && e.hint === 'Leave it out for 2 s.',
    );
  });
});
