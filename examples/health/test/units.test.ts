import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBindingMessage } from '../src/clinic/binding-message.ts';
import { createDoctors } from '../src/clinic/doctors.ts';
import { detailsFor, smartScopes } from '../src/health-api/record-access.ts';
import { parseNewRecord } from '../src/health-api/record-input.ts';
import { createRecordStore } from '../src/health-api/record-store.ts';
import { authorizationParameters, grantedAccess } from '../src/portal/connection.ts';
import { resourceFromForm } from '../src/portal/record-forms.ts';
import { languageOf } from '../src/portal/words.ts';
import { healthResourceServer } from '../src/registration.ts';
import { SAMPLE_RECORDS } from '../src/sample-records.ts';
import { BLOOD_PRESSURE } from './support/records.ts';

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

  it('adds records under new random ids, reads them back, and keeps a bounded number per patient', () => {
    const store = createRecordStore(SAMPLE_RECORDS, { maxAddedPerPatient: 2 });
    const parsed = parseNewRecord('Observation', BLOOD_PRESSURE('p-0003'), Date.parse('2026-03-01T00:00:00Z'));
    assert.ok(parsed.ok);
    const first = store.add(parsed.record);
    const second = store.add(parsed.record);
    assert.ok(first.ok && second.ok);
    assert.notEqual(first.record.id, second.record.id);
    assert.deepEqual(store.read('Observation', first.record.id), { record: first.record, patientId: 'p-0003' });
    assert.equal(store.search('Observation', 'p-0003')?.length, 4, 'two seeded, two added');
    assert.deepEqual(store.add(parsed.record), { ok: false, reason: 'full' });
    const elsewhere = parseNewRecord('Observation', BLOOD_PRESSURE('p-9999'), Date.parse('2026-03-01T00:00:00Z'));
    assert.ok(elsewhere.ok);
    assert.deepEqual(store.add(elsewhere.record), { ok: false, reason: 'unknown_patient' });
    assert.equal(store.read('Observation', 'ob-0001')?.patientId, 'p-0001');
    assert.equal(store.read('Condition', 'ob-0001'), undefined, 'an id is looked up within its type');
  });

  it('judges dates against the clock it is given: a reading a few minutes ahead passes, one from tomorrow does not', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    const at = (when: string) => parseNewRecord('Observation', BLOOD_PRESSURE('p-0001', 120, 80, when), now);
    assert.ok(at('2026-03-01T09:04:00+09:00').ok, 'four minutes ahead (a phone clock)');
    assert.deepEqual(at('2026-03-01T09:10:00+09:00'), { ok: false, status: 422, detail: 'Observation.effectiveDateTime: must not be in the future' });
    assert.ok(at('2026-02-28T23:59:59Z').ok);
    assert.equal((at('2026-02-29T10:00:00+09:00') as { status: number }).status, 400, '2026 is not a leap year');
  });

  it('matches fhir_record_access details by patient.ref, type, action and location; SMART scopes by type and interaction', () => {
    assert.deepEqual(smartScopes('Observation', 'search'), { v2: 'patient/Observation.rs', v1: 'patient/Observation.read' });
    assert.deepEqual(smartScopes('AllergyIntolerance', 'create'), { v2: 'patient/AllergyIntolerance.c', v1: 'patient/AllergyIntolerance.write' });
    const d = { type: 'fhir_record_access', resource_types: ['Observation'], actions: ['create'], patient: { id: 'x', ref: 'p-0001' } };
    const audience = 'https://health.example/fhir';
    assert.deepEqual(detailsFor([d], 'Observation', 'create', 'p-0001', audience), [d]);
    assert.deepEqual(detailsFor([d], 'Observation', 'create', undefined, audience), [d], 'any patient');
    assert.deepEqual(detailsFor([d], 'Observation', 'search', 'p-0001', audience), []);
    assert.deepEqual(detailsFor([d], 'Condition', 'create', 'p-0001', audience), []);
    assert.deepEqual(detailsFor([d], 'Observation', 'create', 'p-0002', audience), []);
    assert.deepEqual(detailsFor([{ ...d, locations: ['https://elsewhere.example/fhir'] }], 'Observation', 'create', 'p-0001', audience), []);
    assert.deepEqual(detailsFor([{ ...d, patient: { id: 'x', ref: '' } }], 'Observation', 'create', undefined, audience), []);
  });

  it('registers the health API with SMART v2 scopes, each labelled in ja and en and sensitive', () => {
    const rs = healthResourceServer({ audience: 'https://health.example/fhir' });
    assert.deepEqual(rs.scopes, [
      'patient/Patient.rs', 'patient/AllergyIntolerance.rs', 'patient/MedicationStatement.rs', 'patient/Observation.rs', 'patient/Condition.rs',
      'patient/Observation.c', 'patient/AllergyIntolerance.c',
    ]);
    assert.deepEqual(Object.keys(rs.scopeLabels).sort(), [...rs.scopes].sort());
    for (const label of Object.values(rs.scopeLabels)) {
      assert.equal(label.sensitive, true);
      for (const text of [label.short.ja, label.short.en, label.long.ja, label.long.en]) assert.ok(text.length > 0 && text.length <= 300, text);
    }
    assert.equal(rs.scopeLabels['patient/Observation.c']!.short.ja, '血圧・体重の記録の追加');
    assert.equal(rs.accessTokenFormat, 'jwt');
  });

  it('portal: asks for read/search on every type and create on two, and knows what was granted only when the scope and a detail both say so', () => {
    const asked = authorizationParameters();
    assert.match(asked.scope!, /^openid offline_access patient\/Patient\.rs .* patient\/AllergyIntolerance\.c$/);
    assert.equal(asked.prompt, 'consent');
    const details = JSON.parse(asked.authorization_details!) as Array<Record<string, unknown>>;
    assert.deepEqual(details.map((d) => d.actions), [['read', 'search'], ['create']]);
    const patient = { id: 'uuid', label: '架空 太郎 (p-0001)', ref: 'p-0001' };
    const granted = details.map((d) => ({ ...d, type: 'fhir_record_access', patient }));
    const scopes = asked.scope!.split(' ').filter((s) => s !== 'patient/Condition.rs' && s !== 'patient/AllergyIntolerance.c');
    assert.deepEqual(grantedAccess(granted, scopes), {
      patient: { ref: 'p-0001', label: '架空 太郎 (p-0001)' },
      canRead: ['Patient', 'AllergyIntolerance', 'MedicationStatement', 'Observation'],
      canAdd: ['Observation'],
    });
    assert.deepEqual(grantedAccess([granted[0]!], asked.scope!.split(' ')), { patient: { ref: 'p-0001', label: '架空 太郎 (p-0001)' }, canRead: ['Patient', 'AllergyIntolerance', 'MedicationStatement', 'Observation', 'Condition'], canAdd: [] });
    assert.equal(grantedAccess([granted[0]!, { ...granted[1]!, patient: { id: 'other', label: 'x', ref: 'p-0003' } }], scopes), 'two_patients');
    assert.equal(grantedAccess([{ ...granted[0]!, patient: { id: 'uuid', label: 'x' } }], scopes), 'no_patient');
  });

  it('portal: turns its forms into FHIR resources with the patient\'s zone, and says what is wrong in a form', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    const form = (fields: Record<string, string>) => new URLSearchParams(fields);
    const bp = resourceFromForm('blood-pressure', form({ systolic: '132', diastolic: '84', measured_at: '2026-03-01T07:45' }), 'p-0001', '+09:00', now);
    assert.ok(bp.ok);
    assert.equal(bp.resource.effectiveDateTime, '2026-03-01T07:45:00+09:00');
    const checked = parseNewRecord('Observation', bp.resource, now);
    assert.ok(checked.ok, 'what the portal sends, the API accepts');
    const errors: Array<[Parameters<typeof resourceFromForm>[0], Record<string, string>, string]> = [
      ['blood-pressure', { systolic: '132.5', diastolic: '84', measured_at: '2026-03-01T07:45' }, 'systolic'],
      ['blood-pressure', { systolic: '132', diastolic: '20', measured_at: '2026-03-01T07:45' }, 'diastolic'],
      ['blood-pressure', { systolic: '90', diastolic: '95', measured_at: '2026-03-01T07:45' }, 'order'],
      ['blood-pressure', { systolic: '132', diastolic: '84', measured_at: '2026-03-01T10:00' }, 'when'],
      ['blood-pressure', { systolic: '132', diastolic: '84', measured_at: 'yesterday' }, 'when'],
      ['body-weight', { weight: '72.45', measured_at: '2026-03-01T07:45' }, 'weight'],
      ['allergy', { allergen: 'pollen' }, 'allergen'],
      ['allergy', { allergen: 'egg', criticality: 'severe' }, 'criticality'],
      ['allergy', { allergen: 'egg', reaction: 'a\nb' }, 'reaction'],
      ['allergy', { allergen: 'egg', noticed_on: '2026-03-05' }, 'noticedOn'],
    ];
    for (const [which, fields, error] of errors) assert.deepEqual(resourceFromForm(which, form(fields), 'p-0001', '+09:00', now), { ok: false, error }, JSON.stringify(fields));
    const allergy = resourceFromForm('allergy', form({ allergen: 'egg', criticality: 'low', reaction: '口のかゆみ', noticed_on: '2026-02-20' }), 'p-0001', '+09:00', now);
    assert.ok(allergy.ok && parseNewRecord('AllergyIntolerance', allergy.resource, now).ok);
  });

  it('portal: the language is ?lang=, then the cookie, then Accept-Language, else Japanese', () => {
    assert.equal(languageOf('en', 'ja', 'ja'), 'en');
    assert.equal(languageOf(null, 'en', 'ja-JP'), 'en');
    assert.equal(languageOf('fr', 'xx', 'en-US,en;q=0.9'), 'en');
    assert.equal(languageOf(null, undefined, 'de-DE'), 'ja');
  });

  it('refuses doctor lists it cannot use', () => {
    assert.throws(() => createDoctors([]), /at least one/);
    assert.throws(() => createDoctors([{ id: 'a b', name: 'x', password: 'long enough' }]), /id/);
    assert.throws(() => createDoctors([{ id: 'a', name: 'x', password: 'short' }]), /at least 8/);
    assert.throws(() => createDoctors([{ id: 'a', name: 'x', password: 'long enough' }, { id: 'a', name: 'y', password: 'long enough' }]), /twice/);
  });
});
