import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import { createIdentityAssurance, IdentityAssuranceError, type VerificationInput } from './identity-assurance.ts';
import { releaseVerifiedClaims } from './verified-claims.ts';

for (const engine of ENGINES) {
  describe(`identity assurance on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    let assurance: ReturnType<typeof createIdentityAssurance>;
    before(async () => {
      storage = await engine.open();
      assurance = createIdentityAssurance(storage.db);
    });
    after(() => storage?.dispose());

    const newAccount = async () => {
      const id = randomUUID();
      await storage.db.insertInto('accounts').values({ id, username: `u-${id}`, claims: '{}' }).execute();
      return id;
    };
    /** An in-person check of a My Number Card at a branch, under the Japanese AML law. */
    const inBranch = (accountId: string, over: Partial<VerificationInput> = {}): VerificationInput => ({
      accountId, level: 'ial3', trustFramework: 'jp_aml', method: 'vpip', verifier: 'Branch 012, Tanaka',
      verifiedAt: '2025-03-01T10:00:00+09:00',
      evidence: [{
        type: 'document',
        check_details: [{ check_method: 'vpip', organization: 'Sekisho Bank', time: '2025-03-01T01:00:00Z' }],
        document_details: { type: 'jp_individual_number_card', date_of_expiry: '2030-01-01' },
      }],
      verifiedClaims: { given_name: '太郎', family_name: '山田', 'family_name#ja-Kana-JP': 'ヤマダ', birthdate: '1980-01-01', address: { region: '東京都', country: 'JP' } },
      ...over,
    });
    const rejected = (code: 'invalid-input' | 'unknown-account', issue?: RegExp) => (e: unknown) =>
      e instanceof IdentityAssuranceError && e.code === code && (!issue || e.issues.some((i) => issue.test(i)));

    it('an account with nothing recorded is self-asserted (ial1)', async () => {
      const me = await newAccount();
      assert.equal(await assurance.levelOf(me), 'ial1');
      assert.equal(await assurance.current(me), undefined);
      assert.deepEqual(await assurance.list(me), []);
    });

    it('records a verification with its evidence and reads it back as stored', async () => {
      const me = await newAccount();
      const v = await assurance.record(inBranch(me, { verificationProcess: 'KYC-2025-0001', assuranceLevel: 'high' }));
      assert.equal(v.level, 'ial3');
      assert.equal(v.verifiedAt.toISOString(), '2025-03-01T01:00:00.000Z');
      assert.equal(v.verifier, 'Branch 012, Tanaka');
      assert.equal(await assurance.levelOf(me), 'ial3');
      const current = await assurance.current(me);
      assert.deepEqual(current, v);
      assert.equal(current?.verifiedClaims['family_name#ja-Kana-JP'], 'ヤマダ');
      assert.deepEqual(current?.evidence[0], inBranch(me).evidence[0]);
      assert.equal(current?.verificationProcess, 'KYC-2025-0001');
    });

    it('current is the strongest level in force, the newest within a level', async () => {
      const me = await newAccount();
      const remote = { level: 'ial2' as const, method: 'vcrypt' };
      const old3 = await assurance.record(inBranch(me, { verifiedAt: '2020-01-01T00:00:00Z' }));
      await assurance.record(inBranch(me, { ...remote, verifiedAt: '2025-01-01T00:00:00Z' }));
      assert.equal((await assurance.current(me))?.id, old3.id, 'ial3 beats a newer ial2');
      const new3 = await assurance.record(inBranch(me, { verifiedAt: '2024-01-01T00:00:00Z' }));
      assert.equal((await assurance.current(me))?.id, new3.id);
      assert.deepEqual((await assurance.active(me)).map((v) => v.level), ['ial3', 'ial3', 'ial2']);
    });

    it('a revoked verification no longer counts, and stays listed', async () => {
      const me = await newAccount();
      const ial2 = await assurance.record(inBranch(me, { level: 'ial2', method: 'vcrypt' }));
      const ial3 = await assurance.record(inBranch(me));
      assert.equal(await assurance.revoke(me, ial3.id), true);
      assert.equal(await assurance.revoke(me, ial3.id), false, 'once');
      assert.equal((await assurance.current(me))?.id, ial2.id);
      assert.equal(await assurance.levelOf(me), 'ial2');
      const listed = await assurance.list(me);
      assert.deepEqual(listed.map((v) => v.id), [ial3.id, ial2.id]);
      assert.ok(listed[0]?.revokedAt instanceof Date);
      await assurance.revoke(me, ial2.id);
      assert.equal(await assurance.levelOf(me), 'ial1');
    });

    it('revokes only the owner\'s verification', async () => {
      const me = await newAccount();
      const other = await newAccount();
      const theirs = await assurance.record(inBranch(other));
      assert.equal(await assurance.revoke(me, theirs.id), false);
      assert.equal(await assurance.revoke(me, 'not-an-id'), false);
      assert.equal(await assurance.levelOf(other), 'ial3');
    });

    it('refuses invalid input and names the field', async () => {
      const me = await newAccount();
      const cases: Array<[Partial<VerificationInput> | Record<string, unknown>, RegExp]> = [
        [{ level: 'ial4' as never }, /^level:/],
        [{ trustFramework: 'jp aml' }, /^trustFramework:/],
        [{ verifier: '  ' }, /^verifier:/],
        [{ verifiedAt: '2999-01-01T00:00:00Z' }, /^verifiedAt: in the future/],
        [{ verifiedAt: '2025-03-01' }, /^verifiedAt:/],
        [{ verifiedClaims: {} }, /^verifiedClaims: at least one/],
        [{ verifiedClaims: { email: 'taro@example.jp' } }, /^verifiedClaims\.email: not a claim/],
        [{ verifiedClaims: { birthdate: '1980-02-30' } }, /^verifiedClaims\.birthdate: not a real date/],
        [{ verifiedClaims: { nationalities: ['jp'] } }, /^verifiedClaims\.nationalities\.0:/],
        [{ evidence: [{ type: 'document', photo: 'base64…' }] as never }, /^evidence\.0: Unrecognized key/i],
        [{ evidence: [{ type: 'selfie' }] as never }, /^evidence\.0\.type:/],
        [{ evidence: Array.from({ length: 11 }, () => ({ type: 'document' as const })) }, /^evidence:/],
        [{ level: 'ial2', evidence: [] }, /^evidence: ial2 and ial3 need the evidence/],
        [{ level: 'ial3', method: 'vcrypt' }, /^method: ial3 needs in-person/],
        [{ surprise: true }, /Unrecognized key/i],
      ];
      for (const [over, issue] of cases) {
        await assert.rejects(assurance.record({ ...inBranch(me), ...over } as VerificationInput), rejected('invalid-input', issue), JSON.stringify(over));
      }
      // Self-asserted needs no evidence.
      assert.equal((await assurance.record(inBranch(me, { level: 'ial1', method: 'self', evidence: [] }))).level, 'ial1');
    });

    it('refuses an unknown account', async () => {
      await assert.rejects(assurance.record(inBranch(randomUUID())), rejected('unknown-account'));
    });

    it('what is recorded is what verified_claims releases', async () => {
      const me = await newAccount();
      await assurance.record(inBranch(me, { verificationProcess: 'KYC-2025-0002' }));
      const request = {
        verification: { trust_framework: { value: 'jp_aml' }, time: null, evidence: [{ type: { value: 'document' }, document_details: { type: null } }] },
        claims: { family_name: null, 'family_name#ja-Kana-JP': null, birthdate: null, nationalities: null },
      };
      assert.deepEqual(releaseVerifiedClaims(request, await assurance.active(me)), {
        verification: { trust_framework: 'jp_aml', time: '2025-03-01T01:00:00Z', evidence: [{ type: 'document', document_details: { type: 'jp_individual_number_card' } }] },
        claims: { family_name: '山田', 'family_name#ja-Kana-JP': 'ヤマダ', birthdate: '1980-01-01' },
      });
    });
  });
}
