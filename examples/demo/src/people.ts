import { randomBytes } from 'node:crypto';
import type { Sekisho } from '../../../packages/server/src/app.ts';
import { createDelegations } from '../../../packages/server/src/consent/delegations.ts';
import { createLinkedResources } from '../../../packages/server/src/identity/linked-resources.ts';

/** A generated, fictional person the demo creates, with the password printed at start. */
export interface DemoPerson {
  username: string;
  password: string;
  name: string;
  /** What the person is in the story. */
  role: string;
  id: string;
}

export interface PersonSpec {
  username: string;
  name: string;
  role: string;
  email: string;
  /** Resources at other services linked to the account (`sekisho user link`). */
  links?: Array<{ kind: string; ref: string; label: string }>;
}

/**
 * Creates the demo's people with fresh random passwords (printed, never fixed in code: a demo
 * password must not be a known string someone could try elsewhere) and links what the examples
 * hold for them.
 */
export async function createPeople(app: Sekisho, specs: PersonSpec[]): Promise<DemoPerson[]> {
  const linked = createLinkedResources(app.storage.db);
  const people: DemoPerson[] = [];
  for (const spec of specs) {
    const password = randomBytes(9).toString('base64url');
    const account = await app.accounts.create({
      username: spec.username, password,
      claims: { name: spec.name, email: spec.email, email_verified: true },
    });
    for (const link of spec.links ?? []) await linked.add({ accountId: account.id, ...link });
    people.push({ username: spec.username, password, name: spec.name, role: spec.role, id: account.id });
  }
  return people;
}

/** A parent who decides for a child (親権者), registered as an operator would after checking a document. */
export async function registerParent(app: Sekisho, parent: DemoPerson, child: DemoPerson): Promise<void> {
  await createDelegations(app.storage.db).register({
    principal: child.id, delegate: parent.id, relationship: 'parent',
    evidence: '戸籍謄本（架空） #DEMO-0003', verifiedBy: '窓口 佐藤（架空）', verifiedAt: new Date(),
    constraints: { authorizationDetailTypes: ['fhir_record_access'] }, validFrom: new Date(Date.now() - 60_000),
  });
}
