import assert from 'node:assert/strict';
import type { AuthorizationDetailType, LinkedResource, LinkedResourceList } from './types.ts';

/** What the type tests share: the person's linked resources, and validation seen as accepted or refused. */

/** A person's linked resources, as the consent screen lists them: those of the kind asked for. */
export function linkedResources(...resources: Array<[id: string, kind: string, label: string]>): LinkedResourceList {
  const list: LinkedResource[] = resources.map(([id, kind, label]) => ({ id, accountId: 'acc-1', kind, ref: `ref-${id}`, label, createdAt: new Date(0) }));
  return async (kind) => list.filter((r) => r.kind === kind);
}

/**
 * `detailOf(input)`: the detail the type accepted (the test fails with the type's message if it
 * refused it). `refusal(input)`: the type's message for a detail it refused (the test fails if it
 * accepted it).
 */
export function validation(type: Pick<AuthorizationDetailType, 'validate'>) {
  return {
    detailOf(input: unknown): Record<string, unknown> {
      const result = type.validate(input);
      assert.ok(result.ok, result.ok ? '' : result.message);
      return result.detail;
    },
    refusal(input: unknown): string {
      const result = type.validate(input);
      assert.equal(result.ok, false, `accepted ${JSON.stringify(input)}`);
      return result.ok ? '' : result.message;
    },
  };
}
