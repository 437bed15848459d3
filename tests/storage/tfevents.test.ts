import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, encodeEventFile } from '../../storage/tfevents';
import { readEventFile } from '../helpers/tfevents';

test('CRC-32C matches its published check values', () => {
  // RFC 3720 (iSCSI), appendix B.4, and the catalogue's check value of "123456789".
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
});

test('an event file reads back as TensorBoard reads it: version first, then one event per step', () => {
  const file = encodeEventFile([
    { step: 1, wallTime: 1000.5, values: { reward: 0.25, kl: 0.001, skipped: NaN } },
    { step: 300, wallTime: 1001.5, values: { reward: 0.75 } },
  ]);
  const events = readEventFile(file);
  assert.equal(events[0].fileVersion, 'brain.Event:2');
  assert.deepEqual(events.slice(1).map((e) => [e.step, e.wallTime, Object.keys(e.values)]), [[1, 1000.5, ['reward', 'kl']], [300, 1001.5, ['reward']]]);
  assert.equal(events[1].values.reward, 0.25);
  assert.ok(Math.abs(events[1].values.kl - 0.001) < 1e-9, 'float32');
  const corrupt = Buffer.from(file);
  corrupt[corrupt.length - 6] ^= 1;
  assert.throws(() => readEventFile(corrupt), /bad data CRC/);
});
