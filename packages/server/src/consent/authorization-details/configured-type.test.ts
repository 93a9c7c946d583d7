import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createConfiguredType, type ConfiguredTypeConfig } from './configured-type.ts';
import { configSchema } from '../../config/schema.ts';
import { validation } from './test-support.ts';

const insurance: ConfiguredTypeConfig = {
  type: 'insurance_policy',
  short: { ja: '保険契約の参照', en: 'See your insurance policies' },
  long: { ja: '契約内容と保障額を参照します。', en: 'The service reads your cover and its amounts.' },
  fields: {
    policy_kind: { kind: 'string', enum: ['life', 'medical'], required: true, label: { ja: '保険の種類', en: 'Kind of policy' } },
    note: { kind: 'string', maxLength: 20, label: { ja: 'メモ', en: 'Note' } },
    years: { kind: 'integer', label: { ja: '対象期間（年）', en: 'Years covered' } },
    products: { kind: 'strings', label: { ja: '商品', en: 'Products' } },
  },
};
const type = createConfiguredType(insurance);
const valid = {
  type: 'insurance_policy', policy_kind: 'life', note: 'family', years: 5, products: ['A1', 'B2'],
  actions: ['read'], datatypes: ['cover'], identifier: 'policy-123', privileges: ['owner'], locations: ['https://api.insurer.example/'],
};
const { detailOf, refusal } = validation(type);

describe('a configured authorization_details type', () => {
  it('takes its labels and flags from the configuration: sensitive unless said otherwise, not one-time', () => {
    assert.equal(type.type, 'insurance_policy');
    assert.deepEqual(type.label, { short: insurance.short, long: insurance.long, sensitive: true });
    assert.equal(type.oneTime, false);
    const payment = createConfiguredType({ ...insurance, type: 'premium_payment', sensitive: false, oneTime: true });
    assert.equal(payment.label.sensitive, false);
    assert.equal(payment.oneTime, true);
  });

  it('accepts its fields and the RFC 9396 common members', () => {
    assert.deepEqual(detailOf(valid), valid);
    assert.ok(type.validate({ type: 'insurance_policy', policy_kind: 'medical' }).ok, 'only the required field');
  });

  it('refuses unknown members and each malformed field, naming it', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...valid, premium: 100 }, /^unknown member premium/],
      [{ type: 'insurance_policy' }, /^policy_kind: missing/],
      [{ ...valid, policy_kind: 'car' }, /^policy_kind: must be life or medical/],
      [{ ...valid, note: 'x'.repeat(21) }, /^note: at most 20 characters/],
      [{ ...valid, note: 'a\u0000b' }, /^note: must not contain control characters/],
      [{ ...valid, years: 1.5 }, /^years: must be a whole number/],
      [{ ...valid, years: 2 ** 60 }, /^years: /],
      [{ ...valid, years: '5' }, /^years: must be a number/],
      [{ ...valid, products: ['A1', 'A1'] }, /^products: must not repeat/],
      [{ ...valid, products: 'A1' }, /^products: must be an array/],
      [{ ...valid, identifier: ['x'] }, /^identifier: must be a string/],
      [{ ...valid, actions: 'read' }, /^actions: must be an array/],
      [{ ...valid, privileges: [1] }, /^privileges\[0\]: must be a string/],
      [{ ...valid, type: 'other' }, /^type: must be insurance_policy/],
    ];
    for (const [detail, message] of cases) assert.match(refusal(detail), message, JSON.stringify(detail));
  });

  it('has nothing to choose, and grants the detail as requested', async () => {
    const detail = { type: 'insurance_policy', policy_kind: 'life' };
    assert.deepEqual(await type.choices(detail, async () => []), []);
    assert.deepEqual(type.grant(detail, {}, []), detail);
  });

  it('renders a list of label: value, escaping what the client sent; summarises with the identifier', () => {
    const ja = type.render('ja', { ...valid, note: '<b>x</b>' });
    assert.match(ja, /<dt>保険の種類<\/dt><dd>life<\/dd>/);
    assert.match(ja, /<dt>商品<\/dt><dd>A1、B2<\/dd>/);
    assert.match(ja, /<dt>対象<\/dt><dd>policy-123<\/dd>/);
    assert.match(ja, /<dt>利用先<\/dt><dd>api\.insurer\.example<\/dd>/);
    assert.match(ja, /&#60;b&#62;x&#60;\/b&#62;/);
    assert.doesNotMatch(ja, /<b>/);
    const en = type.render('en', valid);
    assert.match(en, /<dt>Years covered<\/dt><dd>5<\/dd>/);
    assert.match(en, /<dt>Products<\/dt><dd>A1, B2<\/dd>/);
    assert.equal(type.summary('ja', valid), '保険契約の参照（policy-123）');
    assert.equal(type.summary('en', { type: 'insurance_policy' }), 'See your insurance policies');
  });

  it('refuses a configuration that is invalid, naming the type and the key', () => {
    assert.throws(() => createConfiguredType({ ...insurance, fields: { actions: { kind: 'string', label: { ja: 'x', en: 'x' } } } }),
      /consent\.authorizationDetailTypes insurance_policy: fields\.actions: .*common members/);
    assert.throws(() => createConfiguredType({ ...insurance, fields: { _x: { kind: 'string', label: { ja: 'x', en: 'x' } } } }),
      /insurance_policy: fields\._x: a letter, then letters/);
    // zod leaves a __proto__ key out of a record: such a field is not declared, so a detail carrying it is refused.
    const sneaky = createConfiguredType({ ...insurance, fields: JSON.parse('{"__proto__": {"kind": "string", "label": {"ja": "x", "en": "x"}}}') });
    assert.equal(sneaky.validate(JSON.parse('{"type": "insurance_policy", "__proto__": "x"}')).ok, false);
    assert.throws(() => createConfiguredType({ ...insurance, type: 'has space' }), /type: printable ASCII/);
    assert.throws(() => createConfiguredType({ ...insurance, fields: { n: { kind: 'integer', enum: ['1'], label: { ja: 'x', en: 'x' } } } }),
      /enum and maxLength are for string/);
  });

  it('is a key of the configuration: consent.authorizationDetailTypes, default none, each type once', () => {
    assert.deepEqual(configSchema.parse({}).consent.authorizationDetailTypes, []);
    const parsed = configSchema.parse({ consent: { authorizationDetailTypes: [insurance] } });
    assert.equal(parsed.consent.authorizationDetailTypes[0]!.sensitive, true);
    assert.equal(parsed.consent.authorizationDetailTypes[0]!.fields.note!.required, false);
    assert.equal(configSchema.safeParse({ consent: { authorizationDetailTypes: [insurance, insurance] } }).success, false);
  });
});
