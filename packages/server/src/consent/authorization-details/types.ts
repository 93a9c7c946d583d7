import type { Bilingual, CatalogueEntry } from '../catalogue.ts';
import type { Lang } from '../../ui/i18n.ts';
import type { LinkedResource } from '../../identity/linked-resources.ts';

export type { LinkedResource };

/**
 * Rich Authorization Requests (RFC 9396): what each `authorization_details` type means to Sekisho.
 * One object per type, kept in one table (registry.ts); the provider validates with it, the
 * consent screen asks with it, and My consents and the receipts describe with it.
 */

/** One thing the person may pick, e.g. one of their bank accounts. `id` is a linked resource's id, never an account number. */
/**
 * One thing a person can pick: `id` is what the form carries (random, nothing personal), `label`
 * what they see, `ref` the holder's own identifier (a FHIR Patient id, an account number), which
 * the granted detail carries so the API and the client know which record was allowed.
 */
export interface ChoiceOption { id: string; label: string; ref?: string | undefined }

/** A question the consent screen asks about one detail, e.g. "which accounts". */
export interface ChoiceGroup { name: string; label: Bilingual; multiple: boolean; min: number; options: ChoiceOption[] }

export interface AuthorizationDetailType {
  /** The RFC 9396 `type` value. */
  type: string;
  /** Short and long labels, ja and en, and whether it is sensitive (its own choice on the consent screen). */
  label: CatalogueEntry;
  /** A payment: the consent is for one use only. */
  oneTime: boolean;
  /**
   * Strict check of a requested detail: unknown members refused. Never throws. The message names
   * the member (`creditor_account.bank_code: must be 4 digits`), in ASCII without quotes so it can
   * be an OAuth `error_description` as it is (RFC 6749 §5.2); it becomes invalid_authorization_details.
   */
  validate(detail: unknown): { ok: true; detail: Record<string, unknown> } | { ok: false; message: string };
  /**
   * What the person chooses for this detail on the consent screen (e.g. which accounts), from their
   * linked resources. Empty when nothing is to be chosen. A group may come with fewer options than
   * its `min` (the person holds no such account): the detail then cannot be granted.
   */
  choices(detail: Record<string, unknown>, linked: LinkedResourceList): Promise<ChoiceGroup[]> | ChoiceGroup[];
  /**
   * HTML fragment (built with `html`) with the specifics of the requested detail in plain words
   * (which data, how much, to whom). The caller shows `label` and the choices.
   */
  render(lang: Lang, detail: Record<string, unknown>): string;
  /**
   * The heading of one requested detail when it depends on what the detail asks (e.g. "see and add
   * to your health records" when `create` is among its actions); default `label.short`.
   */
  title?(lang: Lang, detail: Record<string, unknown>): string;
  /**
   * One line of plain text (not HTML: the caller escapes it) for a granted detail, e.g.
   * "口座情報の参照（普通 ****4567）". Tolerates details stored by older versions.
   */
  summary(lang: Lang, granted: Record<string, unknown>): string;
  /**
   * The granted (enriched) detail from the person's selections per group name; undefined when the
   * selections are invalid (an id not offered, a repeated id, fewer than min, several where one is
   * allowed). Selections under names that are not one of `groups` are ignored.
   */
  grant(detail: Record<string, unknown>, selected: Record<string, string[]>, groups: ChoiceGroup[]): Record<string, unknown> | undefined;
}

/** The linked resources of one kind held by one person (bound to that person). */
export type LinkedResourceList = (kind: string) => Promise<LinkedResource[]>;
