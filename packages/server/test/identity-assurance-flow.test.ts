/**
 * OpenID Connect for Identity Assurance through a real FAPI client (oauth4webapi): a client asks
 * for `verified_claims` in the claims parameter, the consent page says which verified claims and
 * why, and the UserInfo response carries what the recorded verification vouches for, no more.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from './support/server.ts';
import { registerTestClient, type TestClient } from './support/clients.ts';
import { discover, pushAuthorizationRequest, redeemCallback, withNonceRetry } from './support/flow.ts';
import { consentForm } from './support/consent-form.ts';
import { createUserAgent } from './support/user-agent.ts';
import { createTestUser, type TestUser } from './support/users.ts';
import { createIdentityAssurance } from '../src/identity/identity-assurance.ts';

let server: TestServer;
let tc: TestClient;
before(async () => {
  server = await startTestServer();
  tc = await registerTestClient(server, { auth: 'private_key_jwt', binding: 'dpop' });
});
after(() => server.close());

const REQUEST = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, time: null, evidence: [{ type: { value: 'document' } }] },
      claims: { given_name: null, family_name: { purpose: 'To open your account in your legal name' }, birthdate: null, nationalities: null },
    },
  },
};

async function verify(user: TestUser) {
  await createIdentityAssurance(server.app.storage.db).record({
    accountId: user.id, level: 'ial2', trustFramework: 'jp_aml', method: 'vcrypt', verifier: 'Sekisho Bank, Shinjuku branch',
    verifiedAt: '2026-11-01T10:00:00Z',
    evidence: [{ type: 'document', document_details: { type: 'idcard' }, check_details: [{ check_method: 'vcrypt', organization: 'Sekisho Bank', time: '2026-11-01T10:00:00Z' }] } as never],
    verifiedClaims: { given_name: 'Hanako', family_name: 'Yamada', birthdate: '1985-04-01' },
  });
}

/** PAR with the claims parameter, sign-in, the consent page (returned), Allow, tokens, UserInfo. */
async function flow(user: TestUser, claims: unknown) {
  const as = await discover(server, tc);
  const par = await pushAuthorizationRequest(as, tc, { claims: JSON.stringify(claims) });
  const ua = createUserAgent(server.dispatcher(), server.issuer);
  const signIn = await ua.follow(par.authorizationUrl);
  const uid = /\/interaction\/([^/?"]+)/.exec(signIn.page!.url)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(signIn.page!.body)![1]!;
  const login = await ua.post(`${server.issuer}/interaction/${uid}/login`, { csrf, username: user.username, password: user.password });
  const consent = await ua.follow(new URL(login.headers.get('location')!, server.issuer).toString());
  const consentPage = consent.page!.body;
  // The consent step is a new interaction of its own.
  const consentUid = /\/interaction\/([^/?"]+)/.exec(consent.page!.url)![1]!;
  const confirm = await ua.post(`${server.issuer}/interaction/${consentUid}/confirm`, consentForm(consentPage));
  const { redirect, page } = await ua.follow(new URL(confirm.headers.get('location')!, server.issuer).toString());
  assert.ok(redirect, `${confirm.status} ${page?.status} ${page?.body.slice(0, 600)} ${consentPage.slice(0, 300)}`);
  const tokens = await redeemCallback(as, tc, par, redirect!);
  const sub = oauth.getValidatedIdTokenClaims(tokens)!.sub;
  const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
  const userinfo = await withNonceRetry(async () => oauth.processUserInfoResponse(as, tc.client, sub,
    await oauth.userInfoRequest(as, tc.client, tokens.access_token, { ...tc.options, DPoP })));
  return { consentPage, userinfo };
}

describe('verified_claims (OpenID Connect for Identity Assurance)', () => {
  it('is advertised in discovery with the trust frameworks and claims Sekisho can release', async () => {
    const as = await discover(server, tc);
    assert.equal(as.verified_claims_supported, true);
    assert.deepEqual(as.trust_frameworks_supported, ['jp_aml', 'nist_800_63A']);
    assert.ok((as.claims_in_verified_claims_supported as string[]).includes('family_name'));
    assert.ok((as.claims_supported as string[]).includes('verified_claims'));
  });

  it('the consent page names the verified claims and the purpose; UserInfo carries exactly the requested, verified ones', async () => {
    const user = await createTestUser(server);
    await verify(user);
    const { consentPage, userinfo } = await flow(user, REQUEST);
    assert.match(consentPage, /Verified identity information it asks for/);
    assert.match(consentPage, /Your family name[\s\S]{0,300}?Why: To open your account in your legal name/);
    assert.match(consentPage, /Your identity as verified|Sensitive/);
    const vc = userinfo.verified_claims as { verification: Record<string, unknown>; claims: Record<string, unknown> };
    assert.ok(vc, JSON.stringify(userinfo));
    assert.equal(vc.verification.trust_framework, 'jp_aml');
    assert.equal(vc.verification.time, '2026-11-01T10:00:00Z');
    assert.equal((vc.verification.evidence as Array<{ type: string }>)[0]!.type, 'document');
    assert.deepEqual(vc.claims, { given_name: 'Hanako', family_name: 'Yamada', birthdate: '1985-04-01' }, 'nationalities was asked but not verified: left out');
  });

  it('an account without a verification gets no verified_claims (nothing self-asserted is passed off as verified)', async () => {
    const user = await createTestUser(server);
    const { userinfo } = await flow(user, REQUEST);
    assert.equal(userinfo.verified_claims, undefined);
    assert.equal(userinfo.sub, user.id);
  });

  it('a trust framework the verification does not match releases nothing', async () => {
    const user = await createTestUser(server);
    await verify(user);
    const { userinfo } = await flow(user, { userinfo: { verified_claims: { verification: { trust_framework: { value: 'de_aml' } }, claims: { given_name: null } } } });
    assert.equal(userinfo.verified_claims, undefined);
  });

  for (const [name, claims] of [
    ['verified_claims without claims', { userinfo: { verified_claims: { verification: { trust_framework: null } } } }],
    ['verified_claims as a string', { userinfo: { verified_claims: 'all of them' } }],
    ['verified_claims as an array', { userinfo: { verified_claims: [REQUEST.userinfo.verified_claims] } }],
    ['another claim request that is neither null nor an object (the library\'s own rule, kept)', { userinfo: { email: 'yes please' } }],
  ] as const) {
    it(`${name}: refused at PAR with invalid_request`, async () => {
      const as = await discover(server, tc);
      await assert.rejects(pushAuthorizationRequest(as, tc, { claims: JSON.stringify(claims) }),
        (err: Error & { error?: string; cause?: { error?: string } }) => (err.error ?? err.cause?.error) === 'invalid_request');
    });
  }

  it('the person sees their level and who verified them on the account page', async () => {
    const user = await createTestUser(server);
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const form = await (await ua.request(`${server.issuer}/account/sign-in`)).text();
    await ua.post(`${server.issuer}/account/sign-in/login`, { csrf: /name="csrf" value="([^"]+)"/.exec(form)![1]!, username: user.username, password: user.password });
    assert.match(await (await ua.request(`${server.issuer}/account`)).text(), /id="identity-level">Not verified \(IAL1/);
    await verify(user);
    const after = await (await ua.request(`${server.issuer}/account`)).text();
    assert.match(after, /id="identity-level">Verified \(IAL2/);
    assert.match(after, /Checked by Sekisho Bank, Shinjuku branch/);
  });

  it('releases only the verified claims the person allowed this client, and asks again for new ones', async () => {
    const user = await createTestUser(server);
    await verify(user);
    const ask = (names: string[]) => ({ userinfo: { verified_claims: { verification: { trust_framework: null }, claims: Object.fromEntries(names.map((n) => [n, null])) } } });
    const ua = createUserAgent(server.dispatcher(), server.issuer);
    const as = await discover(server, tc);
    const first = await flowIn(ua, as, user, ask(['family_name']));
    assert.match(first.consentPage!, /Your family name/);
    assert.deepEqual((first.userinfo.verified_claims as { claims: object }).claims, { family_name: 'Yamada' });

    // The same client, same session, now asks for more: the person is asked for the new one only.
    const second = await flowIn(ua, as, user, ask(['family_name', 'given_name', 'birthdate']));
    assert.ok(second.consentPage, 'a consent page, although the grant already holds verified_claims');
    assert.match(second.consentPage!, /value="verified:given_name"/);
    assert.doesNotMatch(second.consentPage!, /value="verified:family_name"/, 'already allowed: not asked again');
    assert.match(second.consentPage!, /Already allowed, and kept:[\s\S]*Your family name \(verified\)/, 'but shown as kept');
    assert.deepEqual((second.userinfo.verified_claims as { claims: object }).claims, { family_name: 'Yamada', given_name: 'Hanako', birthdate: '1985-04-01' });
  });
});

/** A flow on a browser that may already be signed in: signs in when asked, allows when asked. */
async function flowIn(ua: ReturnType<typeof createUserAgent>, as: oauth.AuthorizationServer, user: TestUser, claims: unknown) {
  const par = await pushAuthorizationRequest(as, tc, { claims: JSON.stringify(claims) });
  let step = await ua.follow(par.authorizationUrl);
  let consentPage: string | undefined;
  for (let i = 0; i < 3 && step.page; i++) {
    const uid = /\/interaction\/([^/?"]+)/.exec(step.page.url)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(step.page.body)![1]!;
    const isLogin = step.page.body.includes(`/interaction/${uid}/login`);
    if (!isLogin) consentPage = step.page.body;
    const res = await ua.post(`${server.issuer}/interaction/${uid}/${isLogin ? 'login' : 'confirm'}`, isLogin ? { csrf, username: user.username, password: user.password } : consentForm(step.page.body));
    step = await ua.follow(new URL(res.headers.get('location')!, server.issuer).toString());
  }
  const tokens = await redeemCallback(as, tc, par, step.redirect!);
  const sub = oauth.getValidatedIdTokenClaims(tokens)!.sub;
  const DPoP = oauth.DPoP(tc.client, tc.dpopKeys!);
  const userinfo = await withNonceRetry(async () => oauth.processUserInfoResponse(as, tc.client, sub,
    await oauth.userInfoRequest(as, tc.client, tokens.access_token, { ...tc.options, DPoP })));
  return { consentPage, userinfo };
}
