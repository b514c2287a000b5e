/**
 * What the policy admin API answers (zod schemas with same-named types, so tests and clients validate
 * them): a set's view (its record without the text, with the policies it holds), a set with its text, the
 * list, the outcome of a dry run, and a deletion. Policy errors are `{message, line?, column?, policyId?}`.
 * The limits (`/admin/v1/limits`) answer GET with the LimitsConfig itself (libs/contracts), PUT with
 * LimitsSaved, DELETE with LimitsDeleted, and a 422 with LimitsIssueView items.
 */
import { z } from 'zod';
import { PolicySetName } from '@meshgate/contracts';

/** One reason a policy set was refused. */
export const PolicyErrorView = z.object({
  message: z.string(),
  line: z.number().int().positive().optional(),
  column: z.number().int().positive().optional(),
  policyId: z.string().optional(),
});
export type PolicyErrorView = z.infer<typeof PolicyErrorView>;

/** A stored set, without its text. */
export const PolicySetView = z.object({
  name: PolicySetName,
  sha256: z.string(),
  source: z.string(),
  updatedAt: z.string(),
  /** Policies in the set (null when this replica could not compile the stored text). */
  policies: z.number().int().nonnegative().nullable(),
  /** The KV revision of the stored record. */
  revision: z.number().int().positive(),
});
export type PolicySetView = z.infer<typeof PolicySetView>;

/** `GET /admin/v1/policies/:name`: the set with its Cedar text. */
export const PolicySetDocument = PolicySetView.extend({ text: z.string() });
export type PolicySetDocument = z.infer<typeof PolicySetDocument>;

/** `GET /admin/v1/policies`: the sets the caller may manage, by name. */
export const PolicySetList = z.object({ sets: z.array(PolicySetView) });
export type PolicySetList = z.infer<typeof PolicySetList>;

/** `PUT /admin/v1/policies/:name`: what is stored now, and whether this request changed it. */
export const PolicySetSaved = PolicySetView.extend({ status: z.enum(['created', 'updated', 'unchanged']) });
export type PolicySetSaved = z.infer<typeof PolicySetSaved>;

/** `POST /admin/v1/policies/:name/validate`: the dry run's verdict. */
export const PolicySetValidation = z.object({
  name: PolicySetName,
  valid: z.boolean(),
  /** Policy ids in source order, when valid. */
  policies: z.array(z.string()),
  errors: z.array(PolicyErrorView),
  warnings: z.array(PolicyErrorView),
});
export type PolicySetValidation = z.infer<typeof PolicySetValidation>;

/** `DELETE /admin/v1/policies/:name`. */
export const PolicySetDeleted = z.object({ name: PolicySetName, deleted: z.literal(true) });
export type PolicySetDeleted = z.infer<typeof PolicySetDeleted>;

/** One reason limits were refused (a 422's `issues`): the dotted path in the document (`""`: the whole). */
export const LimitsIssueView = z.object({ path: z.string(), message: z.string() });
export type LimitsIssueView = z.infer<typeof LimitsIssueView>;

/** `PUT /admin/v1/limits`: what is stored now, and whether this request changed it. */
export const LimitsSaved = z.object({
  status: z.enum(['created', 'updated', 'unchanged']),
  /** SHA-256 of the stored limits, also the `ETag`. */
  sha256: z.string(),
  /** The KV revision of the stored limits (0: none stored, which limits nothing). */
  revision: z.number().int().nonnegative(),
  rules: z.number().int().nonnegative(),
});
export type LimitsSaved = z.infer<typeof LimitsSaved>;

/** `DELETE /admin/v1/limits`: false when no limits were stored. */
export const LimitsDeleted = z.object({ deleted: z.boolean() });
export type LimitsDeleted = z.infer<typeof LimitsDeleted>;
