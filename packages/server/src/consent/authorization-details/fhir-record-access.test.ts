import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fhirRecordAccess as type, RECORD_TYPE_WORDS } from './fhir-record-access.ts';
import { linkedResources, validation } from './test-support.ts';

const linked = linkedResources(['p1', 'fhir_patient', '山田 花子'], ['p2', 'fhir_patient', '山田 太郎（お子さま）'], ['a1', 'bank_account', '普通 ****4567']);

const valid = {
  type: 'fhir_record_access',
  resource_types: ['Patient', 'MedicationRequest', 'MedicationStatement', 'AllergyIntolerance', 'Observation', 'Condition', 'Immunization', 'DocumentReference'],
  actions: ['read', 'search'],
  locations: ['https://fhir.hospital.example/r4/'],
};
const { detailOf, refusal } = validation(type);

describe('fhir_record_access', () => {
  it('accepts every record type and action, and the smallest request', () => {
    assert.deepEqual(detailOf(valid), valid);
    const adding = { ...valid, resource_types: ['Patient', 'Observation'], actions: ['read', 'search', 'create'] };
    assert.deepEqual(detailOf(adding), adding);
    const small = { type: 'fhir_record_access', resource_types: ['AllergyIntolerance'], actions: ['read'] };
    assert.deepEqual(detailOf(small), small);
    assert.equal(type.label.sensitive, true);
  });

  it('refuses each malformed member with a message naming it', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...valid, resource_types: [] }, /^resource_types: must not be empty/],
      [{ ...valid, resource_types: ['Patient', 'Patient'] }, /^resource_types: must not repeat/],
      [{ ...valid, resource_types: ['Encounter'] }, /^resource_types\[0\]: must be Patient or MedicationRequest/],
      [{ ...valid, resource_types: ['patient'] }, /^resource_types\[0\]: must be Patient/],
      [{ ...valid, resource_types: 'Patient' }, /^resource_types: must be an array/],
      [{ ...valid, actions: ['write'] }, /^actions\[0\]: must be read or search or create/],
      [{ ...valid, actions: ['update'] }, /^actions\[0\]: must be read or search or create/],
      [{ ...valid, actions: ['delete'] }, /^actions\[0\]: must be read or search or create/],
      [{ ...valid, actions: ['read', 'search', 'create', 'create'] }, /^actions: /],
      [{ ...valid, actions: [] }, /^actions: must not be empty/],
      [{ ...valid, actions: ['read', 'read'] }, /^actions: must not repeat/],
      [{ type: 'fhir_record_access', resource_types: ['Patient'] }, /^actions: missing/],
      [{ ...valid, locations: ['https://user:pw@fhir.example/'] }, /^locations\[0\]: must be an https URL/],
      [{ ...valid, patient: { id: 'p1' } }, /^patient: chosen by the person/],
      [{ ...valid, scope: 'patient/*.rs' }, /^unknown member scope/],
    ];
    for (const [detail, message] of cases) assert.match(refusal(detail), message, JSON.stringify(detail));
  });

  it('asks which patient: one, from the person\'s patient records', async () => {
    const groups = await type.choices(detailOf(valid), linked);
    assert.deepEqual(groups, [{
      name: 'patient', label: { ja: '対象の患者', en: 'Whose records' }, multiple: false, min: 1,
      options: [{ id: 'p1', label: '山田 花子', ref: 'ref-p1' }, { id: 'p2', label: '山田 太郎（お子さま）', ref: 'ref-p2' }],
    }]);
  });

  it('grants with the patient chosen; refuses a bank account id, two patients or none', async () => {
    const detail = detailOf(valid);
    const groups = await type.choices(detail, linked);
    assert.deepEqual(type.grant(detail, { patient: ['p2'] }, groups), { ...valid, patient: { id: 'p2', label: '山田 太郎（お子さま）', ref: 'ref-p2' } });
    assert.equal(type.grant(detail, { patient: ['a1'] }, groups), undefined);
    assert.equal(type.grant(detail, { patient: ['p1', 'p2'] }, groups), undefined);
    assert.equal(type.grant(detail, { patient: [] }, groups), undefined);
  });

  it('renders the record types in plain words, read or search, in ja and en', () => {
    const ja = type.render('ja', detailOf(valid));
    for (const words of ['基本情報', '服薬', 'アレルギー・副作用歴', '検査結果・バイタル', '病名・診断', '予防接種', '診療文書', '閲覧', '検索', '記録の変更はできません']) {
      assert.ok(ja.includes(words), words);
    }
    assert.equal(ja.split('服薬').length - 1, 1, 'the two medication types are one thing to a person');
    assert.doesNotMatch(ja, /MedicationRequest|AllergyIntolerance/);
    const en = type.render('en', detailOf({ ...valid, actions: ['read'] }));
    assert.match(en, /Allergies and adverse reactions/);
    assert.match(en, /Test results and vital signs/);
    assert.match(en, /Read \(it cannot change your records\)/);
    assert.doesNotMatch(en, /Search/);
    for (const words of Object.values(RECORD_TYPE_WORDS)) assert.notEqual(words.ja, words.en);
  });

  it('says "Add" for create, and "cannot change your records" only when there is no create (ja and en)', () => {
    const adding = detailOf({ ...valid, resource_types: ['Patient', 'Observation', 'AllergyIntolerance'], actions: ['read', 'search', 'create'] });
    const ja = type.render('ja', adding);
    assert.ok(ja.includes('閲覧、検索、追加'), ja);
    assert.ok(ja.includes('参照・追加する記録'));
    assert.ok(ja.includes('（すでにある記録の変更・削除はできません）'));
    assert.doesNotMatch(ja, /記録の変更はできません/);
    const en = type.render('en', adding);
    assert.match(en, /Read, Search, Add \(it cannot change or delete the records already there\)/);
    assert.doesNotMatch(en, /it cannot change your records/);
    const onlyAdd = type.render('en', detailOf({ ...valid, actions: ['create'] }));
    assert.match(onlyAdd, /<dd>Add \(it cannot change or delete/);
    assert.doesNotMatch(onlyAdd, /Read|Search/);
    assert.match(type.render('ja', detailOf({ ...valid, actions: ['search'] })), /検索（記録の変更はできません）/);
  });

  it('titles a detail by what it asks: "see" without create, "see and add" with it (the consent screen\'s heading)', () => {
    assert.equal(type.title!('en', detailOf({ ...valid, actions: ['read', 'search'] })), 'See your health records');
    assert.equal(type.title!('ja', detailOf({ ...valid, actions: ['create'] })), '診療記録の参照と追加');
    assert.equal(type.title!('en', detailOf({ ...valid, actions: ['read', 'create'] })), 'See and add to your health records');
  });

  it('summarises a granted detail with the record types and the patient', () => {
    const granted = { ...valid, resource_types: ['Patient', 'AllergyIntolerance'], patient: { id: 'p1', label: '山田 花子' } };
    assert.equal(type.summary('ja', granted), '診療記録の参照（山田 花子：基本情報、アレルギー・副作用歴）');
    assert.equal(type.summary('en', granted), 'See your health records (山田 花子: Basic details, Allergies and adverse reactions)');
    assert.equal(type.summary('en', { type: 'fhir_record_access' }), 'See your health records');
    const adding = { ...granted, actions: ['read', 'search', 'create'] };
    assert.equal(type.summary('ja', adding), '診療記録の参照と追加（山田 花子：基本情報、アレルギー・副作用歴）');
    assert.equal(type.summary('en', adding), 'See and add to your health records (山田 花子: Basic details, Allergies and adverse reactions)');
  });
});
