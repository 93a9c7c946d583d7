import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { consentsPage } from './consents-pages.ts';
import { createCatalogue } from '../../consent/catalogue.ts';
import { createAuthorizationDetailTypes } from '../../consent/authorization-details/registry.ts';
import type { GrantSummary } from '../../consent/grants.ts';

const grant = (actor: string | null): GrantSummary => ({
  id: 'g1', clientId: 'clinic', parts: { scopes: ['openid', 'profile'], claims: [], resources: {}, authorizationDetails: [] },
  createdAt: new Date('2026-11-01T00:00:00Z'), expiresAt: new Date('2027-11-01T00:00:00Z'), lastUsedAt: null, ongoing: true, duration: 'ongoing',
  status: 'active', endedAt: null, endedBy: null, actor,
});
const view = (actor: string | null) => ({
  csrf: 'c', catalogue: createCatalogue([]), detailTypes: createAuthorizationDetailTypes([]), grants: [grant(actor)], ended: [], records: [],
  clientNames: new Map([['clinic', '架空クリニック']]), actorNames: new Map([['parent-id', '架空 おや']]),
});

describe('My consents: a consent a guardian or proxy gave', () => {
  it('names who gave it, in both languages; the person\'s own consent does not', () => {
    assert.match(consentsPage('en', view('parent-id')), /Given for you by 架空 おや/);
    assert.match(consentsPage('ja', view('parent-id')), /あなたに代わって 架空 おや さんが同意しました/);
    assert.doesNotMatch(consentsPage('en', view(null)), /Given for you by/);
  });
});
