/** Rate limits, concurrency limits and daily quotas shared by replicas through KV (issue 4). */
export {
  Limiter,
  InvalidLimitsInput,
  type LimiterOptions,
  type SharedSlots,
  type SlotAnswer,
} from './limiter';
export { Admitted, type Admission } from './admission';
export { LimitCall } from './limit-keys';
export { LimitsBucketMaxAgeMs } from './limits-bucket';
