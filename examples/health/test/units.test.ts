import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBindingMessage } from '../src/clinic/binding-message.ts';
import { createDoctors } from '../src/clinic/doctors.ts';
import { createRecordStore } from '../src/health-api/record-store.ts';
import { createReplayCache } from '../src/health-api/replay-cache.ts';
import { SAMPLE_RECORDS } from '../src/sample-records.ts';

describe('small parts', () => {
  it('makes binding messages of six unambiguous characters, ASCII letters, digits and - only', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const m = createBindingMessage();
      assert.match(m, /^[2-9A-Z]{2}-[2-9A-Z]{4}$/);
      assert.doesNotMatch(m, /[01ILOUV]/);
      seen.add(m);
    }
    assert.ok(seen.size > 1990, 'random enough not to repeat');
  });

  it('checks the seeded records at start: FHIR ids, and every record about a known patient', () => {
    const store = createRecordStore(SAMPLE_RECORDS);
    assert.equal(store.patient('p-0001')?.name[1]?.text, 'Taro Kakuu (fictional)');
    assert.ok(SAMPLE_RECORDS.patients.every((p) => p.meta?.tag?.[0]?.code === 'HTEST'), 'every patient is tagged as test data');
    assert.ok(SAMPLE_RECORDS.records.every((r) => r.meta?.tag?.[0]?.code === 'HTEST'));
    assert.equal(store.search('Condition', 'p-0001')?.length, 2);
    assert.deepEqual(store.search('MedicationStatement', 'p-0003'), []);
    assert.equal(store.search('Condition', 'p-9999'), undefined);
    const [patient] = SAMPLE_RECORDS.patients;
    assert.throws(() => createRecordStore({ patients: [{ ...patient!, id: 'bad id' }], records: [] }), /not a FHIR id/);
    assert.throws(() => createRecordStore({ patients: [patient!, patient!], records: [] }), /twice/);
    assert.throws(() => createRecordStore({ patients: [], records: [SAMPLE_RECORDS.records[0]!] }), /not in the data/);
  });

  it('remembers DPoP proof ids for their window, within a bound', () => {
    const cache = createReplayCache(3, 10);
    const now = 1_000_000_000_000;
    const iat = now / 1000;
    assert.equal(cache.firstUse('a', iat, now), true);
    assert.equal(cache.firstUse('a', iat, now + 1000), false, 'a replay');
    assert.equal(cache.firstUse('a', iat, now + 11_000), true, 'after its window (a proof that old is refused anyway)');
    for (const jti of ['b', 'c', 'd', 'e']) assert.equal(cache.firstUse(jti, iat, now), true);
    assert.equal(cache.firstUse('e', iat, now), false);
  });

  it('refuses doctor lists it cannot use', () => {
    assert.throws(() => createDoctors([]), /at least one/);
    assert.throws(() => createDoctors([{ id: 'a b', name: 'x', password: 'long enough' }]), /id/);
    assert.throws(() => createDoctors([{ id: 'a', name: 'x', password: 'short' }]), /at least 8/);
    assert.throws(() => createDoctors([{ id: 'a', name: 'x', password: 'long enough' }, { id: 'a', name: 'y', password: 'long enough' }]), /twice/);
  });
});
