import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { Database, LinkedResourcesTable } from '../storage/schema.ts';

/**
 * What the bank or health-record service knows a person holds: their bank accounts, their patient
 * records. The consent screen offers them when a client asks for authorization_details ("which
 * accounts may it see?"). Registered by the operator (`sekisho user link`) or by the institution's
 * own systems; the person only picks among them.
 *
 * `ref` is the institution's identifier ("0001-001-1234567", a FHIR Patient id) and stays here;
 * pages, forms and grants name a resource by its random `id`. `label` is what the person reads,
 * as the operator registered it ("普通 ****4567 (Main)").
 */
export interface LinkedResource {
  id: string;
  accountId: string;
  kind: string;
  ref: string;
  label: string;
  createdAt: Date;
}

/** Why adding failed; `issues` name the field. */
export class LinkedResourceError extends Error {
  readonly code: 'invalid-input' | 'duplicate' | 'unknown-account';
  readonly issues: string[];
  constructor(code: LinkedResourceError['code'], issues: string[] = []) {
    super(code === 'duplicate' ? 'this resource is already linked to the account'
      : code === 'unknown-account' ? 'no such account' : `invalid linked resource: ${issues.join('; ')}`);
    this.code = code;
    this.issues = issues;
  }
}

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;
const printable = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`)
  .refine((s) => !UNPRINTABLE.test(s), 'must not contain control characters');

export const linkedResourceKindSchema = z.string().regex(/^[a-z_]{1,50}$/, '1 to 50 lower-case letters and _');

const inputSchema = z.object({
  accountId: z.string().min(1).max(100),
  kind: linkedResourceKindSchema,
  ref: printable(200),
  label: printable(100),
}).strict();

const toResource = (r: Selectable<LinkedResourcesTable>): LinkedResource =>
  ({ id: r.id, accountId: r.account_id, kind: r.kind, ref: r.ref, label: r.label, createdAt: r.created_at });

export function createLinkedResources(db: Kysely<Database>) {
  /** The person's resources of one kind (all kinds without it), oldest first. */
  async function list(accountId: string, kind?: string): Promise<LinkedResource[]> {
    let query = db.selectFrom('linked_resources').selectAll().where('account_id', '=', accountId);
    if (kind !== undefined) query = query.where('kind', '=', kind);
    return (await query.orderBy('created_at').orderBy('id').execute()).map(toResource);
  }

  return {
    list,

    /** Links a resource. Throws LinkedResourceError: invalid-input, duplicate (same kind and ref), unknown-account. */
    async add(input: { accountId: string; kind: string; ref: string; label: string }): Promise<LinkedResource> {
      const parsed = inputSchema.safeParse(input);
      if (!parsed.success) {
        throw new LinkedResourceError('invalid-input', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`));
      }
      const v = parsed.data;
      let row: Selectable<LinkedResourcesTable> | undefined;
      try {
        row = await db.insertInto('linked_resources')
          .values({ id: randomUUID(), account_id: v.accountId, kind: v.kind, ref: v.ref, label: v.label })
          .onConflict((oc) => oc.columns(['account_id', 'kind', 'ref']).doNothing())
          .returningAll().executeTakeFirst();
      } catch (err) {
        // 23503: foreign_key_violation, the account does not exist (or was deleted meanwhile).
        if ((err as { code?: string }).code === '23503' || /foreign key/i.test(String((err as Error).message))) throw new LinkedResourceError('unknown-account');
        throw err;
      }
      if (!row) throw new LinkedResourceError('duplicate');
      return toResource(row);
    },

    /** Unlinks one of the person's resources; false when they have none with that id. */
    async remove(accountId: string, id: string): Promise<boolean> {
      const row = await db.deleteFrom('linked_resources').where('account_id', '=', accountId).where('id', '=', id)
        .returning('id').executeTakeFirst();
      return row !== undefined;
    },

    /** The list the authorization_details types choose from, bound to one person. */
    forAccount(accountId: string): (kind: string) => Promise<LinkedResource[]> {
      return (kind) => list(accountId, kind);
    },
  };
}
export type LinkedResources = ReturnType<typeof createLinkedResources>;
