/**
 * One configured hook (SUBSCRIPTION_CHECK or SUBMISSION_CHECK) and its decision for a request.
 * NO_CHECK allows without work, so the handlers' common path stays as cheap as without hooks;
 * JWT_VALIDATION allows when at least one of the request's tokens verifies and is not blacklisted;
 * a URL asks the decision service.
 */
import { checkToken, type TokenCheck } from '../../shared/jwt/check.js';
import type { Logger } from '../../shared/logger.js';
import type { CheckSetting } from './check-setting.js';
import { DecisionClient, type DecisionRequest } from './decision-client.js';

/** `busy`: the decision service already has AUTHORIZATION_CHECK_MAX_IN_FLIGHT calls open. */
export type Verdict = 'allow' | 'deny' | 'busy';

export interface CheckedRequest {
  /** The raw tokens the request carries (connect: the jwt parameter; PUT and submission: Bearer tokens). */
  readonly tokens: readonly string[];
  /** What the decision service is sent; built only when one is configured. */
  readonly describe: () => DecisionRequest;
}

export class AuthorizationCheck {
  private readonly client: DecisionClient | undefined;

  constructor(
    readonly setting: CheckSetting,
    private readonly tokenCheck: TokenCheck,
    opts: { timeoutMs: number; maxInFlight: number; log: Logger; name: string },
  ) {
    this.client = setting.kind === 'url' ? new DecisionClient(setting.url, opts) : undefined;
  }

  /** false for NO_CHECK: callers skip the check (and building its request) entirely. */
  get enabled(): boolean {
    return this.setting.kind !== 'none';
  }

  /** A decision service decides: tokens the gateway cannot verify are passed to it, not refused (RIG PR #378). */
  get external(): boolean {
    return this.setting.kind === 'url';
  }

  async decide(req: CheckedRequest): Promise<Verdict> {
    switch (this.setting.kind) {
      case 'none':
        return 'allow';
      case 'jwt':
        return (await this.anyValid(req.tokens)) ? 'allow' : 'deny';
      case 'url': {
        const pending = this.client!.ask(req.describe());
        return pending === undefined ? 'busy' : pending;
      }
    }
  }

  private async anyValid(tokens: readonly string[]): Promise<boolean> {
    for (const token of tokens) {
      try {
        await checkToken(this.tokenCheck, token);
        return true;
      } catch {
        // invalid, expired or blacklisted: try the next one
      }
    }
    return false;
  }

  close(): Promise<void> {
    return this.client?.close() ?? Promise.resolve();
  }
}
