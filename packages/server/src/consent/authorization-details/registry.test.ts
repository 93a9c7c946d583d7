import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_AUTHORIZATION_DETAIL_TYPES, createAuthorizationDetailTypes, LINKED_RESOURCE_KINDS } from './registry.ts';
import type { ConfiguredTypeConfig } from './configured-type.ts';

const custom: ConfiguredTypeConfig = {
  type: 'https://insurer.example/rar/policy',
  short: { ja: '保険契約の参照', en: 'See your insurance policies' },
  long: { ja: '契約内容を参照します。', en: 'The service reads your cover.' },
  fields: { policy_kind: { kind: 'string', enum: ['life', 'medical'], required: true, label: { ja: '保険の種類', en: 'Kind of policy' } } },
};

describe('the authorization_details type registry', () => {
  it('holds the built-in types and the configured ones; an unknown type is undefined', () => {
    const types = createAuthorizationDetailTypes([custom]);
    assert.deepEqual(types.all().map((t) => t.type), ['account_information', 'domestic_transfer', 'fhir_record_access', custom.type]);
    assert.equal(types.get('account_information')?.label.short.ja, '口座情報の参照');
    assert.equal(types.get(custom.type)?.label.short.en, 'See your insurance policies');
    for (const name of ['payment_initiation', '', '__proto__', 'constructor', 'toString', 'Account_Information']) assert.equal(types.get(name), undefined, name);
    assert.equal(types.get(42 as unknown as string), undefined);
    assert.deepEqual([...LINKED_RESOURCE_KINDS], ['bank_account', 'fhir_patient']);
    types.all().pop();
    assert.equal(types.all().length, 4, 'all() is a copy');
  });

  it('refuses at start-up a configured type that redefines a built-in one, naming it', () => {
    for (const builtIn of BUILT_IN_AUTHORIZATION_DETAIL_TYPES) {
      assert.throws(() => createAuthorizationDetailTypes([{ ...custom, type: builtIn.type }]),
        new RegExp(`consent\\.authorizationDetailTypes: ${builtIn.type} is a built-in authorization_details type`));
    }
    assert.throws(() => createAuthorizationDetailTypes([custom, custom]), /https:\/\/insurer\.example\/rar\/policy is configured twice/);
  });

  it('every type has labels in both languages and is translated', () => {
    for (const t of createAuthorizationDetailTypes([]).all()) {
      for (const text of [t.label.short.ja, t.label.short.en, t.label.long.ja, t.label.long.en]) assert.ok(text.trim().length > 0, t.type);
      assert.notEqual(t.label.short.ja, t.label.short.en, t.type);
      assert.equal(t.label.sensitive, true, `${t.type} is money or health`);
    }
  });

  it('no validator throws on any JSON input, and each refuses garbage with a plain ASCII message', () => {
    const huge = 'x'.repeat(5_000_000);
    let nested: unknown = 'leaf';
    for (let i = 0; i < 5000; i++) nested = { a: [nested] };
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    const garbage: unknown[] = [
      null, undefined, 0, 1, -1, NaN, true, false, '', 'account_information', huge, [], [{}], [null], {}, Object.create(null), new Date(),
      nested, many, { type: null }, { type: 1 }, { type: huge }, { type: ['account_information'] }, { type: {} },
      JSON.parse('{"__proto__": {"type": "account_information"}}'), JSON.parse('{"constructor": {"prototype": {"x": 1}}}'),
    ];
    const types = createAuthorizationDetailTypes([custom]).all();
    for (const t of types) {
      const own: unknown[] = [
        { type: t.type }, { type: t.type, actions: huge }, { type: t.type, actions: [huge] }, { type: t.type, actions: Array(100_000).fill('read') },
        { type: t.type, locations: [huge] }, { type: t.type, locations: Array(100_000).fill('https://a.example/') }, { type: t.type, locations: nested },
        { type: t.type, creditor_name: huge, instructed_amount: { currency: 'JPY', amount: huge }, creditor_account: nested },
        { type: t.type, resource_types: [[[]]], actions: [{}], transaction_history_days: 1e308 }, { type: t.type, policy_kind: huge, identifier: huge },
        JSON.parse(`{"type": "${t.type}", "__proto__": {"accounts": ["x"]}, "constructor": 1}`), { type: t.type, [huge]: 1 },
      ];
      for (const input of [...garbage, ...own]) {
        let result: ReturnType<typeof t.validate> | undefined;
        assert.doesNotThrow(() => { result = t.validate(input); }, `${t.type} threw`);
        assert.equal(result!.ok, false, `${t.type} accepted garbage`);
        if (!result!.ok) {
          assert.match(result!.message, /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/, `${t.type}: ${result!.message.slice(0, 80)}`);
          assert.ok(result!.message.length <= 300);
        }
      }
    }
  });

  it('rendering and summaries never throw on a detail stored in another shape', () => {
    const odd: Array<Record<string, unknown>> = [
      {}, { type: 'x' }, { accounts: 'x', debtor_account: 1, patient: [], instructed_amount: null, creditor_account: 'x', resource_types: {}, actions: 7, locations: ['not a url', 3] },
    ];
    for (const t of createAuthorizationDetailTypes([custom]).all()) {
      for (const detail of odd) {
        for (const lang of ['ja', 'en'] as const) {
          assert.equal(typeof t.render(lang, detail), 'string');
          assert.ok(t.summary(lang, detail).startsWith(t.label.short[lang]));
        }
      }
      assert.equal(t.grant({ type: t.type }, null as unknown as Record<string, string[]>, []), undefined);
    }
  });
});
