import type { FailureBudget } from '../../application/shared/rateLimiter.js';

/** The answer of a rate limiter: go ahead, or wait this long. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface TokenBucketOptions {
  /** Tokens available at once. */
  readonly burst: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  /** Buckets kept at most; the least recently used are forgotten first. Default 100,000. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets by key (an IP, a username, an app): a burst, then a steady rate. Memory is
 * bounded: a full bucket is the same as no bucket, and the oldest keys are evicted past `maxKeys`.
 */
export class TokenBuckets implements FailureBudget {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: TokenBucketOptions) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes `cost` tokens from `key`'s bucket if it has them. */
  take(key: string, cost = 1): RateDecision {
    const bucket = this.refilled(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      this.remember(key, bucket);
      return { allowed: true };
    }
    this.remember(key, bucket);
    const missing = cost - bucket.tokens;
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil(missing / this.options.refillPerSecond)),
    };
  }

  /** Whether `key` could take `cost` tokens now, without taking them. */
  peek(key: string, cost = 1): RateDecision {
    const bucket = this.refilled(key);
    if (bucket.tokens >= cost) return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(
        1,
        Math.ceil((cost - bucket.tokens) / this.options.refillPerSecond),
      ),
    };
  }

  /** Gives back `cost` tokens taken for an attempt that turned out not to count. */
  give(key: string, cost = 1): void {
    const bucket = this.refilled(key);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + cost);
    this.remember(key, bucket);
  }

  /** Forgets a key, e.g. after a successful login. */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  private refilled(key: string): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return { tokens: this.options.burst, updatedAt: now };
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    return {
      tokens: Math.min(this.options.burst, bucket.tokens + elapsed * this.options.refillPerSecond),
      updatedAt: now,
    };
  }

  private remember(key: string, bucket: Bucket): void {
    this.buckets.delete(key); // re-insert so Map order is least-recently-used first
    if (bucket.tokens >= this.options.burst) return;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
  }
}
