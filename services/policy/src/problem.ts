/**
 * The policy API's problem details: the shared RFC 9457 handling of libs/http, with the stores' own errors
 * mapped (an invalid set 422 with each error and its line, invalid limits 422 with each issue and its path,
 * a set or limits changed since they were read 412, a record too large for NATS 413, unreadable stored
 * limits 409) and "the policy store" named when NATS cannot be reached.
 */
import { HttpProblem, type ProblemMapping } from '@meshgate/http';
import { InvalidLimits, LimitsChanged, LimitsTooLarge, LimitsUnreadable } from './limits-store';
import { InvalidPolicySet, PolicySetChanged, PolicySetTooLarge } from './policy-store';

/** The mapping the API app is built with (see libs/http). */
export const problemMapping: ProblemMapping = {
  domain: (err) => {
    if (err instanceof InvalidPolicySet)
      return new HttpProblem(
        422,
        `the policy set is invalid: ${err.errors.length} error(s); nothing was stored`,
        {
          errors: err.errors,
        },
      );
    if (err instanceof InvalidLimits)
      return new HttpProblem(422, `${err.message}${moreIssues(err.issues.length)}; nothing was stored`, {
        issues: err.issues,
      });
    if (err instanceof PolicySetChanged || err instanceof LimitsChanged)
      return new HttpProblem(412, err.message);
    if (err instanceof PolicySetTooLarge || err instanceof LimitsTooLarge)
      return new HttpProblem(413, err.message);
    if (err instanceof LimitsUnreadable) return new HttpProblem(409, err.message);
    return undefined;
  },
  unreachable: 'the policy store',
};

function moreIssues(count: number): string {
  return count > 1 ? ` (and ${count - 1} more issue(s))` : '';
}
