import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrantManagementRequestError, readGrantManagementRequest } from './grant-management.ts';

const fails = (params: Record<string, unknown>, error: string) =>
  assert.throws(() => readGrantManagementRequest(params), (e: unknown) => e instanceof GrantManagementRequestError && e.error === error);

test('no action and no grant_id: the request works as without Grant Management', () => {
  assert.deepEqual(readGrantManagementRequest({}), { action: undefined, grantId: undefined });
});

test('create, merge and replace are read with their grant_id', () => {
  assert.deepEqual(readGrantManagementRequest({ grant_management_action: 'create' }), { action: 'create', grantId: undefined });
  assert.deepEqual(readGrantManagementRequest({ grant_management_action: 'merge', grant_id: 'abc_DEF-123' }), { action: 'merge', grantId: 'abc_DEF-123' });
  assert.deepEqual(readGrantManagementRequest({ grant_management_action: 'replace', grant_id: 'x' }), { action: 'replace', grantId: 'x' });
});

test('the combinations the draft refuses are invalid_request', () => {
  fails({ grant_id: 'abc' }, 'invalid_request');
  fails({ grant_management_action: 'create', grant_id: 'abc' }, 'invalid_request');
  fails({ grant_management_action: 'merge' }, 'invalid_request');
  fails({ grant_management_action: 'replace' }, 'invalid_request');
  fails({ grant_management_action: 'update' }, 'invalid_request');
  fails({ grant_management_action: ['merge'] }, 'invalid_request');
  fails({ grant_management_action: 'merge', grant_id: 5 }, 'invalid_request');
});

test('a grant_id that cannot be one of ours is invalid_grant_id', () => {
  fails({ grant_management_action: 'merge', grant_id: 'a/b' }, 'invalid_grant_id');
  fails({ grant_management_action: 'replace', grant_id: 'x'.repeat(101) }, 'invalid_grant_id');
});
