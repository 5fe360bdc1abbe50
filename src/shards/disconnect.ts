/**
 * Why the gateway ends a connection, and how each transport says so. WebSocket close codes below
 * 4000 are RIG's (1000 with a text) or standard; 4000-4099 are ours and mean "reconnect is fine";
 * SSE streams receive a final `rig.connection.closed` event carrying the same reason before the
 * stream ends. docs/errors.md lists them.
 */
export interface Disconnect {
  /** Stable machine-readable reason, also the `reason` field of rig.connection.closed. */
  readonly reason: string;
  readonly wsCode: number;
  readonly message: string;
  /** Whether the client may reconnect right away. */
  readonly reconnect: boolean;
}

export const DISCONNECT = {
  badRequest: { reason: 'bad_request', wsCode: 1000, message: 'Bad request.', reconnect: false },
  twoWay: {
    reason: 'two_way_not_supported',
    wsCode: 1000,
    message: 'This WebSocket endpoint cannot be used for two-way communication.',
    reconnect: false,
  },
  subscriptionDenied: {
    reason: 'subscription_denied',
    wsCode: 1008,
    message: 'Subscription denied (not authorized).',
    reconnect: false,
  },
  authorizationBusy: { reason: 'authorization_busy', wsCode: 1013, message: 'The authorization service is busy; retry later.', reconnect: true },
  sessionKilled: { reason: 'session_killed', wsCode: 1000, message: 'Session killed.', reconnect: false },
  shutdown: { reason: 'shutdown', wsCode: 1001, message: 'Server shutting down.', reconnect: true },
  slowConsumer: {
    reason: 'slow_consumer',
    wsCode: 4000,
    message: 'Slow consumer: the outbound queue limit was exceeded; reconnect and read faster.',
    reconnect: true,
  },
  heartbeatTimeout: { reason: 'heartbeat_timeout', wsCode: 4001, message: 'No pong received in time.', reconnect: true },
} as const satisfies Record<string, Disconnect>;

/** Used when the subscriptions list could not be decoded (RIG closes with the decoder message). */
export function wsSetupError(message: string): Disconnect {
  return { reason: 'bad_request', wsCode: 1000, message, reconnect: false };
}
